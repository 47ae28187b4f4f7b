"""Steady and transient transport as simulations of the run loop
(`weylfem.simulation.loop`).

`SteadyTransport` has no time steps: its start is the steady solve (docs/theory.md Sec. 2),
its one snapshot the potentials, currents and valley density (fields.xdmf), its report the
multi-terminal response.  `TransientTransportRun` steps the theta-scheme of
`weylfem.transport.transient` and writes the contact voltages and currents against time
(series.csv) and the potentials every `snapshot_every` steps.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from dolfinx import fem

from weylfem.depth import Depth
from weylfem.device import Device
from weylfem.output.pictures import render_fields
from weylfem.output.plots import plot_four_probe, plot_series
from weylfem.output.projections import cellwise_scalar, cellwise_vector, nodal
from weylfem.simulation.protocol import OutputFiles, Schedule
from weylfem.solvers import solver_description
from weylfem.timings import Timings
from weylfem.transport.contacts import contact_table
from weylfem.transport.problem import TransportProblem, TransportSolution
from weylfem.transport.transient import TransientSeries, TransientTransport


class _TransportRun:
    """What steady and transient transport runs share: the problem, mesh and solver."""

    files: OutputFiles

    def __init__(self, problem: TransportProblem):
        self.problem = problem
        self.device: Device = problem.device
        self.device_mesh = problem.device_mesh
        self.model = self.device.physics.transport

    def describe_mesh(self) -> dict:
        """Cells, vertices, dofs, ranks, dimension and element degree."""
        return {
            **self.device_mesh.describe(),
            "dofs": self.problem.dofs,
            "element_degree": self.device.physics.element_degree,
        }

    def describe_solver(self) -> dict:
        """The steady operator's solver and the largest relative residual."""
        problem = self.problem
        return {
            **solver_description(problem.solver_choice, problem.solver),
            "residual": problem.relative_residual,
        }


class SteadyTransport(_TransportRun):
    """One steady solve of a device's transport problem."""

    def __init__(self, problem: TransportProblem):
        super().__init__(problem)
        fields = self.device.output.fields_xdmf
        self.schedule = Schedule(
            step_s=0.0, steps=0, end_time_s=0.0, snapshot_every=1 if fields else None
        )
        self.files = OutputFiles(snapshots="fields.xdmf", snapshot_key="phi_c")
        self.time_s = 0.0
        self.solution: TransportSolution | None = None
        self._potentials: list[fem.Function] | None = None

    def start(self, timings: Timings) -> None:
        """The steady solve."""
        with timings.phase("solve"):
            self.solution = self.problem.solve()

    def step(self, step_s: float) -> None:
        """A steady problem has no time steps (its schedule has none)."""
        raise RuntimeError("steady transport is not time-stepped")

    def series_columns(self) -> list[str]:
        """No series (its schedule writes none)."""
        return []

    def series_row(self, step: int) -> list[float]:
        """No series (its schedule writes none)."""
        return []

    def potentials(self) -> list[fem.Function]:
        """phi_c and (charge_valley) phi_v as P1 fields (made once)."""
        if self._potentials is None:
            solution = self.solution
            self._potentials = [nodal(solution.charge_potential, "phi_c")]
            if solution.valley_potential is not None:
                self._potentials.append(nodal(solution.valley_potential, "phi_v"))
        return self._potentials

    def snapshot_fields(self) -> list[fem.Function]:
        """The potentials (P1) and, per cell, J and (charge_valley) J_v and n_v."""
        solution, mesh = self.solution, self.device_mesh.mesh
        cellwise = [cellwise_vector(solution.charge_current, mesh, "J")]
        if solution.valley_current is not None:
            cellwise.append(cellwise_vector(solution.valley_current, mesh, "J_v"))
            cellwise.append(cellwise_scalar(solution.valley_density, mesh, "n_v"))
        return self.potentials() + cellwise

    def write_pictures(self, directory: Path) -> dict[str, str]:
        """Each potential (phi_c.png, phi_v.png) and the four-probe resistances."""
        outputs = render_fields(directory, self.device, self.device_mesh, self.potentials())
        resistances = self.four_probe_resistances()
        if resistances:
            depth = Depth.of(self.device)
            report = depth.scale_report(
                {"device": self.device.name, "nonlocal_resistances_ohm": resistances}
            )
            unit = depth.units["resistance"]
            plot_four_probe(directory / "four_probe.png", report, self.device_mesh.comm, unit)
            outputs["four_probe_png"] = "four_probe.png"
        return outputs

    def four_probe_resistances(self) -> dict[str, float]:
        """The device's four-probe (nonlocal) resistances, by name."""
        solution = self.solution
        return {
            name: solution.response.four_probe(probe, solution.resistance_matrix_ohm)
            for name, probe in self.device.four_probe.items()
        }

    def report(self) -> dict:
        """Contacts, conductance and resistance matrices, four-probe resistances, current
        sum, powers and (two contacts) the two-terminal resistance."""
        solution = self.solution
        order = solution.contact_order
        voltages, currents = solution.voltages_V, solution.currents_A
        results = {
            "contacts": contact_table(self.device.contacts, order, voltages, currents),
            "contact_order": order,
            "conductance_matrix_S": solution.conductance_matrix_S,
            "resistance_reference_contact": order[solution.reference],
            "resistance_matrix_ohm": solution.resistance_matrix_ohm,
            "nonlocal_resistances_ohm": self.four_probe_resistances(),
            "current_sum_A": float(currents.sum()),
            "dissipated_power_W": solution.dissipated_power_W,
            "input_power_W": float(voltages @ currents),
        }
        if len(order) == 2:
            drive = voltages[0] - voltages[1]
            results["two_terminal_resistance_ohm"] = (
                drive / currents[0] if currents[0] != 0 else float("inf")
            )
        return results


