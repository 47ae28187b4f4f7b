"""Linearly implicit tangent-plane integrators of the Landau-Lifshitz-Gilbert equation.

The Gilbert equation dm/dt = -gamma m x B_eff + alpha m x dm/dt + T is, for |m| = 1,
equivalent to  alpha v + m x v = gamma B_eff,perp + m x T  with v = dm/dt.  One step
from m^n with step k finds v in the discrete tangent space (v_i . m_i = 0 at every
magnetic node) such that, for every tangent test function w,

    int (M_s/gamma)(alpha v + m^n x v).w dx + theta k d2E_impl[m^n; v, w]
        = -dE[m^n; w] + int (M_s/gamma)(m^n x T).w dx,

then sets m_i^{n+1} = (m_i^n + k v_i)/|m_i^n + k v_i| at every node.  Exchange (the
stiff term) is implicit with weight theta in (1/2, 1]; lower-order terms, demagnetization
and torques are explicit.  For theta > 1/2 the linear step is unconditionally stable;
without drive and for alpha > 0,
E(m^n + k v) = E(m^n) - k int (alpha M_s/gamma)|v|^2 - (theta - 1/2) k^2 d2E[v, v],
and the nodal projection does not increase the exchange energy on meshes whose
stiffness matrix has non-positive off-diagonal entries (weakly acute meshes).

`scheme = "bdf2"` is the second-order linearly implicit BDF2 tangent-plane method
(Akrivis, Feischl, Kovacs, Lubich, Math. Comp. 90 (2021) 995): the tangent plane and the
explicit terms are taken at the extrapolation mhat = (2m^n - m^{n-1})/|...|, the
implicit terms at m^{n+1} = (4m^n - m^{n-1})/3 + (2k/3) v, and m^{n+1} is then
normalised at the nodes (|m| = 1 exactly; the normalisation changes m by O(k^2)).  It
needs equal consecutive steps (a changed step restarts it with one theta = 1 step) and
does not guarantee monotone energy decay; it is the accurate choice for dynamics, the
theta scheme the robust one for relaxation.

The tangent space is imposed by a basis: at each magnetic node two unit vectors
t1, t2 perpendicular to m, collected in a block-diagonal matrix P (3 rows, 2 columns
per node), and the reduced system P^T A P y = P^T b is solved for v = P y.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI
from petsc4py import PETSc

from weylfem import compat
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.solvers import LinearSolver, choose_kind
from weylfem.timings import WORK_TIMERS

ITERATIVE_OPTIONS: dict[str, str] = {
    "ksp_type": "gmres",
    "ksp_gmres_restart": "100",
    "ksp_max_it": "1000",
    "pc_type": "bjacobi",
    "sub_pc_type": "ilu",
    # entries scale as (M_s/gamma) x cell volume, ~1e-23 on nanometre meshes: below PETSc's
    # absolute zero-pivot tolerance, which would fail every factorization
    "sub_pc_factor_zeropivot": "0.0",
}
"""Defaults of the iterative tangent-plane solver (the reduced matrix is nonsymmetric).
For time steps of dynamics the system is dominated by its mass-like part (alpha M + M J),
and GMRES needs few iterations (bench/results.md)."""
DIRECT_MAX_DOFS: dict[int, int] = {1: 20_000, 2: 5_000, 3: 2_000}
"""Largest reduced system the automatic choice solves directly, by mesh dimension: the
matrix changes every step, so a direct solve refactorizes every step (measured per step
on a permalloy film: 2D, 1.2e4 reduced dofs, MUMPS 0.063 s against GMRES + ILU 0.021 s;
4.7e4 dofs, 0.48 s against 0.078 s; 3D, 1.3e4 dofs, 0.16 s against 0.057 s)."""

SCHEMES = ("tangent_plane", "bdf2")


class TangentPlaneIntegrator:
    """Steps a MicromagneticProblem with the theta tangent-plane scheme or its BDF2 variant.

    `precession = False` drops m x v (pure damped gradient flow, for relaxation);
    `damping` overrides the materials' alpha (for relaxation)."""

    def __init__(
        self,
        problem: MicromagneticProblem,
        scheme: str = "tangent_plane",
        theta: float = 1.0,
        *,
        precession: bool = True,
        damping: float | None = None,
        solver: str = "auto",
        rtol: float = 1e-10,
        direct_max_dofs: int | None = None,
        petsc_options: Mapping[str, object] | None = None,
        name: str = "llg",
    ):
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        if not 0.5 < theta <= 1.0:
            raise ValueError(f"theta must be in (1/2, 1], got {theta}")
        self.problem = problem
        self.scheme = scheme
        self.theta = theta
        mesh = problem.device_mesh.mesh
        coefficients = problem.coefficients
        self.implicit_weight = fem.Constant(mesh, 0.0)
        self.anchor = fem.Function(problem.space, name="m_anchor")
        """the m about which the implicit terms are expanded: m^n, or (4m^n - m^{n-1})/3"""
        m, dx = problem.m, problem.dx
        v, w = ufl.TrialFunction(problem.space), ufl.TestFunction(problem.space)
        inertia = coefficients.inertia()
        alpha = coefficients.damping if damping is None else fem.Constant(mesh, float(damping))
        lhs = inertia * alpha * ufl.dot(v, w) * dx
        if precession:
            lhs += inertia * ufl.dot(ufl.cross(m, v), w) * dx
        rhs = 0
        for term in problem.terms:
            if term.implicit:
                variation = term.variation(self.anchor, w, dx)
                lhs += self.implicit_weight * ufl.derivative(variation, self.anchor, v)
                rhs -= variation
            else:
                rhs -= term.variation(m, w, dx)
        for torque in problem.torques:
            rhs += inertia * ufl.dot(ufl.cross(m, torque.torque(m)), w) * dx
        self._lhs = fem.form(lhs)
        self._rhs = fem.form(rhs)
        self._matrix = fem.petsc.create_matrix(self._lhs)
        self._vector = compat.create_vector(self._rhs)
        self._basis = _TangentBasis(problem)
        self._reduced = None
        self._solution = self._basis.matrix.createVecRight()
        self._reduced_rhs = self._basis.matrix.createVecRight()
        self._velocity = self._basis.matrix.createVecLeft()
        dofs = 2 * problem.magnetic_node_count
        kind, self.solver_choice = choose_kind(
            solver, dofs, direct_max_dofs, mesh.topology.dim, DIRECT_MAX_DOFS
        )
        self._solver_settings = (name, kind, rtol, dict(petsc_options or {}))
        self.solver: LinearSolver | None = None
        self.steps = 0
        self._previous: tuple[np.ndarray, float] | None = None
        """(m^{n-1} at the owned magnetic nodes, the step that led from it to m^n)"""

    def restart(self) -> None:
        """Forget the step history (after m was changed from outside, or a checkpoint)."""
        self._previous = None

    @property
    def history(self) -> tuple[np.ndarray, float] | None:
        """(m^{n-1} at the owned magnetic nodes, the step from it to m^n), or None: what
        the next BDF2 step needs besides m^n (for checkpoints)."""
        return self._previous

    def set_history(self, history: tuple[np.ndarray, float] | None) -> None:
        """Restore a `history` (after m^n was restored), e.g. from a checkpoint."""
        if history is None:
            self._previous = None
            return
        previous, step_s = history
        self._previous = (np.array(previous, dtype=float).reshape(-1, 3), float(step_s))

    def checkpoint_extras(self) -> dict[str, object]:
        """Nothing beyond `history` (which checkpoints keep themselves)."""
        return {}

    def resume_extras(self, extras) -> None:
        """Nothing beyond `history`."""

    def describe(self) -> dict[str, object]:
        """Nothing beyond the solver's description (results.json)."""
        return {}

    def step(self, step_s: float) -> float:
        """Advance m and the time by `step_s`; returns the largest nodal change |dm|."""
        problem = self.problem
        nodes = problem.magnetic_nodes
        values = problem.m.x.array.reshape(-1, 3)
        current = values[nodes].copy()
        two_step = (
            self.scheme == "bdf2"
            and self._previous is not None
            and math.isclose(self._previous[1], step_s, rel_tol=1e-12)
        )
        start_s = problem.time_s
        # the time-dependent inputs at the time the equation is taken at: t_{n+1} for the
        # BDF2 step (collocated at m^{n+1}), t_n for the theta step (explicit terms at m^n)
        problem.set_time(start_s + step_s if two_step else start_s)
        if two_step:
            previous = self._previous[0]
            extrapolated = 2 * current - previous
            values[nodes] = extrapolated / np.linalg.norm(extrapolated, axis=1)[:, None]
            problem.m.x.scatter_forward()
            problem.mark_changed()
            anchor, advance = (4 * current - previous) / 3, 2 * step_s / 3
            implicit = advance
        else:
            theta = self.theta if self.scheme == "tangent_plane" else 1.0
            anchor, advance, implicit = current, step_s, theta * step_s
        self._set_anchor(anchor)
        v = self._velocity_at(implicit)
        moved = anchor + advance * v
        values[nodes] = moved / np.linalg.norm(moved, axis=1)[:, None]
        problem.m.x.scatter_forward()
        problem.mark_changed()
        problem.set_time(start_s + step_s)
        self._previous = (current, step_s)
        self.steps += 1
        local = float(np.max(np.linalg.norm(values[nodes] - current, axis=1), initial=0.0))
        return problem.device_mesh.comm.allreduce(local, op=MPI.MAX)

    def _set_anchor(self, anchor: np.ndarray) -> None:
        values = self.anchor.x.array.reshape(-1, 3)
        values[:] = 0.0
        values[self.problem.magnetic_nodes] = anchor
        self.anchor.x.scatter_forward()

    def _velocity_at(self, implicit_step_s: float) -> np.ndarray:
        """Solve the tangent-plane system at the current m (the plane and the explicit
        terms) and anchor (the implicit terms): v at the owned magnetic nodes, (n, 3)."""
        problem = self.problem
        problem.update_terms()
        with compat.timer(WORK_TIMERS["assemble"]):  # matrix, right side, basis, P^T A P
            self.implicit_weight.value = implicit_step_s
            self._basis.update()
            self._matrix.zeroEntries()
            fem.petsc.assemble_matrix(self._matrix, self._lhs)
            self._matrix.assemble()
            compat.assemble_vector_into(self._vector, self._rhs)
            basis = self._basis.matrix
            if self._reduced is None:
                self._reduced = self._matrix.PtAP(basis)
            else:
                self._matrix.PtAP(basis, result=self._reduced)
            basis.multTranspose(self._vector, self._reduced_rhs)
        if self.solver is None:
            name, kind, rtol, options = self._solver_settings
            self.solver = LinearSolver(name, self._reduced, kind, rtol, options, ITERATIVE_OPTIONS)
        else:
            self.solver.update_operator(self._reduced)
        self.solver.solve(self._reduced_rhs, self._solution)
        basis.mult(self._solution, self._velocity)
        return self._velocity.array.reshape(-1, 3)[problem.magnetic_nodes].copy()


