"""The protocol every time-stepped magnet simulation gives the run loop (`evolve`), and
its implementation for a magnet alone.

A simulation advances its magnet (and whatever is coupled to it) by one step, says which
columns it adds to series.csv and which fields to the snapshots, and hands its running
totals to checkpoints and takes them back on resume.  `MagnetDynamics` is the magnet
alone (LLG only); `weylfem.coupled.problem.CoupledProblem` is the magnet with the
charge-valley transport.  The loop knows no more than this protocol, so a new kind of
simulation touches no branch of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from dolfinx import fem

from weylfem.device import Device
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.tangent_plane import TangentPlaneIntegrator


class Simulation(Protocol):
    """What `weylfem.magnet.evolution.evolve` needs of a simulation."""

    magnet: MicromagneticProblem
    integrator: TangentPlaneIntegrator

    def step(self, step_s: float) -> float:
        """Advance by `step_s`; returns the largest |dm| of the step."""

    def synchronize(self) -> None:
        """Recompute what depends on m and the time after they were changed from outside
        (a relaxation, the start of the run)."""

    def series_columns(self) -> list[str]:
        """Columns added to the magnet's own in series.csv."""

    def series_values(self) -> list[float]:
        """The values of `series_columns` now."""

    def snapshot_fields(self) -> list[fem.Function]:
        """Fields added to m and B_eff in the snapshots."""

    def running_totals(self) -> dict[str, object]:
        """Running totals a checkpoint keeps (flat data)."""

    def resume(self, totals: Mapping[str, object]) -> None:
        """Continue after the magnet and integrator were restored from a checkpoint, with
        the `running_totals` of the interrupted run."""

    def work_s(self) -> dict[str, float]:
        """Wall time so far in assembly, preconditioner set-up and Krylov solves."""


class MagnetDynamics:
    """The LLG of a magnet on its own: nothing beyond the magnet's series and fields."""

    def __init__(self, magnet: MicromagneticProblem, integrator: TangentPlaneIntegrator):
        self.magnet = magnet
        self.integrator = integrator

    def step(self, step_s: float) -> float:
        """One integrator step; returns the largest |dm|."""
        return self.integrator.step(step_s)

    def synchronize(self) -> None:
        """Nothing depends on m outside the magnet."""

    def series_columns(self) -> list[str]:
        """No columns beyond the magnet's."""
        return []

    def series_values(self) -> list[float]:
        """No values beyond the magnet's."""
        return []

    def snapshot_fields(self) -> list[fem.Function]:
        """No fields beyond m and B_eff."""
        return []

    def running_totals(self) -> dict[str, object]:
        """No running totals."""
        return {}

    def resume(self, totals: Mapping[str, object]) -> None:
        """The restored magnet and integrator are the whole state."""

    def work_s(self) -> dict[str, float]:
        """The integrator's assembly, preconditioner and solve time."""
        return self.integrator.work_s()


def make_integrator(problem: MicromagneticProblem, device: Device) -> TangentPlaneIntegrator:
    """The LLG integrator [dynamics] and [solver] ask for."""
    dynamics, solver = device.dynamics, device.solver
    return TangentPlaneIntegrator(
        problem,
        dynamics.scheme,
        dynamics.theta_value,
        solver=solver.kind,
        rtol=solver.rtol,
        direct_max_dofs=solver.direct_max_dofs,
        petsc_options=solver.petsc_options,
    )
