"""Demagnetization from a magnetic scalar potential on the magnet and the space around it.

H_d = -grad u with div grad u = div(M_s m) in all space and u -> 0 at infinity, in weak
form  int grad u . grad psi dx = int_magnet M_s m . grad psi dx  for every psi vanishing at
infinity.  The mesh holds the magnet, air around it and either

* a spherical shell R1 < r < R2 about a centre c (the "shell transformation" of Brunotte
  et al., IEEE Trans. Magn. 28, 1663 (1992), as in magnum.fe): the shell stands for all of
  space beyond R1 through the radial map  r~ = R1 (R2 - R1) / (R2 - r),  which is the
  identity at r = R1 and sends r -> R2 to infinity, so that u = 0 on r = R2 is u = 0 at
  infinity.  Writing the Laplacian of the mapped space on the shell gives
  int grad u . (det J J^-1 J^-T) grad psi dx with J = d x~ / d x; or
* nothing more (`shell=None`): u = 0 on the outer boundary of the air, a truncation whose
  error falls like (magnet size / air size)^3 for a magnet with no net charge.

The matrix is assembled and its solver set up once; each `update` assembles the right side
for the current m and solves.  The energy -(mu_0/2) int M_s m . H_d dx is quadratic in m,
so its first variation is -mu_0 int M_s H_d . v dx, twice the derivative of the density
with H_d held fixed: `variation` is overridden (`energy.SolvedDemagnetization`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI
from petsc4py import PETSc

from weylfem import compat
from weylfem.constants import VACUUM_PERMEABILITY
from weylfem.geometry import DeviceMesh
from weylfem.magnet.coefficients import MagnetCoefficients
from weylfem.magnet.energy import SolvedDemagnetization, gradient3
from weylfem.solvers import LinearSolver, choose_kind, iterative_spd_options
from weylfem.timings import WORK_TIMERS

SHELL_QUADRATURE_DEGREE = 2
"""Quadrature degree of the shell's stiffness.  Its coefficient is not a polynomial, and its
tangential part grows like (R2 - r)^-2 toward the outer sphere; quadrature points inside
the cells keep it finite.  N of a sphere moved by 0.3% between degrees 2 and 12."""
SPHERE_TOLERANCE = 1e-6
"""Largest relative spread of the radii of the shell's bounding vertices."""


