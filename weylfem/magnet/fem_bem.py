"""Demagnetization by the hybrid FEM-BEM method of Fredkin and Koehler (IEEE Trans. Magn.
26, 415 (1990)), on the magnet alone: no air, no truncation.

The scalar potential u of H_d = -grad u (div grad u = div(M_s m) in all space, u -> 0 at
infinity) is split as u = u1 + u2 on the magnetic cells Omega with boundary Gamma:

1. u1 solves the Neumann problem  int_Omega grad u1 . grad v = int_Omega M_s m . grad v
   (u1 = 0 outside, so u1 carries the jump M_s m.n of du/dn across Gamma); it is fixed up
   to a constant on each connected piece of the magnet, pinned here to 0 at one node of
   each piece;
2. u2 is harmonic inside and outside with the jump u1 across Gamma and no jump of its
   normal derivative: the double-layer potential of u1, whose values on Gamma are
   u2 = B u1 with the nodal matrix B of `weylfem.magnet.double_layer` (Lindholm's
   closed-form P1 collocation; B's rows sum to -1, so the constants u1 is fixed up to
   cancel in u), dense or an H-matrix (`weylfem.magnet.hmatrix`);
3. u2 inside is the harmonic extension of those values: int grad u2 . grad v = 0 with
   u2 = B u1 on Gamma.

Every operator is built once: the stiffness matrices of the two Poisson problems (u1 with
the pinned nodes, u2 with Gamma as Dirichlet nodes) and their solvers, the matrix D of
the right side int M_s m . grad v (applied to m's coefficients), the matrix of the weak
field -mu_0 int M_s grad u . phi, and B, distributed by rows: each rank holds the rows of
the surface nodes it owns (dense: 8 N_Gamma^2 bytes in all; an H-matrix: about
N_Gamma log N_Gamma), and one evaluation is two solves, one allgather of u1 on Gamma and
one local matvec.

The method gives the field in the magnet only: outside it `induction` is zero (the stray
field would need the double-layer and single-layer potentials evaluated off Gamma).  A
coupled device whose non-magnetic conductors must feel the magnet's stray field needs
the "open_boundary" demagnetization.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import ufl
from dolfinx import fem
from mpi4py import MPI
from petsc4py import PETSc

from weylfem import compat
from weylfem.constants import VACUUM_PERMEABILITY
from weylfem.geometry import DeviceMesh
from weylfem.magnet.coefficients import MagnetCoefficients
from weylfem.magnet.double_layer import DoubleLayerBlocks, double_layer_matrix, surface_is_closed
from weylfem.magnet.energy import SolvedDemagnetization, gradient3
from weylfem.magnet.hmatrix import HMatrix
from weylfem.solvers import LinearSolver, choose_kind, iterative_spd_options, solver_description

BUILD_TIMER = "weylfem: boundary matrix build"
"""DOLFINx timer of the construction of B"""
APPLY_TIMER = "weylfem: boundary matrix apply"
"""DOLFINx timer of the allgather of u1 on Gamma and the product with B"""
HMATRIX_MIN_NODES = 4000
"""Surface nodes from which boundary_matrix = "auto" builds an H-matrix (measured: the SP4
film at 6 348 nodes stores 23% of the dense bytes and multiplies 6x faster, built in about
the dense time; a sphere of 1 667 nodes would store 1.4 times the dense bytes)."""
POTENTIAL_DIRECT_MAX_DOFS = {3: 100_000}
"""Largest magnet (nodes) whose potentials `kind = "auto"` factorizes: one factorization
serves every field evaluation of a run, so the limit is above the transport's 3D one.
Measured on the SP4 film in 3 layers (serial): 12 196 nodes, Cholesky 0.14 s and 0.96 ms a
back-solve against CG + BoomerAMG's 15.8 ms a solve; 41 004 nodes (2.5 nm), 1.1 s and
5.3 ms (MUMPS LU 15.8 ms)."""
FACET_CORNERS = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])
"""Corners of facet i of a tetrahedron (the one opposite corner i)."""


class FemBemDemagnetization(SolvedDemagnetization):
    """Demagnetizing field B_d = -mu_0 grad u with u = u1 + u2 of Fredkin and Koehler on
    the magnetic cells of a 3D mesh (the magnet may be a region of a larger mesh).

    The two Poisson solvers: `kind` 'auto' (direct up to `direct_max_dofs`, by default
    POTENTIAL_DIRECT_MAX_DOFS), 'direct' (Cholesky, `solvers.direct_spd_options`) or
    'iterative' (CG + BoomerAMG, to `rtol`, each solve starting from the last
    solution); `petsc_options` override the defaults.
    `boundary_matrix` 'dense', 'hmatrix' (blocks to the relative `boundary_tolerance`) or
    'auto' (an H-matrix from HMATRIX_MIN_NODES surface nodes)."""

    stray_field = False

    def __init__(
        self,
        coefficients: MagnetCoefficients,
        device_mesh: DeviceMesh,
        *,
        kind: str = "auto",
        rtol: float = 1e-10,
        petsc_options: Mapping[str, object] | None = None,
        direct_max_dofs: int | None = None,
        boundary_matrix: str = "auto",
        boundary_tolerance: float = 1e-5,
    ):
        mesh = device_mesh.mesh
        if mesh.topology.dim != 3:
            raise ValueError("the FEM-BEM demagnetization needs a 3D mesh")
        self.saturation = coefficients.saturation_magnetization
        self.space = compat.function_space(mesh, "Lagrange", 1)
        vector_space = compat.function_space(mesh, "Lagrange", 1, (3,))
        self.potential = fem.Function(self.space, name="demag_potential")
        self._u1 = fem.Function(self.space, name="demag_u1")
        self._u2 = fem.Function(self.space, name="demag_u2")
        self.indicator = coefficients.indicator()
        index_map = self.space.dofmap.index_map
        self._owned = index_map.size_local

        cell_dofs = compat.cell_dofs(self.space)
        magnetic = _marked(self.space, cell_dofs[coefficients.cells].ravel())
        triangles = _boundary_triangles(self.space, coefficients.cells, cell_dofs)
        surface = _marked(self.space, triangles.ravel())
        self.boundary = BoundaryOperator(
            self.space, surface, triangles, boundary_matrix, boundary_tolerance
        )
        self.surface_nodes = self.boundary.nodes
        self.build_s = self.boundary.build_s

        outside = np.flatnonzero(~magnetic)
        anchors = _component_anchors(self.space, coefficients.cells, cell_dofs, magnetic)
        anchors = np.flatnonzero(_marked(self.space, anchors))  # with their ghost copies
        pinned = np.union1d(outside, anchors).astype(np.int32)
        fixed = np.union1d(outside, np.flatnonzero(surface)).astype(np.int32)
        self._u1_fixed_rows = pinned[pinned < self._owned]
        self._outside_rows = outside[outside < self._owned]

        u, v = ufl.TrialFunction(self.space), ufl.TestFunction(self.space)
        dx = coefficients.measure(device_mesh)
        zero = fem.Constant(mesh, 0.0)
        laplacian = ufl.inner(ufl.grad(u), ufl.grad(v)) * dx
        self._stiffness = compat.assemble_matrix(fem.form(laplacian), [])
        # the matrices with the pinned rows: their sparsity must hold the diagonal of every
        # dof, also of those outside the magnet, where the boundary condition puts its 1
        # (a form on the magnetic cells alone has no entries there): a zero term over the
        # whole mesh adds them (with the same subdomain data, as DOLFINx >= 0.9 requires)
        everywhere = ufl.Measure("dx", domain=mesh, subdomain_data=device_mesh.cell_tags)
        pinned_form = fem.form(laplacian + zero * u * v * everywhere)
        u1_matrix = compat.assemble_matrix(pinned_form, [fem.dirichletbc(zero, pinned, self.space)])
        u2_matrix = compat.assemble_matrix(pinned_form, [fem.dirichletbc(zero, fixed, self.space)])
        m_trial = ufl.TrialFunction(vector_space)
        self._charge = compat.assemble_matrix(
            fem.form(self.saturation * ufl.dot(m_trial, gradient3(v)) * dx), []
        )
        weak_field = -VACUUM_PERMEABILITY * self.saturation
        phi = ufl.TestFunction(vector_space)
        self._weak_field = compat.assemble_matrix(
            fem.form(weak_field * ufl.dot(gradient3(u), phi) * dx), []
        )
        self._rhs = self._stiffness.createVecLeft()
        self._values = self._stiffness.createVecRight()

        dofs = mesh.comm.allreduce(int(np.count_nonzero(magnetic[: self._owned])), MPI.SUM)
        self.solver_kind, self.solver_choice = choose_kind(
            kind, dofs, direct_max_dofs, 3, POTENTIAL_DIRECT_MAX_DOFS
        )
        options = (self.solver_kind, rtol, petsc_options or {}, iterative_spd_options(3))
        self.solver = LinearSolver("demagnetization_u1", u1_matrix, *options, symmetric=True)
        self.harmonic_solver = LinearSolver(
            "demagnetization_u2", u2_matrix, *options, symmetric=True
        )
        if self.solver_kind == "iterative":  # start each solve from the last solution
            for solver in (self.solver, self.harmonic_solver):
                solver.ksp.setInitialGuessNonzero(True)
        self.evaluations = 0

    @property
    def matrix_bytes(self) -> int:
        """Memory of B over all ranks (dense: 8 N_Gamma^2 bytes)."""
        return self.boundary.matrix_bytes

    def describe(self) -> dict[str, object]:
        """Method, surface size, storage, memory and build time of B, and the two Poisson
        solvers, for results.json."""
        return {
            "method": f"fem_bem (Fredkin-Koehler; {self.boundary.storage} Lindholm double-layer"
            " matrix)",
            "surface_nodes": self.surface_nodes,
            **self.boundary.describe(),
            "evaluations": self.evaluations,
            **solver_description(self.solver_choice, self.solver),
            "harmonic_extension": self.harmonic_solver.describe(),
        }

    def _solve(self, m: PETSc.Vec) -> None:
        """u = u1 + u2 for the magnetization coefficients m (owned entries used)."""
        self._charge.mult(m, self._rhs)
        self._rhs.array[self._u1_fixed_rows] = 0.0
        u1 = compat.petsc_vector(self._u1)
        self.solver.solve(self._rhs, u1)
        rows = self.boundary.rows
        boundary = self.boundary.apply(u1.array_r)
        self._values.zeroEntries()
        self._values.array[rows] = boundary
        self._stiffness.mult(self._values, self._rhs)  # lifting: -A[:, Gamma] u2(Gamma)
        self._rhs.scale(-1.0)
        self._rhs.array[rows] = boundary
        self._rhs.array[self._outside_rows] = 0.0
        u2 = compat.petsc_vector(self._u2)
        self.harmonic_solver.solve(self._rhs, u2)
        compat.petsc_vector(self.potential).waxpy(1.0, u1, u2)
        self.potential.x.scatter_forward()
        self.evaluations += 1

    def update(self, m: fem.Function) -> None:
        """Solve for the potential of m."""
        self._solve(compat.petsc_vector(m))

    def add_weak_field(self, m: PETSc.Vec, out: PETSc.Vec) -> None:
        """out += int M_s B_d(m) . phi_i dx for every P1 vector basis function phi_i, the
        vector the assembled -variation gives; from the operators built once.  Collective."""
        self._solve(m)
        self._weak_field.multAdd(compat.petsc_vector(self.potential), out, out)

    def state(self) -> None:
        """None: the potential is recomputed from m (the solves' initial guesses are the
        last u1 and u2, which a checkpoint does not keep)."""
        return None

    def field(self) -> ufl.core.expr.Expr:
        """B_d = mu_0 H_d = -mu_0 grad u (T, 3-vector) in the magnet, from the last update."""
        return -VACUUM_PERMEABILITY * gradient3(self.potential)


class BoundaryOperator:
    """This rank's rows of the double-layer matrix B of the magnet's surface (the rows of
    the surface nodes it owns; the columns are all N_Gamma nodes, numbered rank by rank),
    built once from the surface gathered on every rank, and applied as one allgather of
    the density on the surface and one local matvec."""

    def __init__(
        self,
        space,
        surface: np.ndarray,
        triangles: np.ndarray,
        storage: str = "auto",
        tolerance: float = 1e-5,
    ):
        """`surface` marks the local surface dofs (owned and ghost, consistent), `triangles`
        the (n, 3) local dofs of this rank's surface triangles (outward oriented);
        `storage` 'dense', 'hmatrix' or 'auto', `tolerance` that of the H-matrix."""
        self.comm = space.mesh.comm
        owned = space.dofmap.index_map.size_local
        self.rows = np.flatnonzero(surface[:owned])
        """owned surface dofs, in the order of this rank's rows of B"""
        self.counts = np.array(self.comm.allgather(len(self.rows)))
        self.nodes = int(self.counts.sum())
        """N_Gamma"""
        offset = int(self.counts[: self.comm.rank].sum())
        columns = _columns(space, self.rows, offset)
        all_triangles = np.vstack(self.comm.allgather(columns[triangles]))
        coordinates = space.tabulate_dof_coordinates()[:, :3]
        points = np.vstack(self.comm.allgather(coordinates[self.rows]))
        if not surface_is_closed(all_triangles):
            raise ValueError("the magnet's boundary is not a closed, oriented surface")
        if storage == "auto":
            storage = "hmatrix" if self.nodes >= HMATRIX_MIN_NODES else "dense"
        self.storage = storage
        """'dense' or 'hmatrix'"""
        self.tolerance = tolerance if storage == "hmatrix" else None
        before = compat.timer_seconds(BUILD_TIMER)
        with compat.timer(BUILD_TIMER):
            rows = offset + np.arange(len(self.rows))
            if storage == "hmatrix":
                kernel = DoubleLayerBlocks(points, all_triangles)
                self.matrix = HMatrix(kernel, rows, tolerance=tolerance)
            else:
                self.matrix = double_layer_matrix(points, all_triangles, rows)
        self.build_s = self.comm.allreduce(compat.timer_seconds(BUILD_TIMER) - before, MPI.MAX)
        """slowest rank's wall time to build its rows of B"""
        self.matrix_bytes = self.comm.allreduce(self.matrix.nbytes, MPI.SUM)
        """memory of B over all ranks (dense: 8 N_Gamma^2 bytes)"""
        self._gathered = np.empty(self.nodes)

    def describe(self) -> dict[str, object]:
        """Storage, memory, compression and build time of B, for results.json."""
        description = {
            "boundary_matrix": self.storage,
            "boundary_matrix_bytes": self.matrix_bytes,
            "boundary_matrix_memory": f"{self.matrix_bytes / 2**20:.1f} MiB"
            + (" = 8 N^2 bytes" if self.storage == "dense" else ""),
            "boundary_matrix_compression": self.matrix_bytes / (8 * self.nodes**2),
            "boundary_matrix_build_s": self.build_s,
        }
        if self.storage == "hmatrix":
            description["boundary_matrix_tolerance"] = self.tolerance
        return description

    def apply(self, density: np.ndarray) -> np.ndarray:
        """B u at this rank's rows, for u given by its values at the local dofs (owned
        entries used).  Collective."""
        with compat.timer(APPLY_TIMER):
            self.comm.Allgatherv(density[self.rows], (self._gathered, self.counts))
            return self.matrix @ self._gathered


