"""Field writers: XDMF (collective: mesh, region and boundary tags, time-stamped
fields)."""

from __future__ import annotations

from pathlib import Path

from dolfinx import fem
from dolfinx.io import XDMFFile

from weylfem import compat
from weylfem.geometry import DeviceMesh


class FieldFile:
    """An XDMF file holding the mesh, its region and boundary tags (written once), and
    fields (P1 or DG0), optionally at several times.  A context manager; collective.
    `append` reopens an existing file of the same mesh to add more times."""

    def __init__(self, path: Path, device_mesh: DeviceMesh, append: bool = False):
        mesh = device_mesh.mesh
        self.xdmf = XDMFFile(mesh.comm, str(path), "a" if append else "w")
        if append:
            return
        self.xdmf.write_mesh(mesh)
        device_mesh.cell_tags.name = "regions"
        device_mesh.facet_tags.name = "boundaries"
        compat.write_meshtags(self.xdmf, device_mesh.cell_tags, mesh)
        compat.write_meshtags(self.xdmf, device_mesh.facet_tags, mesh)

    def write(self, fields: list[fem.Function], time_s: float = 0.0) -> None:
        """Append the (named) fields at `time_s`."""
        for field in fields:
            self.xdmf.write_function(field, time_s)

    def close(self) -> None:
        """Finish the file."""
        self.xdmf.close()

    def __enter__(self) -> FieldFile:
        return self

    def __exit__(self, *error) -> None:
        self.close()


def xdmf_times(path: Path, name: str) -> list[float]:
    """The times at which an XDMF file holds the field `name` (read on the calling rank)."""
    from xml.etree import ElementTree

    grids = ElementTree.parse(path).getroot().iter("Grid")
    collection = next((g for g in grids if g.get("Name") == name), None)
    if collection is None:
        return []
    return [float(time.get("Value")) for time in collection.iter("Time")]


def write_xdmf(path: Path, device_mesh: DeviceMesh, fields: list[fem.Function]) -> None:
    """Mesh, region and boundary tags, and the fields (P1 or DG0) in one XDMF file."""
    with FieldFile(path, device_mesh) as file:
        file.write(fields)