class Demagnetization(SolvedDemagnetization):
    """Demagnetizing field B_d = -mu_0 grad u from the scalar potential `potential` (u, P1
    on the whole mesh), with u = 0 on the facet group `outer_boundary`.

    `shell` names the cell group of the transformation shell (None: plain truncation).
    The solver is chosen as by the transport problem: `kind` 'auto' (direct up to
    `direct_max_dofs`), 'direct' (MUMPS) or 'iterative' (CG + BoomerAMG, to `rtol`, each
    solve starting from the last potential); `petsc_options` override the defaults."""

    def __init__(
        self,
        coefficients: MagnetCoefficients,
        device_mesh: DeviceMesh,
        *,
        outer_boundary: str = "infinity",
        shell: str | None = "shell",
        kind: str = "auto",
        rtol: float = 1e-10,
        petsc_options: Mapping[str, object] | None = None,
        direct_max_dofs: int | None = None,
    ):
        mesh = device_mesh.mesh
        groups = ((outer_boundary, device_mesh.facet_groups), (shell, device_mesh.cell_groups))
        for group, names in groups:
            if group is not None and group not in names:
                raise ValueError(f"a mesh group {group!r} (the mesh has {sorted(names)})")
        self.saturation = coefficients.saturation_magnetization
        self.space = compat.function_space(mesh, "Lagrange", 1)
        self.potential = fem.Function(self.space, name="demag_potential")
        self._dx_magnet = coefficients.measure(device_mesh)

        self.shell_radii: tuple[float, float] | None = None
        """(R1, R2) of the shell in metres"""
        self.center: tuple[float, ...] | None = None
        """centre of the shell (m)"""

        outer = _tagged(device_mesh.facet_tags, device_mesh.facet_groups[outer_boundary])
        grounded = fem.locate_dofs_topological(self.space, mesh.topology.dim - 1, outer)
        self._bcs = [fem.dirichletbc(fem.Constant(mesh, 0.0), grounded, self.space)]
        self._grounded_owned = grounded[grounded < self.space.dofmap.index_map.size_local]
        self._charge_matrix = None
        """G, int M_s phi_j . grad psi_i dx (rows: potential, columns: m), for add_weak_field"""
        self._bilinear_form = fem.form(self._stiffness(device_mesh, outer_boundary, shell))
        self._linear_form = None
        self._rhs = None
        self._m = None

        dofs = self.space.dofmap.index_map.size_global
        dimension = mesh.topology.dim
        self.solver_kind, self.solver_choice = choose_kind(kind, dofs, direct_max_dofs, dimension)
        self.solver = LinearSolver(
            "demagnetization",
            compat.assemble_matrix(self._bilinear_form, self._bcs),
            self.solver_kind,
            rtol,
            petsc_options or {},
            iterative_spd_options(dimension),
        )
        if self.solver_kind == "iterative":  # start each solve from the last potential
            self.solver.ksp.setInitialGuessNonzero(True)

    def _stiffness(self, device_mesh: DeviceMesh, outer_boundary: str, shell: str | None):
        """int grad u . grad psi over the mesh, with the shell's transformed metric."""
        u, psi = ufl.TrialFunction(self.space), ufl.TestFunction(self.space)
        dx = ufl.Measure("dx", domain=device_mesh.mesh, subdomain_data=device_mesh.cell_tags)
        laplacian = ufl.inner(ufl.grad(u), ufl.grad(psi)) * dx
        if shell is None:
            return laplacian
        shell_tag = device_mesh.cell_groups[shell]
        metric = self._shell_metric(device_mesh, outer_boundary, shell)
        correction = metric - ufl.Identity(device_mesh.mesh.geometry.dim)
        dx_shell = dx(shell_tag, metadata={"quadrature_degree": SHELL_QUADRATURE_DEGREE})
        return laplacian + ufl.inner(correction * ufl.grad(u), ufl.grad(psi)) * dx_shell

    def _shell_metric(self, device_mesh: DeviceMesh, outer_boundary: str, shell: str):
        """det J J^-1 J^-T of the map x~ = c + (x - c) r~/r, r~ = R1 (R2 - R1)/(R2 - r)."""
        spheres = shell_spheres(device_mesh, outer_boundary, shell, self.space)
        if spheres is None:
            raise ValueError("a shell between two concentric spheres")
        center, inner, outer_radius = spheres
        self.shell_radii, self.center = (inner, outer_radius), tuple(center)
        mesh = device_mesh.mesh

        x, c = ufl.SpatialCoordinate(mesh), ufl.as_vector(self.center)
        r = ufl.sqrt(ufl.dot(x - c, x - c))
        mapped_radius = inner * (outer_radius - inner) / (outer_radius - r)
        jacobian = ufl.grad(c + mapped_radius / r * (x - c))
        inverse = ufl.inv(jacobian)
        return ufl.det(jacobian) * inverse * inverse.T

    def state(self) -> fem.Function:
        """The potential, whose last value is the initial guess of the next solve."""
        return self.potential

    def update(self, m: fem.Function) -> None:
        """Solve for the potential of m (the right side is compiled on the first call with
        this m, then only reassembled into the same vector)."""
        if m is not self._m:
            rhs = self.saturation * ufl.dot(m, gradient3(ufl.TestFunction(self.space)))
            self._linear_form = fem.form(rhs * self._dx_magnet)
            self._rhs = compat.create_vector(self._linear_form)
            self._m = m
        compat.assemble_rhs(self._rhs, self._linear_form, self._bilinear_form, self._bcs)
        self.solver.solve(self._rhs, compat.petsc_vector(self.potential))
        self.potential.x.scatter_forward()

    def add_weak_field(self, m: PETSc.Vec, out: PETSc.Vec) -> None:
        """Add the weak field int M_s B_d(m) . phi_i dx = -mu_0 (G^T u)_i to `out`, where
        A u = G m (Dirichlet rows zero): the right side as a constant matrix G times m, the
        potential solve (into `potential`, its last value the next initial guess) and G^T
        as the gradient; G is assembled on the first call.  Collective."""
        if self._charge_matrix is None:
            vector_space = compat.function_space(self.space.mesh, "Lagrange", 1, (3,))
            trial, psi = ufl.TrialFunction(vector_space), ufl.TestFunction(self.space)
            charge = self.saturation * ufl.dot(trial, gradient3(psi)) * self._dx_magnet
            with compat.timer(WORK_TIMERS["assemble"]):
                self._charge_matrix = compat.assemble_matrix(fem.form(charge), [])
            self._charge = self._charge_matrix.createVecLeft()
            self._gradient = self._charge_matrix.createVecRight()
        self._charge_matrix.mult(m, self._charge)
        self._charge.array[self._grounded_owned] = 0.0
        potential = compat.petsc_vector(self.potential)
        self.solver.solve(self._charge, potential)
        self.potential.x.scatter_forward()
        self._charge_matrix.multTranspose(potential, self._gradient)
        out.axpy(-VACUUM_PERMEABILITY, self._gradient)

    def field(self) -> ufl.core.expr.Expr:
        """B_d = mu_0 H_d = -mu_0 grad u (T, 3-vector) from the last update."""
        return -VACUUM_PERMEABILITY * gradient3(self.potential)


