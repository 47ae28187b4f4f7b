"""Magnetization dynamics as a simulation of the run loop (`weylfem.simulation.loop`).

A `MagnetSystem` is a magnet and whatever is coupled to it: it advances by one step, says
which columns it adds to the magnet's in series.csv and which fields to m and B_eff in
the snapshots, and hands its running totals to checkpoints and takes them back on resume.
`LoneMagnet` is the magnet alone (LLG only); `weylfem.coupled.problem.CoupledProblem` is
the magnet with the charge-valley transport.  `MagnetDynamics` runs either: it relaxes
first if [dynamics] asks (at a negative time, drives off), writes the magnet's series
rows and checkpoints (`weylfem.magnet.checkpoint`) and reports the run.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from dolfinx import fem

from weylfem.depth import Depth
from weylfem.device import Device
from weylfem.magnet.adaptive import AdaptiveIntegrator
from weylfem.magnet.checkpoint import (
    capture,
    device_record,
    read_checkpoint,
    restore,
    write_checkpoint,
)
from weylfem.magnet.minimize import minimize
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.relaxation import RelaxationResult, relax
from weylfem.magnet.setup import MagnetSetup
from weylfem.magnet.tangent_plane import TangentPlaneIntegrator
from weylfem.output.plots import plot_magnetization_series
from weylfem.output.series import read_series
from weylfem.output.staging import RunDirectory
from weylfem.simulation.protocol import OutputFiles, Schedule
from weylfem.solvers import solver_description
from weylfem.timings import Timings

LLGIntegrator = TangentPlaneIntegrator | AdaptiveIntegrator
"""What steps the LLG: a tangent-plane scheme or the adaptive explicit one."""
RELAXATION_TIME_S = -math.inf
"""When a relaxation runs: before t = 0, so that every drive's waveform is 0."""
AVERAGE_COLUMNS = ("m_x", "m_y", "m_z")


def series_columns(term_names: Sequence[str]) -> list[str]:
    """The magnet's header: step, time, step size, <m>, every term's energy and the total,
    the largest torque |m x B_eff| and the largest nodal change |dm| since the previous
    row."""
    energies = [f"E_{name}_J" for name in (*term_names, "total")]
    return ["step", "time_s", "step_s", *AVERAGE_COLUMNS, *energies, "max_torque_T", "max_dm"]


class MagnetSystem(Protocol):
    """A magnet and what is coupled to it, as `MagnetDynamics` steps it."""

    magnet: MicromagneticProblem
    integrator: LLGIntegrator
    model: str
    """the model's name in results.json"""

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

    def report(self) -> dict:
        """What results.json holds about the coupled parts."""


class LoneMagnet:
    """The LLG of a magnet on its own: nothing beyond the magnet's series and fields."""

    model = "magnetization dynamics"

    def __init__(self, magnet: MicromagneticProblem, integrator: LLGIntegrator):
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

    def report(self) -> dict:
        """Nothing beyond the magnet's report."""
        return {}


