"""Writing results: an output directory that appears whole or not at all.

`OutputDirectory` stages everything in a hidden sibling folder and renames it into
place only when every file is written, so a failed run leaves no half-written
directory and never destroys the results of an earlier run.  XDMF files are written
collectively by all ranks; JSON and PNG files by rank 0 only.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
from dolfinx import fem
from dolfinx.io import XDMFFile
from mpi4py import MPI

from weylfem import compat
from weylfem.geometry import DeviceMesh


class OutputDirectory:
    """Context manager: yields a staging path; publishes it as `target` on success."""

    def __init__(self, target: str | Path, comm: MPI.Comm):
        self.target = Path(target).resolve()
        self.comm = comm
        stage = None
        if comm.rank == 0:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            stage = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"
            shutil.rmtree(stage, ignore_errors=True)
            stage.mkdir()
        self.stage = Path(comm.bcast(str(stage) if stage else None, root=0))

    def __enter__(self) -> Path:
        return self.stage

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None:
            self.comm.barrier()
        if self.comm.rank != 0:
            return
        if error_type is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            return
        old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
        if self.target.exists():
            self.target.rename(old)
        self.stage.rename(self.target)
        shutil.rmtree(old, ignore_errors=True)


def write_json(path: Path, data: dict, comm: MPI.Comm) -> None:
    """Write `data` as indented JSON from rank 0."""
    if comm.rank == 0:
        path.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n")


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def cellwise_vector(expression, mesh, name: str) -> fem.Function:
    """Interpolate a vector UFL expression into a DG0 field (value at cell midpoints)."""
    space = compat.function_space(mesh, "DG", 0, (mesh.geometry.dim,))
    field = fem.Function(space, name=name)
    field.interpolate(fem.Expression(expression, compat.interpolation_points(space)))
    return field


def cellwise_scalar(expression, mesh, name: str) -> fem.Function:
    """Interpolate a scalar UFL expression into a DG0 field (value at cell midpoints)."""
    space = compat.function_space(mesh, "DG", 0)
    field = fem.Function(space, name=name)
    field.interpolate(fem.Expression(expression, compat.interpolation_points(space)))
    return field


def plot_four_probe(path: Path, results: dict, comm: MPI.Comm) -> None:
    """Bar chart (rank 0) of the named four-probe resistances of a run, log scale."""
    if comm.rank != 0:
        return
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = list(results["nonlocal_resistances_ohm"])
    values = np.array([results["nonlocal_resistances_ohm"][n] for n in names])
    figure, axes = pyplot.subplots(figsize=(1.2 * len(names) + 3, 4))
    colours = ["#4c72b0" if v >= 0 else "#c44e52" for v in values]
    axes.bar(names, np.abs(values), color=colours)
    axes.set_yscale("log")
    axes.set_ylabel("|R| (ohm); red: negative")
    axes.set_title(f"{results['device']}: four-probe resistances")
    axes.tick_params(axis="x", labelrotation=30)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def nodal(function: fem.Function, name: str) -> fem.Function:
    """The function in P1 (what XDMF and VTK plotting take), interpolated if needed."""
    mesh = function.function_space.mesh
    p1 = compat.function_space(mesh, "Lagrange", 1)
    if function.function_space.ufl_element() == p1.ufl_element():
        function.name = name
        return function
    result = fem.Function(p1, name=name)
    result.interpolate(function)
    return result


class FieldFile:
    """An XDMF file holding the mesh, its region and boundary tags (written once), and
    fields (P1 or DG0), optionally at several times.  A context manager; collective."""

    def __init__(self, path: Path, device_mesh: DeviceMesh):
        mesh = device_mesh.mesh
        self.xdmf = XDMFFile(mesh.comm, str(path), "w")
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


def write_xdmf(path: Path, device_mesh: DeviceMesh, fields: list[fem.Function]) -> None:
    """Mesh, region and boundary tags, and the fields (P1 or DG0) in one XDMF file."""
    with FieldFile(path, device_mesh) as file:
        file.write(fields)


def write_series_csv(path: Path, series, comm: MPI.Comm) -> None:
    """Contact voltages and currents against time as CSV (rank 0)."""
    if comm.rank != 0:
        return
    header = ["time_s"]
    for name in series.contact_order:
        header += [f"{name}_voltage_V", f"{name}_current_A"]
    columns = [series.times_s]
    for i in range(len(series.contact_order)):
        columns += [series.voltages_V[:, i], series.currents_A[:, i]]
    np.savetxt(
        path,
        np.column_stack(columns),
        delimiter=",",
        header=",".join(header),
        comments="",
        fmt="%.12e",
    )


def plot_series(path: Path, series, title: str, comm: MPI.Comm) -> None:
    """Contact voltages and currents against time (rank 0)."""
    if comm.rank != 0:
        return
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (top, bottom) = pyplot.subplots(2, 1, sharex=True, figsize=(7, 6))
    for i, name in enumerate(series.contact_order):
        top.plot(series.times_s, series.voltages_V[:, i], label=name)
        bottom.plot(series.times_s, series.currents_A[:, i], label=name)
    top.set_ylabel("voltage (V)")
    bottom.set_ylabel("current into device (A)")
    bottom.set_xlabel("time (s)")
    top.legend(fontsize=8)
    top.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def render_png(path: Path, field: fem.Function, title: str) -> None:
    """Off-screen picture of a P1 scalar field; the pieces of all ranks drawn by rank 0."""
    comm = field.function_space.mesh.comm
    topology, cell_types, points = compat.vtk_mesh(field.function_space)
    pieces = comm.gather((topology, cell_types, points, field.x.array.real.copy()), root=0)
    if comm.rank != 0:
        return
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
    import pyvista

    grids = []
    for topology, cell_types, points, values in pieces:
        grid = pyvista.UnstructuredGrid(topology, cell_types, points)
        grid.point_data[field.name] = values
        grids.append(grid)
    grid = grids[0].merge(grids[1:]) if len(grids) > 1 else grids[0]
    plotter = pyvista.Plotter(off_screen=True, window_size=(1200, 600))
    plotter.add_mesh(
        grid,
        scalars=field.name,
        show_edges=grid.n_cells <= 5000,  # edges of a fine mesh would blacken the picture
        cmap="viridis",
        scalar_bar_args={"title": title, "fmt": "%.3g", "vertical": True},
    )
    plotter.show_axes()
    extent = np.ptp(grid.points, axis=0)
    if extent[2] > 0.2 * max(extent[0], extent[1]):
        plotter.view_isometric()
    else:  # flat devices (2D, films, long strips): seen from above
        plotter.view_xy()
    plotter.camera.zoom(1.4)
    plotter.screenshot(str(path))
    plotter.close()


def render_mesh_preview(path: Path, device_mesh: DeviceMesh, title: str) -> None:
    """Off-screen picture of the mesh: regions and named boundaries coloured and labelled."""
    mesh = device_mesh.mesh
    comm = mesh.comm
    dim = mesh.topology.dim
    pieces = []
    for dimension, tags, groups in (
        (dim, device_mesh.cell_tags, device_mesh.cell_groups),
        (dim - 1, device_mesh.facet_tags, device_mesh.facet_groups),
    ):
        for name, value in groups.items():
            entities = tags.indices[tags.values == value]
            pieces.append((dimension, name, compat.entity_vtk_mesh(mesh, dimension, entities)))
    gathered = comm.gather(pieces, root=0)
    if comm.rank != 0:
        return
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
    import pyvista

    by_name: dict[tuple[int, str], list] = {}
    for rank_pieces in gathered:
        for dimension, name, arrays in rank_pieces:
            if len(arrays[1]):
                by_name.setdefault((dimension, name), []).append(pyvista.UnstructuredGrid(*arrays))
    plotter = pyvista.Plotter(off_screen=True, window_size=(1400, 800))
    colours = iter(
        [
            "#4c72b0",
            "#dd8452",
            "#55a868",
            "#c44e52",
            "#8172b3",
            "#937860",
            "#da8bc3",
            "#8c8c8c",
            "#ccb974",
            "#64b5cd",
        ]
        * 10
    )
    label_points, labels = [], []
    # Draw in units of the device size: VTK's label placement fails at micrometre scale.
    extent = max(max(g.length for g in grids) for grids in by_name.values())
    for (dimension, name), grids in by_name.items():
        grid = grids[0].merge(grids[1:]) if len(grids) > 1 else grids[0]
        grid.points = grid.points / extent  # a new array: the pieces share DOLFINx geometry
        is_region = dimension == dim
        if name == "walls" and not is_region:
            continue
        plotter.add_mesh(
            grid,
            color=next(colours),
            show_edges=is_region,
            opacity=0.25 if is_region and dim == 3 else 1.0,
            line_width=4 if dimension == 1 else 1,
            lighting=is_region,
            label=name,
        )
        label_points.append(grid.cell_centers().points.mean(axis=0))
        labels.append(name)
    plotter.add_point_labels(
        label_points, labels, font_size=14, point_size=1, shape_opacity=0.6, always_visible=True
    )
    plotter.add_legend(bcolor="white", size=(0.15, 0.04 * len(labels)))
    plotter.add_text(title, font_size=10)
    plotter.show_axes()
    points = gathered[0][0][2][2] if gathered[0] else np.zeros((1, 3))
    if dim == 3 and np.ptp(points[:, 2]) > 0:
        plotter.view_isometric()
    else:
        plotter.view_xy()
    plotter.screenshot(str(path))
    plotter.close()