class _TangentBasis:
    """The block-diagonal matrix P whose columns t1, t2 span the tangent plane of m at
    every owned magnetic node; rows follow the (owned) dofs of the vector P1 space."""

    def __init__(self, problem: MicromagneticProblem):
        self.problem = problem
        comm = problem.device_mesh.comm
        nodes = problem.magnetic_nodes
        count = len(nodes)
        column_start = comm.exscan(count) or 0
        rows = 3 * problem.owned_nodes
        per_row = np.zeros(rows, dtype=np.int32)
        per_row[(3 * nodes[:, None] + np.arange(3)).ravel()] = 2
        self.indptr = np.concatenate(([0], np.cumsum(per_row))).astype(np.int32)
        columns = 2 * (column_start + np.arange(count, dtype=np.int32))
        self.indices = np.repeat(columns, 3)[:, None] + np.arange(2, dtype=np.int32)
        self.indices = self.indices.ravel().astype(np.int32)
        self.values = np.zeros(6 * count)
        self.matrix = PETSc.Mat().createAIJ(
            ((rows, PETSc.DETERMINE), (2 * count, PETSc.DETERMINE)), comm=comm
        )
        self.matrix.setPreallocationCSR((self.indptr, self.indices))
        self.update()

    def update(self) -> None:
        """Recompute t1, t2 from the current m."""
        problem = self.problem
        m = problem.m.x.array.reshape(-1, 3)[problem.magnetic_nodes]
        helper = np.zeros_like(m)
        helper[np.arange(len(m)), np.argmin(np.abs(m), axis=1)] = 1.0
        t1 = np.cross(m, helper)
        t1 /= np.linalg.norm(t1, axis=1)[:, None]
        t2 = np.cross(m, t1)
        t2 /= np.linalg.norm(t2, axis=1)[:, None]
        # row 3i+c holds (t1[c], t2[c])
        self.values[:] = np.stack((t1, t2), axis=2).ravel()
        self.matrix.setValuesCSR(self.indptr, self.indices, self.values)
        self.matrix.assemble()
