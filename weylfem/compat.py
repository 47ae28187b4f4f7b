"""The one module that knows DOLFINx version differences.

weylfem runs on DOLFINx 0.11 (Debian sid, conda-forge, the dolfinx images), 0.9 (Debian
trixie) and 0.5.2 (Debian bookworm); CI tests all three.  Every call whose spelling differs
between them goes through a function here, with the newest spelling tried first and the old
one as the fallback, so no other module branches on the DOLFINx version.
"""

from __future__ import annotations

import inspect
import logging

import dolfinx
import dolfinx.common
import dolfinx.fem
import dolfinx.fem.petsc
import dolfinx.io
import dolfinx.plot
import numpy as np

DOLFINX_VERSION: tuple[int, ...] = tuple(int(p) for p in dolfinx.__version__.split(".")[:2])
"""(major, minor) of the installed DOLFINx."""

_MODERN = DOLFINX_VERSION >= (0, 8)


def stack_versions() -> dict[str, str]:
    """Versions of the numerical stack a result was computed with (for results headers)."""
    import platform

    import gmsh
    from petsc4py import PETSc

    return {
        "dolfinx": dolfinx.__version__,
        "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gmsh": gmsh.__version__,
    }


def quiet_jit_logging() -> None:
    """Silence the per-form compiler chatter that FFCx/cffi send to the root logger.

    cffi resets the root logger to INFO during each compile, so the handlers (which FFCx
    attaches to the root logger) are raised to WARNING too."""
    logging.getLogger().setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    for name in ("ffcx", "UFL", "dolfinx", "FFCX"):
        logging.getLogger(name).setLevel(logging.WARNING)


def shared_facet_partitioner():
    """A cell partitioner (DOLFINx >= 0.8) that ghosts the cells across every shared facet.

    Interior-facet integrals (dS: interface conductances, interface areas) need both cells
    of a facet on the rank that assembles it; DOLFINx >= 0.8 partitions without such ghosts
    by default, and an interior-facet form then fails on one rank while the others wait.
    (DOLFINx 0.5 took the ghost mode at mesh creation, shared_facet by default.)"""
    from dolfinx.mesh import GhostMode, create_cell_partitioner

    try:  # DOLFINx >= 0.10: (mode, max_facet_to_cell_links)
        return create_cell_partitioner(GhostMode.shared_facet, 2)
    except TypeError:
        return create_cell_partitioner(GhostMode.shared_facet)


def model_to_mesh(model, comm, rank: int, gdim: int):
    """Distribute the gmsh model held on `rank`, with shared-facet ghosts: returns (mesh,
    cell_tags, facet_tags)."""
    try:  # DOLFINx >= 0.10
        from dolfinx.io import gmsh as gmsh_io
    except ImportError:
        from dolfinx.io import gmshio as gmsh_io

    options = {}
    if "partitioner" in inspect.signature(gmsh_io.model_to_mesh).parameters:  # >= 0.6
        options["partitioner"] = shared_facet_partitioner()
    data = gmsh_io.model_to_mesh(model, comm, rank, gdim=gdim, **options)
    if hasattr(data, "cell_tags"):  # DOLFINx >= 0.10 returns a MeshData named tuple
        return data.mesh, data.cell_tags, data.facet_tags
    return data[0], data[1], data[2]


def function_space(mesh, family: str, degree: int, shape: tuple[int, ...] = ()):
    """A (vector-valued when `shape` is given) finite-element space on `mesh`."""
    if _MODERN:
        return dolfinx.fem.functionspace(
            mesh, (family, degree, shape) if shape else (family, degree)
        )
    if shape:
        return dolfinx.fem.VectorFunctionSpace(mesh, (family, degree), dim=shape[0])
    return dolfinx.fem.FunctionSpace(mesh, (family, degree))


def interpolation_points(space) -> np.ndarray:
    """Reference interpolation points of the space's element (for fem.Expression)."""
    points = space.element.interpolation_points
    return points() if callable(points) else points


def vtk_mesh(space_or_mesh):
    """(topology, cell types, geometry) arrays for pyvista.UnstructuredGrid."""
    if hasattr(dolfinx.plot, "vtk_mesh"):
        return dolfinx.plot.vtk_mesh(space_or_mesh)
    return dolfinx.plot.create_vtk_mesh(space_or_mesh)


