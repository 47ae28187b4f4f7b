"""Read a finished run's field files (the single-grid XDMF views of
`weylfem.output.writers` and their HDF5 data) into plain arrays with h5py, without
DOLFINx: h5py's HDF5 library and DOLFINx's must not meet in one process (the PyPI h5py
wheel crashes there), so `weylfem plot` never imports DOLFINx."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from weylfem.output.device_arrays import DeviceArrays, canonical, metres_per_unit

NODES_PER_TOPOLOGY = {"Triangle": 3, "Tetrahedron": 4, "Quadrilateral": 4, "PolyLine": 2}


def _data(item: ElementTree.Element, directory: Path) -> np.ndarray:
    """The array of an XDMF DataItem (HDF or XML)."""
    import h5py

    shape = tuple(int(n) for n in item.get("Dimensions").split())
    text = item.text.strip()
    if item.get("Format") == "HDF":
        file, dataset = text.split(":", 1)
        with h5py.File(directory / file, "r") as handle:
            return np.asarray(handle[dataset][...]).reshape(shape)
    return np.array(text.split(), dtype=float).reshape(shape)


def _last_grid(path: Path) -> ElementTree.Element:
    """The uniform grid of a view, or the last one of its time collection."""
    domain = ElementTree.parse(path).getroot().find("Domain")
    grid = domain.find("Grid")
    if grid.get("GridType") == "Collection":
        grid = grid.findall("Grid")[-1]
    return grid


class GridArrays:
    """Points (metres), cells and the point and cell arrays of one grid of a view."""

    def __init__(self, path: Path):
        path = Path(path)
        grid = _last_grid(path)
        topology = grid.find("Topology")
        self.cell_type = topology.get("TopologyType")
        self.cells = _data(topology.find("DataItem"), path.parent).astype(np.int64)
        points = _data(grid.find("Geometry").find("DataItem"), path.parent)
        self.points = np.zeros((len(points), 3))
        self.points[:, : points.shape[1]] = points
        self.point_data: dict[str, np.ndarray] = {}
        self.cell_data: dict[str, np.ndarray] = {}
        for attribute in grid.findall("Attribute"):
            values = _data(attribute.find("DataItem"), path.parent)
            if values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
            target = self.point_data if attribute.get("Center") == "Node" else self.cell_data
            target[attribute.get("Name")] = values


def read_device_arrays(
    field_file: Path, boundaries_file: Path, dimension: int, length_unit: str
) -> tuple[DeviceArrays, GridArrays]:
    """The device arrays of a field file and its boundaries file (group names and
    contacts are left to the caller), and the field file's grid (its arrays)."""
    grid = GridArrays(field_file)
    facets = np.zeros((0, dimension), dtype=np.int64)
    tags = np.zeros(0, dtype=np.int64)
    if Path(boundaries_file).is_file():
        boundaries = GridArrays(boundaries_file)
        facets = boundaries.cells
        tags = np.rint(boundaries.cell_data["boundaries"]).astype(np.int64)
    facets, tags = canonical(facets, tags)
    regions = np.rint(grid.cell_data.get("regions", np.zeros(len(grid.cells)))).astype(np.int64)
    device = DeviceArrays(
        points=grid.points / metres_per_unit(length_unit),
        cells=grid.cells,
        regions=regions,
        facets=facets,
        facet_tags=tags,
        dimension=dimension,
        length_unit=length_unit,
    )
    return device, grid
