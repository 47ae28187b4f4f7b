"""Relaxation to a local energy minimum by damped gradient flow.

The flow (M_s alpha_r / gamma) dm/dt = M_s B_eff,perp (the Gilbert equation without
precession) is stepped with the theta = 1 tangent-plane scheme, whose steps never raise
the energy of the implicit (exchange) part.  The step grows while the energy falls and
m changes little, and a step that raises the total energy is undone and retried at half
the size; so is one whose energy change is below the resolution (1e-12 |E|) but whose
increment reverses the previous one (the explicit terms overshooting near the minimum).
Relaxation stops when max |m x B_eff| over the nodes falls below the tolerance (in
tesla), and fails with ConvergenceError if that does not happen within `max_steps`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mpi4py import MPI

from weylfem.errors import ConvergenceError
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.tangent_plane import TangentPlaneIntegrator


@dataclass(frozen=True)
class RelaxationResult:
    """Outcome of a relaxation."""

    steps: int
    rejected_steps: int
    max_torque_T: float
    energies_J: dict[str, float]


def relax(
    problem: MicromagneticProblem,
    torque_tolerance_T: float = 1e-5,
    *,
    max_steps: int = 5000,
    damping: float = 1.0,
    initial_step_s: float | None = None,
    max_change: float = 0.2,
    solver: str = "auto",
    petsc_options: dict | None = None,
) -> RelaxationResult:
    """Relax `problem.m` in place to max |m x B_eff| < torque_tolerance_T (time is not
    advanced).  `max_change` bounds the nodal change |dm| of an accepted step."""
    integrator = TangentPlaneIntegrator(
        problem,
        "tangent_plane",
        theta=1.0,
        precession=False,
        damping=damping,
        solver=solver,
        petsc_options=petsc_options,
        name="relax",
    )
    # the largest gamma of any rank (a rank may hold no magnetic cell: gamma = 0 there)
    gamma = problem.device_mesh.comm.allreduce(
        float(problem.coefficients.gyromagnetic_ratio.x.array.max()), op=MPI.MAX
    )
    torque = problem.max_torque_T()
    step = initial_step_s or 0.01 * damping / (gamma * max(torque, torque_tolerance_T))
    energy = problem.energies()["total"]
    time_s = problem.time_s
    comm = problem.device_mesh.comm
    rejected = 0
    previous = None
    for _ in range(max_steps):
        if torque < torque_tolerance_T:
            break
        saved = problem.owned_magnetization()
        change = integrator.step(step)
        problem.set_time(time_s)
        new_energy = problem.energies()["total"]
        increment = problem.owned_magnetization() - saved
        resolution = 1e-12 * abs(energy)
        # where the energy change is below its resolution, an overshooting explicit step
        # shows as an increment reversing the previous one: reject it too
        reverses = (
            previous is not None
            and abs(new_energy - energy) <= resolution
            and comm.allreduce(float(np.sum(increment * previous)), op=MPI.SUM) < 0
        )
        if (new_energy > energy + resolution or reverses) and step > 1e-6 / gamma:
            problem.set_magnetization(saved)
            step *= 0.5
            rejected += 1
            continue
        previous = increment
        energy = new_energy
        torque = problem.max_torque_T()
        step *= float(np.clip(0.5 * max_change / max(change, 1e-300), 0.5, 2.0))
    else:
        raise ConvergenceError("relax", "max |m x B_eff| above tolerance", max_steps)
    return RelaxationResult(integrator.steps, rejected, torque, problem.energies())