def shell_spheres(
    device_mesh: DeviceMesh,
    outer_boundary: str = "infinity",
    shell: str = "shell",
    space: fem.FunctionSpace | None = None,
) -> tuple[np.ndarray, float, float] | None:
    """(centre, R1, R2) of the transformation shell `shell`: R2 the radius of the sphere
    through the nodes of the facet group `outer_boundary`, R1 the smallest radius of the
    shell's nodes; None unless those nodes lie on one sphere (to SPHERE_TOLERANCE) and
    R1 < R2.  Collective; `space` is a P1 space of the mesh (made when not given)."""
    mesh = device_mesh.mesh
    space = space or compat.function_space(mesh, "Lagrange", 1)
    comm, gdim, tdim = mesh.comm, mesh.geometry.dim, mesh.topology.dim
    coordinates = space.tabulate_dof_coordinates()[:, :gdim]
    owned = space.dofmap.index_map.size_local

    def owned_nodes(dim: int, tags, value: int) -> np.ndarray:
        dofs = compat.locate_dofs_topological(space, dim, _tagged(tags, value))
        return coordinates[dofs[dofs < owned]]

    boundary = owned_nodes(
        tdim - 1, device_mesh.facet_tags, device_mesh.facet_groups[outer_boundary]
    )
    center = _sphere_center(comm, boundary)
    shell_nodes = owned_nodes(tdim, device_mesh.cell_tags, device_mesh.cell_groups[shell])
    inner = _global_range(comm, np.linalg.norm(shell_nodes - center, axis=1))[0]
    spread = _global_range(comm, np.linalg.norm(boundary - center, axis=1))
    outer_radius = spread[1]
    if spread[1] - spread[0] > SPHERE_TOLERANCE * outer_radius or inner >= outer_radius:
        return None
    return center, inner, outer_radius


def _tagged(tags, value: int) -> np.ndarray:
    """Local indices of the entities with tag `value`."""
    return tags.indices[tags.values == value]


def _sphere_center(comm: MPI.Comm, points: np.ndarray) -> np.ndarray:
    """Centre of the sphere through points (n, gdim) spread over the ranks: the least-squares
    solution of 2 c.x + k = |x|^2, in coordinates scaled to the points' bounding box."""
    low, high = np.empty(points.shape[1]), np.empty(points.shape[1])
    comm.Allreduce(points.min(axis=0, initial=np.inf), low, op=MPI.MIN)
    comm.Allreduce(points.max(axis=0, initial=-np.inf), high, op=MPI.MAX)
    origin, scale = (low + high) / 2, np.max(high - low) / 2
    scaled = (points - origin) / scale
    rows = np.hstack([2 * scaled, np.ones((len(scaled), 1))])
    normal = comm.allreduce(rows.T @ rows, op=MPI.SUM)
    right = comm.allreduce(rows.T @ np.sum(scaled**2, axis=1), op=MPI.SUM)
    return origin + scale * np.linalg.solve(normal, right)[:-1]


def _global_range(comm: MPI.Comm, values: np.ndarray) -> tuple[float, float]:
    """(min, max) of values over all ranks."""
    low = comm.allreduce(float(values.min(initial=np.inf)), op=MPI.MIN)
    high = comm.allreduce(float(values.max(initial=-np.inf)), op=MPI.MAX)
    return low, high
