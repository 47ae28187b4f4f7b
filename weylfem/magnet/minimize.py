"""Energy minimisation by steepest descent on the sphere with Barzilai-Borwein steps.

The method of Exl et al. (J. Appl. Phys. 115, 17D118 (2014)), which mumax3 also uses:
with the nodal descent direction d_i = B_eff,perp,i = -m_i x (m_i x B_eff,i) (tesla),

    m_i <- (m_i + tau d_i) / |m_i + tau d_i|,

and the step tau (1/T) from the last two iterates, s = m_k - m_{k-1}, y = d_{k-1} - d_k
(inner products weighted by the nodes' M_s-weighted volumes), alternating
tau = (s.s)/(s.y) and (s.y)/(y.y).  Every iteration costs one effective-field evaluation
(one demagnetizing solve) and no linear solve; the energy is not monotone from step to
step.  A step is capped so that no node turns by more than `max_change`.  The field comes
from the operators built once (`weylfem.magnet.field_operator`): no assembly per
iteration.  It stops when
max |m x B_eff| falls below the tolerance (tesla) and raises ConvergenceError if that
does not happen within `max_iterations`.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI

from weylfem.errors import ConvergenceError
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.relaxation import RelaxationResult


def minimize(
    problem: MicromagneticProblem,
    torque_tolerance_T: float = 1e-5,
    *,
    max_iterations: int = 20_000,
    max_change: float = 0.2,
) -> RelaxationResult:
    """Minimise the energy of `problem.m` in place (time is not advanced)."""
    comm = problem.device_mesh.comm
    weights = problem.nodal_weights[:, None]

    def dot(a: np.ndarray, b: np.ndarray) -> float:
        return comm.allreduce(float(np.sum(weights * a * b)), op=MPI.SUM)

    operator = problem.field_operator

    def descent() -> tuple[np.ndarray, float]:
        m = problem.owned_magnetization()
        field = operator.field()
        direction = field - np.sum(m * field, axis=1)[:, None] * m
        local = float(np.max(np.linalg.norm(direction, axis=1), initial=0.0))
        return direction, comm.allreduce(local, op=MPI.MAX)

    direction, torque = descent()
    step = 0.01 * max_change / max(torque, 1e-300)
    previous: tuple[np.ndarray, np.ndarray] | None = None
    for iteration in range(max_iterations):
        if torque < torque_tolerance_T:
            return RelaxationResult(iteration, 0, torque, problem.energies())
        m = problem.owned_magnetization()
        if previous is not None:
            s, y = m - previous[0], previous[1] - direction
            sy = dot(s, y)
            if sy > 0:
                step = dot(s, s) / sy if iteration % 2 else sy / dot(y, y)
        step = min(step, max_change / max(torque, 1e-300))
        moved = m + step * direction
        previous = (m, direction)
        problem.set_magnetization(moved)
        direction, torque = descent()
    raise ConvergenceError("minimize", "max |m x B_eff| above tolerance", max_iterations)
