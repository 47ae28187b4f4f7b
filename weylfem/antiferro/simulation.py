"""Sublattice magnetization dynamics as a simulation of the run loop
(`weylfem.simulation.protocol.Simulation`): relaxes first if [dynamics] asks (drives off,
at a negative time), steps the sublattice LLG (`SublatticeLLG`: adaptive PETSc TSRK 5dp
within each run-loop step) and writes

- series.csv: step, time, step, the Neel vector <l> (collinear order), the net moment
  <n> = <sum_k m_k>/k, every <m_k>, every term's energy and the total, the largest torque
  max |m_k x B_k| and the largest nodal |dm_k| since the previous row;
- sublattices.xdmf: every m_k, l (collinear order) and n;
- series.png: <l> (or <m_1>), <n> and the energies against time.

It is resumable: checkpoint.npz (`weylfem.antiferro.checkpoint`) holds every m_k, the
directions before the last step (a coupled run's dl/dt) and the adaptive stepper's next
internal step, so a resumed run repeats the uninterrupted one.  With the charge_valley
transport the run is the coupled problem of `weylfem.antiferro.valley` (its columns,
fields and report added to the magnet's).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
from dolfinx import fem

from weylfem.antiferro.checkpoint import (
    SublatticeCheckpoint,
    read_sublattice_checkpoint,
    write_sublattice_checkpoint,
)
from weylfem.antiferro.setup import SublatticeSetup, build_sublattice_magnet
from weylfem.antiferro.stepping import SublatticeLLG, relax_sublattices
from weylfem.antiferro.valley import NeelCoupledProblem, build_neel_coupled
from weylfem.depth import Depth
from weylfem.device import Device
from weylfem.geometry import DeviceMesh
from weylfem.magnet.checkpoint import device_record
from weylfem.magnet.relaxation import RelaxationResult
from weylfem.magnet.simulation import dynamics_schedule
from weylfem.output.series import read_series
from weylfem.output.staging import RunDirectory
from weylfem.simulation.protocol import OutputFiles
from weylfem.timings import Timings

RELAXATION_TIME_S = -math.inf
"""When a relaxation runs: before t = 0, so that every drive's waveform is 0."""


def sublattice_columns(count: int, term_names: list[str]) -> list[str]:
    """The series header of a magnet of `count` sublattices with the energy terms named."""
    vectors = (["l"] if count == 2 else []) + ["n"] + [f"m{k + 1}" for k in range(count)]
    averages = [f"{v}_{c}" for v in vectors for c in "xyz"]
    energies = [f"E_{name}_J" for name in (*term_names, "total")]
    return ["step", "time_s", "step_s", *averages, *energies, "max_torque_T", "max_dm"]