def write_meshtags(xdmf, tags, mesh) -> None:
    """Write mesh tags into an open XDMF file that already holds `mesh`."""
    if _MODERN:
        xdmf.write_meshtags(tags, mesh.geometry)
    else:
        xdmf.write_meshtags(tags)


def assemble_matrix(form, bcs):
    """Assembled PETSc matrix with Dirichlet rows and columns replaced by identity."""
    matrix = dolfinx.fem.petsc.assemble_matrix(form, bcs=bcs)
    matrix.assemble()
    return matrix


def assemble_matrix_into(matrix, form, bcs) -> None:
    """Assemble `form` into an existing (zeroed) matrix of the same pattern, Dirichlet rows
    and columns replaced by identity."""
    dolfinx.fem.petsc.assemble_matrix(matrix, form, bcs=bcs)
    matrix.assemble()


def create_vector(linear_form):
    """A ghosted PETSc vector laid out for the compiled linear form (for its test space)."""
    if "V" in inspect.signature(dolfinx.fem.petsc.create_vector).parameters:  # >= 0.10
        return dolfinx.fem.petsc.create_vector(linear_form.function_spaces[0])
    return dolfinx.fem.petsc.create_vector(linear_form)


def petsc_vector(function):
    """The PETSc vector that holds a Function's values (ghosted; owned values first)."""
    x = function.x
    return x.petsc_vec if hasattr(x, "petsc_vec") else function.vector


def locate_dofs_topological(space, dim: int, entities: np.ndarray) -> np.ndarray:
    """Dofs of `space` on the given local entities of dimension `dim` (cells included:
    DOLFINx >= 0.9 needs the entity-to-cell connectivity, which is made here)."""
    topology = space.mesh.topology
    topology.create_connectivity(dim, topology.dim)
    return dolfinx.fem.locate_dofs_topological(space, dim, entities)


def geometric_dimension(domain) -> int:
    """The geometric dimension of a UFL domain (a property in ufl >= 2025, a method before)."""
    dimension = domain.geometric_dimension
    return dimension() if callable(dimension) else dimension


def assemble_vector_into(vector, linear_form) -> None:
    """vector := L(v) (zeroed first), ghost contributions added to their owners."""
    from petsc4py import PETSc

    with vector.localForm() as local:
        local.set(0.0)
    dolfinx.fem.petsc.assemble_vector(vector, linear_form)
    vector.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)


def assemble_rhs(vector, linear_form, bilinear_form, bcs, with_linear: bool = True) -> None:
    """vector := the right-hand side of a(u, v) = L(v) with Dirichlet conditions `bcs`: L
    assembled (or zero when `with_linear` is False), lifted by the Dirichlet values, ghost
    contributions added to their owners once, and the Dirichlet values set."""
    from petsc4py import PETSc

    with vector.localForm() as local:
        local.set(0.0)
    if with_linear:
        dolfinx.fem.petsc.assemble_vector(vector, linear_form)
    dolfinx.fem.petsc.apply_lifting(vector, [bilinear_form], bcs=[bcs])
    vector.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    dolfinx.fem.petsc.set_bc(vector, bcs)


def cell_diameters(mesh, cells: np.ndarray) -> np.ndarray:
    """Largest vertex-to-vertex distance of each given cell (its longest edge for simplices)."""
    dim = mesh.topology.dim
    if hasattr(mesh, "h"):
        return mesh.h(dim, cells)
    return dolfinx.cpp.mesh.h(getattr(mesh, "_mesh", mesh), dim, cells)


def entity_vtk_mesh(mesh, dim: int, entities: np.ndarray):
    """(topology, cell types, geometry) of some mesh entities of dimension `dim`, for pyvista."""
    if hasattr(dolfinx.plot, "vtk_mesh"):
        return dolfinx.plot.vtk_mesh(mesh, dim, entities)
    return dolfinx.plot.create_vtk_mesh(mesh, dim, entities)


def cell_midpoints(mesh, cells: np.ndarray) -> np.ndarray:
    """Midpoints (n, 3) of the given cells."""
    return dolfinx.mesh.compute_midpoints(mesh, mesh.topology.dim, cells)


