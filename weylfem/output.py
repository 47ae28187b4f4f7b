"""Writing results: an output directory that appears whole or not at all.

`OutputDirectory` stages everything in a hidden sibling folder and renames it into
place only when every file is written, so a failed run leaves no half-written
directory and never destroys the results of an earlier run.  A long, resumable run
(magnetization dynamics) writes into the visible sibling `TARGET.running` instead
(`RunDirectory`), which stays on disk when the run fails or is killed after its first
checkpoint, so that it can be resumed, and is published the same way when it finishes.
XDMF files are written collectively by all ranks; JSON, CSV and PNG files by rank 0 only.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from dolfinx import fem
from dolfinx.io import XDMFFile
from mpi4py import MPI

from weylfem import compat
from weylfem.errors import ConfigError
from weylfem.geometry import DeviceMesh


class _StagedDirectory:
    """Context manager: yields `stage`, renames it to `target` on success (rank 0) and, on
    failure, removes it unless `_keep_on_failure` says otherwise."""

    target: Path
    stage: Path
    comm: MPI.Comm

    def _keep_on_failure(self) -> bool:
        return False

    def __enter__(self) -> Path:
        return self.stage

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None:
            self.comm.barrier()
        if self.comm.rank != 0:
            return
        if error_type is None:
            _publish(self.stage, self.target)
        elif not self._keep_on_failure():
            shutil.rmtree(self.stage, ignore_errors=True)


class OutputDirectory(_StagedDirectory):
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


def _publish(stage: Path, target: Path) -> None:
    """Rename `stage` to `target`, replacing an earlier `target` (rank 0)."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        target.rename(old)
    stage.rename(target)
    shutil.rmtree(old, ignore_errors=True)


class RunDirectory(_StagedDirectory):
    """Context manager for a resumable run: yields `TARGET.running`, where the run writes
    its files as it goes, and publishes it as `target` on success.  On failure it is kept
    if it holds `CHECKPOINT` (the run can be resumed) and removed otherwise.

    A fresh run refuses to start over an interrupted one (it would lose it).  `resume`
    continues the interrupted run in `TARGET.running`, or, if there is none, a finished
    one: `target` is copied to `TARGET.running` (and replaced only when the run ends).
    """

    CHECKPOINT = "checkpoint.npz"

    def __init__(self, target: str | Path, comm: MPI.Comm, resume: bool):
        self.target = Path(target).resolve()
        self.comm = comm
        self.stage = self.target.parent / f"{self.target.name}.running"
        problem = None
        if comm.rank == 0:
            problem = self._prepare(resume)
        problem = comm.bcast(problem, root=0)
        if problem is not None:
            raise ConfigError(*problem)

    def _prepare(self, resume: bool) -> tuple[str, str, str] | None:
        """Create or find the stage (rank 0); returns a ConfigError's arguments on failure."""
        interrupted = (self.stage / self.CHECKPOINT).is_file()
        if resume:
            if interrupted:
                return None
            if (self.target / self.CHECKPOINT).is_file():
                shutil.rmtree(self.stage, ignore_errors=True)
                shutil.copytree(self.target, self.stage)
                return None
            return (
                str(self.target),
                "--resume",
                f"expected a run to resume: {self.stage / self.CHECKPOINT} or"
                f" {self.target / self.CHECKPOINT}; found neither",
            )
        if interrupted:
            return (
                str(self.stage),
                "--resume",
                "expected no interrupted run here; continue it with --resume, or delete it",
            )
        shutil.rmtree(self.stage, ignore_errors=True)
        self.stage.mkdir(parents=True)
        return None

    def _keep_on_failure(self) -> bool:
        return (self.stage / self.CHECKPOINT).is_file()


def replace_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Create or replace the file `path` as a whole: `write(file)` fills a temporary file
    next to it, which is flushed to disk (fsync) and renamed over `path` (os.replace), so
    `path` is always either the old or the complete new file.  One process only."""
    temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself reaches the disk
    finally:
        os.close(directory)


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
    space = compat.function_space(mesh, "DG", 0, expression.ufl_shape)
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


def plot_magnetization_series(path: Path, series: dict[str, np.ndarray], title: str) -> None:
    """<m>(t) and the energy of every term against time, from a magnet series (rank 0)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    time_ns = series["time_s"] * 1e9
    figure, (top, bottom) = pyplot.subplots(2, 1, sharex=True, figsize=(7, 6))
    for component in ("m_x", "m_y", "m_z"):
        top.plot(time_ns, series[component], label=f"<{component}>")
    for name, values in series.items():
        if name.startswith("E_"):
            label = name.removeprefix("E_").removesuffix("_J")
            bottom.plot(time_ns, values, label=label, linewidth=2 if label == "total" else 1)
    top.set_ylabel("average magnetization")
    bottom.set_ylabel("energy (J)")
    bottom.set_xlabel("time (ns)")
    top.legend(fontsize=8)
    bottom.legend(fontsize=8)
    top.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def offscreen_pyvista():
    """pyvista, set to render without a display: through EGL (Mesa's, on every Debian release
    and most clusters) unless a window class is chosen in VTK_DEFAULT_OPENGL_WINDOW or a
    display is set.  Without it VTK would first try an X server and print a warning."""
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista

    return pyvista


def render_png(path: Path, field: fem.Function, title: str) -> None:
    """Off-screen picture of a P1 scalar field; the pieces of all ranks drawn by rank 0."""
    comm = field.function_space.mesh.comm
    topology, cell_types, points = compat.vtk_mesh(field.function_space)
    pieces = comm.gather((topology, cell_types, points, field.x.array.real.copy()), root=0)
    if comm.rank != 0:
        return
    pyvista = offscreen_pyvista()

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
    pyvista = offscreen_pyvista()

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