class SublatticeDynamics:
    """[dynamics] of a sublattice magnet as a simulation (collective)."""

    model = "sublattice magnetization dynamics"

    def __init__(
        self,
        setup: SublatticeSetup,
        device: Device,
        tolerance: float | None = None,
        coupled: NeelCoupledProblem | None = None,
    ):
        self.setup, self.device = setup, device
        self.problem = problem = setup.problem
        self.device_mesh: DeviceMesh = problem.device_mesh
        self.coupled = coupled
        if coupled is not None:
            self.model = coupled.model
            self.integrator = coupled.integrator.llg
        elif tolerance is None:
            self.integrator = SublatticeLLG(problem)
        else:
            self.integrator = SublatticeLLG(problem, tolerance)
        self.schedule = dynamics_schedule(device)
        self.files = OutputFiles(
            series="series.csv",
            snapshots="sublattices.xdmf",
            snapshot_key="m1",
            checkpoint=RunDirectory.CHECKPOINT,
        )
        self.record = device_record(device)
        self.previous: np.ndarray | None = None
        """(nodes, k, 3) directions before the last step"""
        self.resumed_from_step: int | None = None
        self.term_names = [term.name for term in problem.terms]
        self.steps = 0
        self.last_step_s = 0.0
        self.max_change = 0.0
        self.relaxation: RelaxationResult | None = None
        space = problem.space
        self.neel = fem.Function(space, name="l") if problem.count == 2 else None
        self.net = fem.Function(space, name="n")

    @property
    def time_s(self) -> float:
        """The magnet's time."""
        return self.problem.time_s

    def start(self, timings: Timings) -> None:
        """Relax (if [dynamics] asks, drives off), then set t = 0."""
        dynamics = self.device.dynamics
        if dynamics.relax_first:
            with timings.phase("relax"):
                self.problem.set_time(RELAXATION_TIME_S)
                self.relaxation = relax_sublattices(
                    self.problem,
                    dynamics.relax_torque_tolerance_T,
                    max_steps=dynamics.relax_max_steps,
                )
        self.problem.set_time(0.0)
        if self.coupled is not None:
            self.coupled.synchronize()

    def step(self, step_s: float) -> None:
        """One run-loop step (many adaptive internal steps; with the valleys, then the
        transport)."""
        system = self.integrator if self.coupled is None else self.coupled
        before = self.problem.state()
        self.max_change = max(self.max_change, system.step(step_s))
        self.previous = before.reshape(-1, self.problem.count, 3)
        self.last_step_s = step_s
        self.steps += 1

    def series_columns(self) -> list[str]:
        """The header of series.csv."""
        columns = sublattice_columns(self.problem.count, self.term_names)
        return columns if self.coupled is None else columns + self.coupled.series_columns()

    def series_row(self, step: int) -> list[float]:
        """The row after `step`; the largest |dm| starts again from 0."""
        problem = self.problem
        averages = problem.averages()
        vectors = ([problem.neel_vector()] if problem.count == 2 else []) + [
            problem.net_direction(),
            *averages,
        ]
        energies = problem.energies()
        row = [
            step,
            problem.time_s,
            self.last_step_s,
            *np.concatenate(vectors),
            *(energies[name] for name in (*self.term_names, "total")),
            problem.max_torque_T(),
            self.max_change,
        ]
        if self.coupled is not None:
            row += self.coupled.series_values()
        self.max_change = 0.0
        return row

    def snapshot_fields(self) -> list[fem.Function]:
        """Every m_k, l (collinear) and n."""
        m = self.problem.m
        self.net.x.array[:] = sum(mk.x.array for mk in m) / len(m)
        fields = [*m, self.net]
        if self.neel is not None:
            self.neel.x.array[:] = (m[0].x.array - m[1].x.array) / 2
            fields.append(self.neel)
        if self.coupled is not None:
            fields += self.coupled.snapshot_fields()
        return fields

    def write_state(self, path: Path, step: int) -> None:
        """The checkpoint after `step` (collective)."""
        problem, stepper = self.problem, self.integrator.stepper
        state = SublatticeCheckpoint(
            step=step,
            time_s=problem.time_s,
            step_s=self.last_step_s,
            max_change=self.max_change,
            directions=problem.state().reshape(-1, problem.count, 3),
            previous=self.previous,
            internal_step_s=stepper.internal_step_s,
            accepted=stepper.accepted,
            rejected=stepper.rejected,
            device=self.record,
            extras={} if self.coupled is None else self.coupled.running_totals(),
        )
        write_sublattice_checkpoint(path, problem, state)

    def restore(self, path: Path) -> int:
        """The state of the checkpoint `path` (which must be this device's)."""
        problem, stepper = self.problem, self.integrator.stepper
        state = read_sublattice_checkpoint(path, problem, self.record)
        problem.set_state(state.directions.reshape(-1))
        problem.set_time(state.time_s)
        stepper.internal_step_s = state.internal_step_s
        stepper.accepted, stepper.rejected = state.accepted, state.rejected
        self.previous = state.previous
        self.max_change, self.last_step_s = state.max_change, state.step_s
        self.steps = self.resumed_from_step = state.step
        if self.coupled is not None:
            self.coupled.restore_rate(state.previous, state.step_s)
            self.coupled.resume(state.extras)
        return state.step

    def write_pictures(self, directory: Path) -> dict[str, str]:
        """<l> (or <m_1>), <n> and the energies against time (series.png, rank 0)."""
        if self.device_mesh.comm.rank == 0:
            series = read_series(directory / self.files.series)
            unit = Depth.of(self.device).units["energy"]
            plot_sublattice_series(directory / "series.png", series, self.device.name, unit)
        return {"series_png": "series.png"}

    def describe_mesh(self) -> dict:
        """Cells, vertices, magnetic nodes, ranks and dimension."""
        return {**self.device_mesh.describe(), "magnetic_nodes": self.problem.magnetic_node_count}

    def describe_solver(self) -> dict:
        """The explicit adaptive scheme and its step counts."""
        stepper = self.integrator.stepper
        return {
            "scheme": self.integrator.scheme,
            "kind": "explicit",
            "choice": self.integrator.solver_choice,
            "accepted_steps": stepper.accepted,
            "rejected_steps": stepper.rejected,
        }

    def report(self) -> dict:
        """The magnet, the run, the relaxation and the final state."""
        problem, device = self.problem, self.device
        relaxation = self.relaxation
        neel = problem.neel_vector()
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
                "average_magnetization": problem.net_direction(),
                "neel_vector": None if neel is None else neel,
                "sublattice_magnetizations": problem.averages(),
                "energies_J": problem.energies(),
                "max_torque_T": problem.max_torque_T(),
            },
            **({} if self.coupled is None else self.coupled.report()),
        }


def build_sublattice_dynamics(device: Device, device_mesh: DeviceMesh) -> SublatticeDynamics:
    """The sublattice dynamics simulation of `device` (valid, its magnet a sublattice one),
    coupled to the valleys through l with the charge_valley transport."""
    if device.physics.transport == "charge_valley":
        coupled, setup = build_neel_coupled(device, device_mesh)
        return SublatticeDynamics(setup, device, coupled=coupled)
    return SublatticeDynamics(build_sublattice_magnet(device, device_mesh), device)


def plot_sublattice_series(
    path: Path, series: dict[str, np.ndarray], title: str, energy_unit: str = "J"
) -> None:
    """<l> (or <m_1>), <n> and every term's energy against time (rank 0 calls it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    time_ns = series["time_s"] * 1e9
    figure, (top, middle, bottom) = pyplot.subplots(3, 1, sharex=True, figsize=(7, 8))
    order = "l" if "l_x" in series else "m1"
    for component in "xyz":
        top.plot(time_ns, series[f"{order}_{component}"], label=f"<{order}_{component}>")
        middle.plot(time_ns, series[f"n_{component}"], label=f"<n_{component}>")
    for name, values in series.items():
        if name.startswith("E_"):
            label = name.removeprefix("E_").removesuffix("_J")
            bottom.plot(time_ns, values, label=label, linewidth=2 if label == "total" else 1)
    top.set_ylabel("Neel vector" if order == "l" else "sublattice 1")
    middle.set_ylabel("net moment per sublattice")
    bottom.set_ylabel(f"energy ({energy_unit})")
    bottom.set_xlabel("time (ns)")
    for axes in (top, middle, bottom):
        axes.legend(fontsize=8)
    top.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