def _marked(space, dofs: np.ndarray) -> np.ndarray:
    """A boolean over the local dofs (owned and ghost): True where some rank marked the
    dof in `dofs` (its local indices), the same on the owner and every ghost copy."""
    marker = fem.Function(space)
    marker.x.array[:] = 0.0
    marker.x.array[dofs] = 1.0
    vector = compat.petsc_vector(marker)
    vector.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    vector.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
    return marker.x.array > 0.5


def _boundary_triangles(space, cells: np.ndarray, cell_dofs: np.ndarray) -> np.ndarray:
    """The facets of the owned magnetic cells that no other magnetic cell shares, as
    (n, 3) local dofs ordered counter-clockwise about the outward normal.  The mesh must
    ghost the cells across shared facets (weylfem's meshes do), so that a facet's other
    cell is local; each facet is then found on the one rank owning its magnetic cell."""
    topology = space.mesh.topology
    facets = compat.cell_entities(topology, topology.dim - 1)
    shared = np.zeros(int(facets.max(initial=-1)) + 1, dtype=np.int64)
    np.add.at(shared, facets[cells].ravel(), 1)
    owned = cells[cells < topology.index_map(topology.dim).size_local]
    cell, corner = np.nonzero(shared[facets[owned]] == 1)
    dofs = cell_dofs[owned[cell]]
    triangles = np.take_along_axis(dofs, FACET_CORNERS[corner], axis=1)
    opposite = dofs[np.arange(len(cell)), corner]
    x = space.tabulate_dof_coordinates()[:, :3]
    a, b, c = x[triangles[:, 0]], x[triangles[:, 1]], x[triangles[:, 2]]
    inward = np.einsum("ij,ij->i", np.cross(b - a, c - a), x[opposite] - a) > 0
    triangles[inward] = triangles[inward][:, [0, 2, 1]]
    return triangles