def input_node_indices(space) -> np.ndarray:
    """For every local node (block) of a P1 space on a P1 mesh, the index of its mesh node
    as the mesh was read (gmsh's numbering): the same for any partition of the mesh."""
    mesh = space.mesh
    dofs, nodes = _cell_rows(space.dofmap.list), _cell_rows(_geometry_dofmap(mesh.geometry))
    index_map = space.dofmap.index_map
    indices = np.empty(index_map.size_local + index_map.num_ghosts, dtype=np.int64)
    indices[dofs.ravel()] = np.asarray(mesh.geometry.input_global_indices)[nodes.ravel()]
    return indices


def cell_dofs(space) -> np.ndarray:
    """The dofs (blocks) of every local cell of `space`, a (cells, dofs per cell) array."""
    return _cell_rows(space.dofmap.list)


def cell_entities(topology, dim: int) -> np.ndarray:
    """The local entities of dimension `dim` of every local cell (made if needed), a
    (cells, entities per cell) array in the reference cell's order (for a simplex, entity
    i of dimension tdim - 1 is the facet opposite vertex i)."""
    topology.create_connectivity(topology.dim, dim)
    return _cell_rows(topology.connectivity(topology.dim, dim))


def _geometry_dofmap(geometry):
    """The cell-to-node map of the mesh geometry (`dofmaps[0]` from DOLFINx 0.10 on)."""
    dofmaps = getattr(geometry, "dofmaps", None)
    if isinstance(dofmaps, list | tuple):
        return dofmaps[0]
    return geometry.dofmap


def cell_dof_rows(space) -> np.ndarray:
    """The dofs of every local cell of `space`, one row per cell."""
    return _cell_rows(space.dofmap.list)


def _cell_rows(dofmap) -> np.ndarray:
    """A cell-to-node map as a 2D array (an AdjacencyList before DOLFINx 0.8)."""
    if isinstance(dofmap, np.ndarray):
        return dofmap
    return dofmap.array.reshape(-1, len(dofmap.links(0)))


def colliding_cells(mesh, points: np.ndarray) -> np.ndarray:
    """For each point (rows of an (n, 3) array), a local cell of the affine simplex mesh
    containing it (to 1e-9 in barycentric coordinates), or -1 where none of this rank's
    cells does.  The bounding-box search is DOLFINx's; the containment test is done here,
    since DOLFINx 0.5's `compute_colliding_cells` misses interior points of meshes in
    micrometre-sized SI coordinates (its distance tolerance is absolute)."""
    import dolfinx.geometry as geometry

    dim = mesh.topology.dim
    if hasattr(geometry, "bb_tree"):
        candidates = geometry.compute_collisions_points(geometry.bb_tree(mesh, dim), points)
    else:
        candidates = geometry.compute_collisions(geometry.BoundingBoxTree(mesh, dim), points)
    nodes = _cell_rows(_geometry_dofmap(mesh.geometry))
    coordinates = mesh.geometry.x[:, :dim]
    cells = np.full(len(points), -1, dtype=np.int32)
    for i, point in enumerate(points):
        for cell in candidates.links(i):
            vertices = coordinates[nodes[cell, : dim + 1]]
            edges = (vertices[1:] - vertices[0]).T
            weights = np.linalg.solve(edges, point[:dim] - vertices[0])
            if weights.min() >= -1e-9 and weights.sum() <= 1 + 1e-9:
                cells[i] = cell
                break
    return cells


def timer(name: str) -> dolfinx.common.Timer:
    """The DOLFINx timer `name`, to be used as a context manager: the enclosed block's
    wall time is added to the process-wide total of `name` on exit (DOLFINx 0.11 registers
    a Timer only when it is stopped; 0.9 measures in 10 ms steps)."""
    return dolfinx.common.Timer(name)


def timer_seconds(name: str) -> float:
    """Wall seconds recorded so far by the DOLFINx timers `name` in this process (0 if
    none ran yet).  0.5 and 0.9 report (count, wall, user, system) in seconds, 0.11
    (count, timedelta)."""
    try:
        wall = dolfinx.common.timing(name)[1]
    except RuntimeError:  # no timer of that name ran yet
        return 0.0
    return wall.total_seconds() if hasattr(wall, "total_seconds") else float(wall)
