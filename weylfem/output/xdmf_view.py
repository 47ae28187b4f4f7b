"""The single-grid layout of weylfem's XDMF files, made from the XML DOLFINx writes.

DOLFINx's XDMFFile writes every function as its own temporal collection of grids that
share the mesh (8 overlapping blocks for one transport run), which ParaView shows as a
multiblock and meshio cannot read.  The heavy data (mesh, tags, function values) stays
in the HDF5 file DOLFINx writes collectively; rank 0 then rewrites the small XML file
(`single_grid_view`) so that it holds

- for one time (a steady run, a mesh): one uniform grid carrying every point and cell
  array (``meshio.read`` reads it);
- for several times: one temporal collection of uniform grids, one per time, each with
  the mesh and every array of that time (``meshio.xdmf.TimeSeriesReader`` reads it);

arrays written once (the region tags) are attached to every time.  The facet tags go
into a second file of one grid (`boundaries_view`), since a grid has one cell type.
DOLFINx's own XML is kept, base64-encoded, in a comment of the view (`raw_of_view`),
so that a file can be reopened by DOLFINx to append more times.  Nothing here depends on
the DOLFINx version: only the XDMF elements Grid, Topology, Geometry, Time and
Attribute are read.
"""

from __future__ import annotations

import base64
import copy
import zlib
from xml.etree import ElementTree

RAW_PREFIX = " weylfem: DOLFINx XDMF (zlib, base64): "
"""Start of the comment that holds DOLFINx's XML inside a view."""


def _grids(domain: ElementTree.Element) -> list[ElementTree.Element]:
    return [child for child in domain if child.tag == "Grid"]


def _mesh_grid(domain: ElementTree.Element, mesh_name: str) -> ElementTree.Element:
    for grid in _grids(domain):
        if grid.get("Name") == mesh_name and grid.find("Topology") is not None:
            return grid
    raise ValueError(f"no mesh grid {mesh_name!r} in the XDMF file")


def timed_attributes(
    domain: ElementTree.Element,
) -> list[tuple[float, list[ElementTree.Element]]]:
    """(time, attributes) of DOLFINx's function collections, merged by time, in order."""
    by_time: dict[float, list[ElementTree.Element]] = {}
    for collection in _grids(domain):
        if collection.get("GridType") != "Collection":
            continue
        for grid in _grids(collection):
            time = grid.find("Time")
            value = float(time.get("Value")) if time is not None else 0.0
            by_time.setdefault(value, []).extend(grid.findall("Attribute"))
    return sorted(by_time.items())


def single_grid_view(raw: str, mesh_name: str, static: tuple[str, ...], name: str) -> str:
    """The XML of the view of DOLFINx's XDMF text `raw`: the mesh `mesh_name` with every
    attribute; the attributes `static` (written once, at the first time) are attached
    to every time.  `name` names the grid or collection."""
    root = ElementTree.fromstring(raw)
    domain = root.find("Domain")
    mesh = _mesh_grid(domain, mesh_name)
    topology, geometry = mesh.find("Topology"), mesh.find("Geometry")
    times = timed_attributes(domain)
    fixed: dict[str, ElementTree.Element] = {}
    for _, attributes in times:
        for attribute in attributes:
            if attribute.get("Name") in static:
                fixed.setdefault(attribute.get("Name"), attribute)
    varying = [
        (time, [a for a in attributes if a.get("Name") not in static]) for time, attributes in times
    ]
    varying = [(time, attributes) for time, attributes in varying if attributes] or [(0.0, [])]

    view = ElementTree.Element("Xdmf", Version="3.0")
    view_domain = ElementTree.SubElement(view, "Domain")

    def grid(parent: ElementTree.Element, grid_name: str, time: float | None, attributes):
        element = ElementTree.SubElement(parent, "Grid", Name=grid_name, GridType="Uniform")
        element.append(copy.deepcopy(topology))
        element.append(copy.deepcopy(geometry))
        if time is not None:
            ElementTree.SubElement(element, "Time", Value=repr(time))
        for attribute in (*fixed.values(), *attributes):
            element.append(copy.deepcopy(attribute))

    if len(varying) == 1:
        grid(view_domain, name, None, varying[0][1])
    else:
        collection = ElementTree.SubElement(
            view_domain, "Grid", Name=name, GridType="Collection", CollectionType="Temporal"
        )
        for i, (time, attributes) in enumerate(varying):
            grid(collection, f"{name}_{i}", time, attributes)
    return _text(view, raw)


def boundaries_view(raw: str, mesh_name: str, tags_name: str) -> str | None:
    """A file of one grid: the facets tagged `tags_name` (a DOLFINx meshtags grid of
    `raw`) with their tags as cell data; None if `raw` has no such grid."""
    domain = ElementTree.fromstring(raw).find("Domain")
    tags = next((g for g in _grids(domain) if g.get("Name") == tags_name), None)
    if tags is None:
        return None
    geometry = _mesh_grid(domain, mesh_name).find("Geometry")
    view = ElementTree.Element("Xdmf", Version="3.0")
    grid = ElementTree.SubElement(
        ElementTree.SubElement(view, "Domain"), "Grid", Name=tags_name, GridType="Uniform"
    )
    grid.append(copy.deepcopy(tags.find("Topology")))
    grid.append(copy.deepcopy(geometry))
    for attribute in tags.findall("Attribute"):
        grid.append(copy.deepcopy(attribute))
    return _text(view, None)


def _text(view: ElementTree.Element, raw: str | None) -> str:
    ElementTree.indent(view)
    text = '<?xml version="1.0"?>\n'
    if raw is not None:
        packed = base64.b64encode(zlib.compress(raw.encode())).decode()
        text += f"<!--{RAW_PREFIX}{packed} -->\n"
    return text + ElementTree.tostring(view, encoding="unicode") + "\n"


def raw_of_view(text: str) -> str | None:
    """DOLFINx's XML kept in a view (None if `text` is not a view)."""
    start = text.find(RAW_PREFIX)
    if start < 0:
        return None
    start += len(RAW_PREFIX)
    end = text.index(" -->", start)
    return zlib.decompress(base64.b64decode(text[start:end])).decode()


def view_times(text: str, attribute: str) -> list[float]:
    """The times at which a view (or DOLFINx's own XML) holds `attribute`."""
    raw = raw_of_view(text) or text
    domain = ElementTree.fromstring(raw).find("Domain")
    return [
        time
        for time, attributes in timed_attributes(domain)
        if any(a.get("Name") == attribute for a in attributes)
    ]
