"""Adaptive explicit Runge-Kutta integration of the Landau-Lifshitz-Gilbert equation
(docs/theory.md §3, "Integrators").

The Gilbert equation dm/dt = -gamma m x B + alpha m x dm/dt + T (B = B_eff) is, for
|m| = 1 and v = dm/dt tangent to m, the Landau-Lifshitz equation

    (1 + alpha^2) v = a + alpha m x a,   a = -gamma m x B + T_perp

(cross the Gilbert equation with m: m x v = m x a - alpha v, and substitute).  It is
stepped at the nodes: B from `FieldOperator` (operators built once), the torques T from
their forms assembled at every evaluation (nodal values: weak form over the lumped
M_s-mass, the normal component dropped), gamma and alpha the nodes' M_s-weighted means.

Two embedded pairs, both keeping the fifth-order solution (local extrapolation), with
the error estimate err = max over nodes and components of |m5 - m4| (the embedded
fourth-order solution m4); a step is accepted when err <= tolerance (dimensionless, per
step, like mumax3's MaxErr).  The next step is 0.9 (tolerance/err)^(1/5) times this one,
within [0.2, 5] (at most 1 after a rejection).  After every accepted step m is
normalised at the nodes.

- `scheme = "rk45"`: the Dormand-Prince 5(4) pair (J. R. Dormand, P. J. Prince, J.
  Comput. Appl. Math. 6, 19 (1980)).  Its seventh stage (first-same-as-last) is
  evaluated at the normalised m and is the first stage of the next step, so a step
  costs six field evaluations (also across calls, unless m or the time were changed in
  between).
- `scheme = "rkf45"`: the Runge-Kutta-Fehlberg 4(5) pair (E. Fehlberg, NASA TR R-315
  (1969)), six stages, six field evaluations a step, as magnum.np's RKF45.  Where the
  step is bound by the stability of the fastest exchange modes (a micromagnetic mesh at
  the exchange length), its fifth-order solution stays stable at longer steps: µMAG
  SP4 at 5 nm takes 700 steps (+85 rejected) for 1 ns against Dormand-Prince's 1094
  (+4), the landmarks equal to four digits (bench/results.md).  Where accuracy sets the
  step, Dormand-Prince's smaller error constant wins.

One call `step(step_s)` advances by exactly step_s with as many internal steps as the
tolerance needs (the last one shortened to land on the end); the internal step size is
carried from call to call (and through checkpoints), the first trial being step_s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat
from weylfem.errors import ConvergenceError
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.timings import WORK_TIMERS

DEFAULT_TOLERANCE = 1e-5
"""error per step on m (mumax3's MaxErr default)"""
SAFETY, SHRINK_LIMIT, GROWTH_LIMIT = 0.9, 0.2, 5.0
SMALLEST_STEP = 1e-9
"""a step below this fraction of step_s fails the integration (ConvergenceError)"""


@dataclass(frozen=True)
class EmbeddedPair:
    """An explicit Runge-Kutta pair: nodes c, stages a, the propagated (fifth-order)
    weights b and e = b - b_embedded.  `first_same_as_last`: the last stage is evaluated
    at the new solution (b is the last row of a), and is the next step's first."""

    name: str
    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    e: tuple[float, ...]
    first_same_as_last: bool


# Dormand-Prince 5(4): b = the last row of a (first same as last)
DORMAND_PRINCE = EmbeddedPair(
    "Dormand-Prince 5(4)",
    c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    a=(
        (),
        (1 / 5,),
        (3 / 40, 9 / 40),
        (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
    ),
    b=(35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0),
    e=(71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40),
    first_same_as_last=True,
)
_FEHLBERG_B5 = (16 / 135, 0.0, 6656 / 12825, 28561 / 56430, -9 / 50, 2 / 55)
_FEHLBERG_B4 = (25 / 216, 0.0, 1408 / 2565, 2197 / 4104, -1 / 5, 0.0)
FEHLBERG = EmbeddedPair(
    "Runge-Kutta-Fehlberg 4(5)",
    c=(0.0, 1 / 4, 3 / 8, 12 / 13, 1.0, 1 / 2),
    a=(
        (),
        (1 / 4,),
        (3 / 32, 9 / 32),
        (1932 / 2197, -7200 / 2197, 7296 / 2197),
        (439 / 216, -8.0, 3680 / 513, -845 / 4104),
        (-8 / 27, 2.0, -3544 / 2565, 1859 / 4104, -11 / 40),
    ),
    b=_FEHLBERG_B5,
    e=tuple(b5 - b4 for b5, b4 in zip(_FEHLBERG_B5, _FEHLBERG_B4, strict=True)),
    first_same_as_last=False,
)
PAIRS = {"rk45": DORMAND_PRINCE, "rkf45": FEHLBERG}
SCHEMES = tuple(PAIRS)


class AdaptiveIntegrator:
    """Steps a MicromagneticProblem with an adaptive embedded pair (`scheme`: a key of
    PAIRS)."""

    solver = None
    """no linear solver of its own (the demagnetizing potential has one)"""

    def __init__(
        self,
        problem: MicromagneticProblem,
        tolerance: float = DEFAULT_TOLERANCE,
        scheme: str = "rk45",
    ):
        if not 0 < tolerance < 1:
            raise ValueError(f"tolerance must be in (0, 1), got {tolerance}")
        if scheme not in PAIRS:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        self.problem = problem
        self.tolerance = tolerance
        self.scheme = scheme
        self.pair = PAIRS[scheme]
        self.solver_choice = f"explicit ({self.pair.name}, tolerance {tolerance:g})"
        self.operator = problem.field_operator
        self._evaluations_before = self.operator.evaluations
        self.gamma = self._nodal(problem.coefficients.gyromagnetic_ratio)[:, None]
        self.alpha = self._nodal(problem.coefficients.damping)[:, None]
        self._torque_form = None
        if problem.torques:
            test = ufl.TestFunction(problem.space)
            saturation = problem.coefficients.saturation_magnetization
            torque = sum(t.torque(problem.m) for t in problem.torques)
            self._torque_form = fem.form(saturation * ufl.dot(torque, test) * problem.dx)
            self._torque_vector = compat.create_vector(self._torque_form)
        self._carried: tuple[float, np.ndarray, np.ndarray] | None = None
        """(time, m, dm/dt) at the end of the last call"""
        self.internal_step_s: float | None = None
        """the next internal step to try (None: the first call's step_s)"""
        self.steps = 0
        """run-loop steps taken"""
        self.accepted = 0
        self.rejected = 0
        self.smallest_step_s = math.inf
        self.largest_step_s = 0.0

    def _nodal(self, coefficient: fem.Function) -> np.ndarray:
        """The M_s-weighted mean of a DG0 coefficient at each owned magnetic node (over
        its column, for a film uniform through its thickness)."""
        problem = self.problem
        test = ufl.TestFunction(problem.space)
        saturation = problem.coefficients.saturation_magnetization
        weight = ufl.dot(ufl.as_vector((1.0, 1.0, 1.0)), test)
        form = fem.form(saturation * coefficient * weight * problem.dx)
        vector = compat.create_vector(form)
        compat.assemble_vector_into(vector, form)
        return problem.nodal(vector.array.reshape(-1, 3)[problem.magnetic_nodes])[:, 0]

    # -- the right side -----------------------------------------------------------------------

    def rate(self, m: np.ndarray, time_s: float) -> np.ndarray:
        """dm/dt (n, 3) of the Landau-Lifshitz form at the owned magnetic nodes for the
        nodal m (n, 3) at `time_s`.  Collective."""
        problem = self.problem
        problem.set_time(time_s)
        field = self.operator.field(m)
        a = -self.gamma * np.cross(m, field)
        if self._torque_form is not None:
            with compat.timer(WORK_TIMERS["assemble"]):
                compat.assemble_vector_into(self._torque_vector, self._torque_form)
            torque = problem.nodal(self._torque_vector.array.reshape(-1, 3)[problem.magnetic_nodes])
            normal = np.sum(m * torque, axis=1) / np.sum(m * m, axis=1)
            a += torque - normal[:, None] * m
        return (a + self.alpha * np.cross(m, a)) / (1 + self.alpha**2)

    # -- stepping ------------------------------------------------------------------------------

    def step(self, step_s: float) -> float:
        """Advance m and the time by `step_s`; returns the largest nodal change |dm|."""
        problem = self.problem
        comm = problem.device_mesh.comm
        nodes = problem.magnetic_nodes
        start = problem.m.x.array.reshape(-1, 3)[nodes].copy()
        m, time_s, end_s = start.copy(), problem.time_s, problem.time_s + step_s
        h = self.internal_step_s or step_s
        carried = self._carried
        if carried is not None and carried[0] == time_s and np.array_equal(carried[1], m):
            first = carried[2]  # the last stage of the previous call (first same as last)
        else:
            first = None
        pair = self.pair
        with np.errstate(over="ignore", invalid="ignore"):  # overflow: a rejected step
            while end_s - time_s > 1e-12 * step_s:
                clipped = 1.01 * h >= end_s - time_s  # no sliver of a step before the end
                trial = end_s - time_s if clipped else h
                if first is None:
                    first = self.rate(m, time_s)
                stages = [first]
                for i in range(1, len(pair.c)):
                    stage = m + trial * sum(a * k for a, k in zip(pair.a[i], stages, strict=False))
                    stage_time_s = time_s + pair.c[i] * trial
                    if pair.first_same_as_last and i == len(pair.c) - 1:
                        # the fifth-order solution, normalised
                        stage /= np.linalg.norm(stage, axis=1)[:, None]
                        candidate = stage
                        stage_time_s = end_s if clipped else stage_time_s
                    stages.append(self.rate(stage, stage_time_s))
                if not pair.first_same_as_last:
                    candidate = m + trial * sum(b * k for b, k in zip(pair.b, stages, strict=True))
                    candidate /= np.linalg.norm(candidate, axis=1)[:, None]
                difference = trial * sum(e * k for e, k in zip(pair.e, stages, strict=True) if e)
                local = float(np.max(np.abs(difference), initial=0.0))
                error = comm.allreduce(local, op=MPI.MAX)
                if not math.isfinite(error):  # a far too long trial step overflowed
                    factor = SHRINK_LIMIT
                elif error > 0:
                    factor = SAFETY * (self.tolerance / error) ** 0.2
                else:
                    factor = GROWTH_LIMIT
                if error <= self.tolerance:
                    m = candidate
                    first = stages[-1] if pair.first_same_as_last else None
                    time_s = end_s if clipped else time_s + trial
                    self.accepted += 1
                    self.smallest_step_s = min(self.smallest_step_s, trial)
                    self.largest_step_s = max(self.largest_step_s, trial)
                    proposed = trial * min(GROWTH_LIMIT, max(SHRINK_LIMIT, factor))
                    # a step shortened to land on the end says nothing against the full one
                    h = max(h, proposed) if clipped and factor >= 1 else proposed
                else:
                    self.rejected += 1
                    h = trial * min(1.0, max(SHRINK_LIMIT, factor))
                if h < SMALLEST_STEP * step_s:
                    raise ConvergenceError("rk45", "step size underflow", self.accepted)
        self.internal_step_s = h
        self._carried = (end_s, m, first)
        values = problem.m.x.array.reshape(-1, 3)
        values[nodes] = m
        problem.m.x.scatter_forward()
        problem.mark_changed()
        problem.set_time(end_s)
        self.steps += 1
        local = float(np.max(np.linalg.norm(m - start, axis=1), initial=0.0))
        return comm.allreduce(local, op=MPI.MAX)

    # -- the integrator protocol of the run loop and checkpoints ---------------------------

    @property
    def history(self) -> None:
        """No step history (a one-step method)."""
        return None

    def set_history(self, history) -> None:
        """Nothing to restore: a one-step method has no history."""

    def restart(self) -> None:
        """Forget the last stage of the previous call (the internal step size is kept)."""
        self._carried = None

    def checkpoint_extras(self) -> dict[str, object]:
        """The internal step size, for checkpoints."""
        step = self.internal_step_s
        return {"integrator_internal_step_s": np.nan if step is None else step}

    def resume_extras(self, extras: Mapping[str, object]) -> None:
        """Take back the internal step size of `checkpoint_extras`."""
        value = extras.get("integrator_internal_step_s")
        if value is not None and math.isfinite(float(value)):
            self.internal_step_s = float(value)

    def describe(self) -> dict[str, object]:
        """Tolerance, accepted and rejected internal steps, their range, field evaluations."""
        return {
            "tolerance": self.tolerance,
            "accepted_steps": self.accepted,
            "rejected_steps": self.rejected,
            "smallest_step_s": self.smallest_step_s if self.accepted else None,
            "largest_step_s": self.largest_step_s if self.accepted else None,
            "field_evaluations": self.operator.evaluations - self._evaluations_before,
        }
