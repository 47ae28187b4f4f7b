"""Off-screen pictures of fields and meshes with pyvista/VTK (EGL, no display needed); the
pieces of all ranks are drawn by rank 0."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from dolfinx import fem

from weylfem import compat
from weylfem.geometry import DeviceMesh


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
