"""Field writers: XDMF files that ParaView and meshio open as one dataset (collective).

DOLFINx writes the mesh, the facet tags and every field into the HDF5 file collectively;
on closing, rank 0 rewrites the XML (`weylfem.output.xdmf_view`): one grid per time
carrying every field and the region tags (``regions``, cell data), and a second file
``<name>_boundaries.xdmf`` with the tagged facets (``boundaries``, cell data).
"""

from __future__ import annotations

from pathlib import Path

from dolfinx import fem
from dolfinx.io import XDMFFile

from weylfem import compat
from weylfem.geometry import DeviceMesh
from weylfem.output.staging import replace_atomically
from weylfem.output.xdmf_view import boundaries_view, raw_of_view, single_grid_view, view_times

REGIONS = "regions"
"""Cell data: the region tag of every cell (device_mesh.cell_groups names them)."""
BOUNDARIES = "boundaries"
"""Cell data of the boundaries file: the facet tag (device_mesh.facet_groups)."""


def boundaries_path(path: Path) -> Path:
    """The file of the tagged facets that goes with the field file `path`."""
    return path.with_name(f"{path.stem}_boundaries.xdmf")


def region_field(device_mesh: DeviceMesh) -> fem.Function:
    """The region tag of every cell as a cellwise (DG0) field named `REGIONS`."""
    space = compat.function_space(device_mesh.mesh, "DG", 0)
    field = fem.Function(space, name=REGIONS)
    tags = device_mesh.cell_tags
    dofs = compat.cell_dof_rows(space)[:, 0]
    field.x.array[:] = 0.0
    field.x.array[dofs[tags.indices]] = tags.values
    return field


class FieldFile:
    """An XDMF file holding the mesh, its region and boundary tags (written once), and
    fields (P1 or DG0), optionally at several times.  A context manager; collective.
    `append` reopens an existing file of the same mesh to add more times."""

    def __init__(self, path: Path, device_mesh: DeviceMesh, append: bool = False):
        mesh = device_mesh.mesh
        self.path, self.comm, self.mesh_name = Path(path), mesh.comm, mesh.name
        if append and self.comm.rank == 0:  # DOLFINx appends to its own XML
            raw = raw_of_view(self.path.read_text())
            if raw is not None:
                replace_atomically(self.path, lambda file: file.write(raw.encode()))
        self.comm.barrier()
        self.xdmf = XDMFFile(mesh.comm, str(path), "a" if append else "w")
        if append:
            return
        self.xdmf.write_mesh(mesh)
        device_mesh.facet_tags.name = BOUNDARIES
        compat.write_meshtags(self.xdmf, device_mesh.facet_tags, mesh)
        self.xdmf.write_function(region_field(device_mesh), 0.0)

    def write(self, fields: list[fem.Function], time_s: float = 0.0) -> None:
        """Append the (named) fields at `time_s`."""
        for field in fields:
            self.xdmf.write_function(field, time_s)

    def close(self) -> None:
        """Finish the file: DOLFINx's XML rewritten as one grid per time (rank 0)."""
        if self.xdmf is None:
            return
        self.xdmf.close()
        self.xdmf = None
        if self.comm.rank == 0:
            raw = self.path.read_text()
            view = single_grid_view(raw, self.mesh_name, (REGIONS,), self.path.stem)
            replace_atomically(self.path, lambda file: file.write(view.encode()))
            facets = boundaries_view(raw, self.mesh_name, BOUNDARIES)
            if facets is not None:
                target = boundaries_path(self.path)
                replace_atomically(target, lambda file: file.write(facets.encode()))
        self.comm.barrier()

    def __enter__(self) -> FieldFile:
        return self

    def __exit__(self, *error) -> None:
        self.close()


def xdmf_times(path: Path, name: str) -> list[float]:
    """The times at which an XDMF file holds the field `name` (read on the calling rank)."""
    return view_times(Path(path).read_text(), name)


def write_xdmf(path: Path, device_mesh: DeviceMesh, fields: list[fem.Function]) -> None:
    """Mesh, region and boundary tags, and the fields (P1 or DG0) in one XDMF file."""
    with FieldFile(path, device_mesh) as file:
        file.write(fields)


def field_file_names(name: str) -> list[str]:
    """The files a field file `name` (e.g. "fields.xdmf") consists of."""
    path = Path(name)
    return [name, path.with_suffix(".h5").name, boundaries_path(path).name]