class TransientTransportRun(_TransportRun):
    """The [transient] of a charge_valley device: the consistent start, then steps."""

    def __init__(self, problem: TransportProblem):
        super().__init__(problem)
        self.transient = transient = self.device.transient
        self.stepper = TransientTransport(problem, transient)
        fields = self.device.output.fields_xdmf
        self.schedule = Schedule(
            step_s=transient.time_step_s,
            steps=transient.steps(),
            end_time_s=transient.end_time_s,
            snapshot_every=transient.snapshot_every if fields else None,
        )
        self.files = OutputFiles(series="series.csv", snapshots="fields.xdmf", snapshot_key="phi_c")
        self.state = fem.Function(problem.space, name="u")
        self.steps = 0
        self.time_s = 0.0
        self.rows: list[tuple[float, np.ndarray, np.ndarray]] = []
        """(time, contact voltages, contact currents) at the start and after each step"""

    def start(self, timings: Timings) -> None:
        """The consistent start (phi_v = 0, charge balance for the drive at t = 0)."""
        with timings.phase("solve"):
            voltages, currents = self.stepper.initial_state(self.state)
        self.rows.append((0.0, voltages, currents))

    def step(self, step_s: float) -> None:
        """One theta-scheme step (of the transient's time step, `step_s`)."""
        self.steps += 1
        self.time_s = self.steps * self.transient.time_step_s
        voltages, currents = self.stepper.advance(self.state, self.time_s)
        self.rows.append((self.time_s, voltages, currents))

    @property
    def series(self) -> TransientSeries:
        """The contact voltages and currents so far."""
        times, voltages, currents = zip(*self.rows, strict=True)
        order = list(self.problem.contact_order)
        return TransientSeries(np.array(times), np.array(voltages), np.array(currents), order)

    def series_columns(self) -> list[str]:
        """Time, then each contact's voltage and current."""
        columns = ["time_s"]
        for name in self.problem.contact_order:
            columns += [f"{name}_voltage_V", f"{name}_current_A"]
        return columns

    def series_row(self, step: int) -> list[float]:
        """The time and the contacts' voltages and currents now."""
        time_s, voltages, currents = self.rows[-1]
        return [time_s, *(value for pair in zip(voltages, currents, strict=True) for value in pair)]

    def snapshot_fields(self) -> list[fem.Function]:
        """phi_c and phi_v (P1)."""
        return [nodal(field, field.name) for field in self.problem.split(self.state)]

    def write_pictures(self, directory: Path) -> dict[str, str]:
        """The contacts' voltages and currents against time (series.png)."""
        depth = Depth.of(self.device)
        plot_series(
            directory / "series.png",
            self.series,
            self.device.name,
            self.device_mesh.comm,
            depth.factor,
            depth.units["current"],
        )
        return {"series_png": "series.png"}

    def describe_solver(self) -> dict:
        """The steady operator's solver, and the iterations of the transient steps."""
        return {
            **super().describe_solver(),
            "transient_iterations": self.stepper.step.solver.iterations,
        }

    def report(self) -> dict:
        """The transient settings, steps and final time, the final contacts and the
        largest current sum of the run."""
        series = self.series
        order = series.contact_order
        return {
            "transient": {
                **dataclasses.asdict(self.transient),
                "steps": self.schedule.steps,
                "final_time_s": float(series.times_s[-1]),
            },
            "contacts": contact_table(
                self.device.contacts, order, series.voltages_V[-1], series.currents_A[-1]
            ),
            "contact_order": order,
            "current_sum_A": float(series.currents_A[-1].sum()),
            "max_current_sum_A": float(np.abs(series.currents_A.sum(axis=1)).max()),
        }
