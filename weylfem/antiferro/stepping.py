"""Adaptive explicit Runge-Kutta time stepping of sublattice LLG equations through PETSc TS.

`ExplicitRungeKutta` is PETSc's TSRK "5dp" (Dormand-Prince 5(4)) with TSAdapt "basic" on
a flat state vector of owned values, with a plain `rhs(t, y, out)` callback and a
post-step projection `project(y)` (the renormalisation |m_k| = 1 of every sublattice at
every node; the FSAL stage is then restarted).  Sublattice dynamics are THz-fast and stiff
in the interlattice exchange; the adaptive step follows the exchange precession, the error
per step is held below `tolerance` (absolute, on the direction components).

`SublatticeLLG` is the right side of the Landau-Lifshitz form of each sublattice's Gilbert
equation, dm_k/dt = -gamma_k/(1 + alpha_k^2) [m_k x B_k + alpha_k m_k x (m_k x B_k)] (+ the
torques of `extra_torques`, each (y, t) -> (nodes, k, 3) torques T_k in the Gilbert
equation's dm/dt = -gamma m x B + alpha m x dm/dt + T); `relax_sublattices` integrates
the precession-free flow dm_k/dt = -gamma_k m_k x (m_k x B_k) until every torque
|m_k x B_k| is below a tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

from weylfem.antiferro.problem import SublatticeProblem
from weylfem.errors import ConvergenceError
from weylfem.magnet.relaxation import RelaxationResult

DEFAULT_TOLERANCE = 1e-7
"""absolute error per step on the direction components"""

RightSide = Callable[[float, np.ndarray, np.ndarray], None]
Projection = Callable[[np.ndarray], None]
ExtraTorque = Callable[[np.ndarray, float], np.ndarray]


class ExplicitRungeKutta:
    """PETSc TS RK 5dp with basic adaptivity over a flat owned state (collective)."""

    scheme = "rk5dp"

    def __init__(
        self,
        comm: MPI.Comm,
        local_size: int,
        rhs: RightSide,
        project: Projection | None = None,
        *,
        tolerance: float = DEFAULT_TOLERANCE,
        prefix: str = "weylfem_sublattice_ts_",
        max_steps: int = 1_000_000,
    ):
        if not 0 < tolerance < 1:
            raise ValueError(f"tolerance must be in (0, 1), got {tolerance}")
        self.rhs, self.project, self.tolerance = rhs, project, tolerance
        self.max_steps = max_steps
        self.solution = PETSc.Vec().createMPI((local_size, PETSc.DECIDE), comm=comm)
        residual = self.solution.duplicate()
        ts = PETSc.TS().create(comm)
        ts.setOptionsPrefix(prefix)
        ts.setType(PETSc.TS.Type.RK)
        ts.setRKType("5dp")
        ts.setRHSFunction(self._rhs, residual)
        options = PETSc.Options()
        adapt_key = prefix + "ts_adapt_type"
        added = not options.hasName(adapt_key)
        if added:  # petsc4py 3.18 has no getAdapt; the option is removed once read
            options[adapt_key] = "basic"
        ts.setTolerances(rtol=0.0, atol=tolerance)
        ts.setExactFinalTime(PETSc.TS.ExactFinalTime.MATCHSTEP)
        ts.setMaxStepRejections(100)
        if project is not None:
            ts.setPostStep(self._post_step)
        try:
            ts.setFromOptions()
        finally:
            if added:
                options.delValue(adapt_key)
        self.ts = ts
        self.internal_step_s: float | None = None
        """the next internal step to try (None: the first interval)"""
        self.accepted = 0
        self.rejected = 0

    def _rhs(self, ts, time_s, y, out) -> None:
        self.rhs(time_s, y.getArray(readonly=True), out.getArray())

    def _post_step(self, ts) -> None:
        solution = ts.getSolution()
        self.project(solution.getArray())
        ts.restartStep()

    def advance(self, y: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
        """The state at `end_s` from `y` at `start_s` (a new array)."""
        ts = self.ts
        self.solution.getArray()[:] = y
        ts.setTime(start_s)
        ts.setMaxTime(end_s)
        ts.setTimeStep(min(self.internal_step_s or end_s - start_s, end_s - start_s))
        first = ts.getStepNumber()
        ts.setMaxSteps(first + self.max_steps)
        rejected = ts.getStepRejections()
        ts.solve(self.solution)
        reason = ts.getConvergedReason()
        steps = ts.getStepNumber() - first
        if reason != PETSc.TS.ConvergedReason.CONVERGED_TIME:
            raise ConvergenceError(ts.getOptionsPrefix() + "rk5dp", _reason_name(reason), steps)
        self.accepted += steps
        self.rejected += ts.getStepRejections() - rejected
        self.internal_step_s = ts.getTimeStep()
        return self.solution.getArray(readonly=True).copy()


def _reason_name(reason: int) -> str:
    names = {v: k for k, v in vars(PETSc.TS.ConvergedReason).items() if isinstance(v, int)}
    return names.get(reason, str(reason))


def stable_step_estimate(problem: SublatticeProblem) -> float:
    """A first internal step, 0.1/(gamma max |B_k|) (a tenth of a precession radian in the
    largest field), from which the adaptivity takes over (collective)."""
    comm = problem.device_mesh.comm
    local = float(
        np.max(problem.gamma * np.linalg.norm(problem.fields(), axis=2)[..., None], initial=0.0)
    )
    rate = comm.allreduce(local, op=MPI.MAX)
    return 0.1 / rate if rate > 0 else None


def normalise(y: np.ndarray) -> None:
    """|m| = 1 for every 3-block of the flat state, in place."""
    blocks = y.reshape(-1, 3)
    blocks /= np.linalg.norm(blocks, axis=1)[:, None]


class SublatticeLLG:
    """The sublattice LLG equations of `problem` stepped by `ExplicitRungeKutta`."""

    scheme = "rk5dp"
    solver = None
    """no linear solver"""

    def __init__(
        self,
        problem: SublatticeProblem,
        tolerance: float = DEFAULT_TOLERANCE,
        extra_torques: Sequence[ExtraTorque] = (),
    ):
        self.problem = problem
        self.extra_torques = tuple(extra_torques)
        self.solver_choice = f"explicit (PETSc TSRK 5dp, TSAdapt basic, tolerance {tolerance:g})"
        self.stepper = ExplicitRungeKutta(
            problem.device_mesh.comm,
            problem.state().size,
            self.rate,
            normalise,
            tolerance=tolerance,
        )
        self.stepper.internal_step_s = stable_step_estimate(problem)
        self.steps = 0

    def rate(self, time_s: float, y: np.ndarray, out: np.ndarray) -> None:
        """dm_k/dt at the owned magnetic nodes into `out` (flat, like y).  Collective."""
        problem = self.problem
        problem.set_state(y)
        problem.set_time(time_s)
        m = y.reshape(-1, problem.count, 3)
        a = -problem.gamma * np.cross(m, problem.fields())
        for torque in self.extra_torques:
            t = torque(m, time_s)
            a += t - np.sum(m * t, axis=2, keepdims=True) * m
        alpha = problem.alpha
        out[:] = ((a + alpha * np.cross(m, a)) / (1 + alpha**2)).reshape(-1)

    def step(self, step_s: float) -> float:
        """Advance the directions and the time by `step_s`; returns the largest |dm_k|."""
        problem = self.problem
        start, start_s = problem.state(), problem.time_s
        y = self.stepper.advance(start, start_s, start_s + step_s)
        problem.set_state(y)
        problem.set_time(start_s + step_s)
        self.steps += 1
        change = np.linalg.norm((y - start).reshape(-1, 3), axis=1)
        local = float(np.max(change, initial=0.0))
        return problem.device_mesh.comm.allreduce(local, op=MPI.MAX)


def relax_sublattices(
    problem: SublatticeProblem,
    torque_tolerance_T: float = 1e-5,
    *,
    max_steps: int = 200_000,
    tolerance: float = DEFAULT_TOLERANCE,
) -> RelaxationResult:
    """Integrate dm_k/dt = -gamma_k m_k x (m_k x B_k) (energy decreasing, no precession)
    until max |m_k x B_k| < `torque_tolerance_T`, at the problem's current time.
    ConvergenceError after `max_steps` internal steps."""
    gamma = problem.gamma

    def flow(time_s: float, y: np.ndarray, out: np.ndarray) -> None:
        problem.set_state(y)
        m = y.reshape(-1, problem.count, 3)
        out[:] = (-gamma * np.cross(m, np.cross(m, problem.fields()))).reshape(-1)

    comm = problem.device_mesh.comm
    stepper = ExplicitRungeKutta(
        comm,
        problem.state().size,
        flow,
        normalise,
        tolerance=tolerance,
        prefix="weylfem_sublattice_relax_",
        max_steps=max_steps,
    )
    stepper.internal_step_s = stable_step_estimate(problem)
    y = problem.state()
    torque = problem.max_torque_T()
    pseudo_time, chunk = (
        0.0,
        1.0 / (float(comm.allreduce(np.max(gamma), op=MPI.MAX)) * max(torque, 1e-12)),
    )
    while torque >= torque_tolerance_T:
        if stepper.accepted >= max_steps:
            raise ConvergenceError(
                "sublattice relaxation", "torque above tolerance", stepper.accepted
            )
        y = stepper.advance(y, pseudo_time, pseudo_time + chunk)
        pseudo_time += chunk
        chunk *= 1.5
        problem.set_state(y)
        torque = problem.max_torque_T()
    return RelaxationResult(stepper.accepted, stepper.rejected, torque, problem.energies())