def _columns(space, rows: np.ndarray, offset: int) -> np.ndarray:
    """For every local dof, its column of B (offset + position among the owner's surface
    rows), or -1 off the surface."""
    column = fem.Function(space)
    column.x.array[:] = -1.0
    column.x.array[rows] = offset + np.arange(len(rows))
    column.x.scatter_forward()
    return np.rint(column.x.array).astype(np.int64)


def _component_anchors(
    space, cells: np.ndarray, cell_dofs: np.ndarray, magnetic: np.ndarray
) -> np.ndarray:
    """One owned dof of each connected piece of the magnetic cells (the one with the
    largest global index), where u1 is pinned.  Labels spread through the local cells,
    then to the owners (max) and back to the ghosts, until no rank changes one."""
    index_map = space.dofmap.index_map
    local = index_map.size_local + index_map.num_ghosts
    start = index_map.local_range[0]
    global_index = np.concatenate(
        [start + np.arange(index_map.size_local), np.asarray(index_map.ghosts)]
    ).astype(float)
    dofs = cell_dofs[cells]
    first = np.repeat(dofs[:, :1], dofs.shape[1] - 1, axis=1).ravel()
    graph = scipy.sparse.coo_matrix(
        (np.ones(len(first)), (first, dofs[:, 1:].ravel())), shape=(local, local)
    )
    _, piece = scipy.sparse.csgraph.connected_components(graph, directed=False)
    label_function = fem.Function(space)
    labels = label_function.x.array
    labels[:] = np.where(magnetic, global_index, -1.0)
    vector = compat.petsc_vector(label_function)
    comm = space.mesh.comm
    while True:
        before = labels.copy()
        largest = np.full(piece.max(initial=-1) + 1, -1.0)
        np.maximum.at(largest, piece, labels)
        labels[magnetic] = largest[piece[magnetic]]
        vector.ghostUpdate(addv=PETSc.InsertMode.MAX_VALUES, mode=PETSc.ScatterMode.REVERSE)
        vector.ghostUpdate(addv=PETSc.InsertMode.INSERT, mode=PETSc.ScatterMode.FORWARD)
        if not comm.allreduce(bool(np.any(labels != before)), op=MPI.LOR):
            break
    owned = np.arange(index_map.size_local)
    return owned[magnetic[owned] & (labels[owned] == global_index[owned])].astype(np.int32)