class MagnetDynamics:
    """[dynamics] of `system` (the magnet of `setup`, and what is coupled to it) as a
    resumable simulation: series.csv, magnetization.xdmf, checkpoint.npz, series.png."""

    def __init__(self, system: MagnetSystem, setup: MagnetSetup, device: Device):
        self.system, self.setup, self.device = system, setup, device
        self.problem, self.integrator = system.magnet, system.integrator
        self.device_mesh = self.problem.device_mesh
        self.model = system.model
        self.schedule = dynamics_schedule(device)
        self.files = OutputFiles(
            series="series.csv",
            snapshots="magnetization.xdmf",
            snapshot_key="m",
            checkpoint=RunDirectory.CHECKPOINT,
        )
        self.record = device_record(device)
        self.term_names = [term.name for term in self.problem.terms]
        self.steps = 0
        self.last_step_s = 0.0
        self.max_change = 0.0
        """largest nodal |dm| since the last series row"""
        self.relaxation: RelaxationResult | None = None
        self.resumed_from_step: int | None = None

    @property
    def time_s(self) -> float:
        """The magnet's time."""
        return self.problem.time_s

    def start(self, timings: Timings) -> None:
        """Relax (if [dynamics] asks, drives off) and synchronize the system at t = 0."""
        problem, system = self.problem, self.system
        if self.device.dynamics.relax_first:
            with timings.phase("relax"):
                problem.set_time(RELAXATION_TIME_S)
                system.synchronize()  # the drives off (no valley torque, for one)
                self.relaxation = self._relax()
        problem.set_time(0.0)
        system.synchronize()

    def _relax(self) -> RelaxationResult:
        dynamics, solver = self.device.dynamics, self.device.solver
        if dynamics.relax_method == "barzilai_borwein":
            return minimize(
                self.problem,
                dynamics.relax_torque_tolerance_T,
                max_iterations=dynamics.relax_max_steps,
            )
        return relax(
            self.problem,
            dynamics.relax_torque_tolerance_T,
            max_steps=dynamics.relax_max_steps,
            damping=dynamics.relax_damping,
            solver=solver.kind,
            petsc_options=solver.petsc_options,
        )

    def step(self, step_s: float) -> None:
        """One step of the system."""
        self.max_change = max(self.max_change, self.system.step(step_s))
        self.last_step_s = step_s
        self.steps += 1

    def series_columns(self) -> list[str]:
        """The magnet's columns, then the system's."""
        return series_columns(self.term_names) + self.system.series_columns()

    def series_row(self, step: int) -> list[float]:
        """The row after `step`; the largest |dm| starts again from 0."""
        problem = self.problem
        energies = problem.energies()
        row = [
            step,
            problem.time_s,
            self.last_step_s,
            *problem.average_magnetization(),
            *(energies[name] for name in (*self.term_names, "total")),
            problem.max_torque_T(),
            self.max_change,
            *self.system.series_values(),
        ]
        self.max_change = 0.0
        return row

    def snapshot_fields(self) -> list[fem.Function]:
        """m, B_eff and the system's fields."""
        problem = self.problem
        problem.update()
        return [problem.m, problem.effective_field, *self.system.snapshot_fields()]

    def write_state(self, path: Path, step: int) -> None:
        """The checkpoint after `step` (collective)."""
        problem = self.problem
        extras = {**self.system.running_totals(), **self.integrator.checkpoint_extras()}
        state = capture(
            problem, self.integrator, step, self.last_step_s, self.max_change, self.record, extras
        )
        write_checkpoint(path, problem, state, self.device_mesh.comm)
        # a resumed run starts with the terms out of date (its demagnetizing potential a
        # restored initial guess); so does this one, so that both compute the same
        problem.mark_changed()

    def restore(self, path: Path) -> int:
        """The state of the checkpoint `path` (which must be this device's)."""
        state = read_checkpoint(path, self.problem, self.record)
        restore(self.problem, self.integrator, state)
        self.integrator.resume_extras(state.extras)
        self.max_change = state.max_change
        self.system.resume(state.extras)
        self.steps = self.resumed_from_step = state.step
        return state.step

    def write_pictures(self, directory: Path) -> dict[str, str]:
        """<m> and the energies against time (series.png, drawn by rank 0)."""
        if self.device_mesh.comm.rank == 0:
            series = read_series(directory / self.files.series)
            unit = Depth.of(self.device).units["energy"]
            plot_magnetization_series(directory / "series.png", series, self.device.name, unit)
        return {"series_png": "series.png"}

    def describe_mesh(self) -> dict:
        """Cells, vertices, magnetic nodes, ranks and dimension."""
        return {**self.device_mesh.describe(), "magnetic_nodes": self.problem.magnetic_node_count}

    def describe_solver(self) -> dict:
        """The LLG scheme and the solver of its steps."""
        integrator = self.integrator
        return {
            "scheme": integrator.scheme,
            **solver_description(integrator.solver_choice, integrator.solver),
            **integrator.describe(),
        }

    def report(self) -> dict:
        """The magnet, the run, the relaxation, the final state and the system's report."""
        problem, device = self.problem, self.device
        relaxation = self.relaxation
        return {
            "magnetization": {
                **self.setup.describe(),
                "demagnetization": device.magnetization.demagnetization,
            },
            "dynamics": {
                **dataclasses.asdict(device.dynamics),
                "steps": self.steps,
                "final_time_s": problem.time_s,
                "resumed_from_step": self.resumed_from_step,
            },
            "relaxation": None if relaxation is None else dataclasses.asdict(relaxation),
            "final": {
                "average_magnetization": problem.average_magnetization(),
                "energies_J": problem.energies(),
                "max_torque_T": problem.max_torque_T(),
            },
            **self.system.report(),
        }


def dynamics_schedule(device: Device) -> Schedule:
    """The schedule of a device's [dynamics] (snapshots only with fields_xdmf output)."""
    dynamics = device.dynamics
    return Schedule(
        step_s=dynamics.time_step_s,
        steps=dynamics.steps(),
        end_time_s=dynamics.end_time_s,
        series_every=dynamics.series_every,
        snapshot_every=dynamics.snapshot_every if device.output.fields_xdmf else None,
        checkpoint_every=dynamics.checkpoint_every,
    )


def make_integrator(problem: MicromagneticProblem, device: Device) -> LLGIntegrator:
    """The LLG integrator [dynamics] and [solver] ask for."""
    dynamics, solver = device.dynamics, device.solver
    if dynamics.adaptive:
        return AdaptiveIntegrator(problem, dynamics.tolerance_value, dynamics.scheme)
    return TangentPlaneIntegrator(
        problem,
        dynamics.scheme,
        dynamics.theta_value,
        solver=solver.kind,
        rtol=solver.rtol,
        direct_max_dofs=solver.direct_max_dofs,
        petsc_options=solver.petsc_options,
    )
