"""The `weylfem run` and `weylfem mesh` pipelines: mesh, set up, solve, write, report.

A device with [dynamics] is a magnetization-dynamics run (`run_dynamics`): mesh, build
the micromagnetic problem, evolve it (writing series, snapshots and checkpoints into
OUT.running as it goes), then plot and write results.json; OUT.running becomes OUT.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from mpi4py import MPI

from weylfem import compat
from weylfem.config import check_mesh
from weylfem.coupled.problem import CoupledProblem
from weylfem.coupled.setup import build_coupled
from weylfem.device import Device
from weylfem.geometry import build_device_mesh, measure_groups
from weylfem.magnet.evolution import (
    CHECKPOINT,
    SERIES,
    SNAPSHOTS,
    EvolutionResult,
    StepObserver,
    evolve,
)
from weylfem.magnet.series import read_series
from weylfem.magnet.setup import MagnetSetup, build_magnet
from weylfem.magnet.simulation import MagnetDynamics, make_integrator
from weylfem.meshing import device_refinements, mesh_device
from weylfem.output.pictures import render_mesh_preview, render_png
from weylfem.output.plots import plot_four_probe, plot_magnetization_series, plot_series
from weylfem.output.projections import cellwise_scalar, cellwise_vector, nodal
from weylfem.output.staging import OutputDirectory, RunDirectory, write_json
from weylfem.output.writers import FieldFile, write_series_csv, write_xdmf
from weylfem.solvers import work_since
from weylfem.transport import TransportProblem
from weylfem.transport.transient import TransientTransport
from weylfem.version import __version__


class Timings(dict):
    """Wall time per phase in seconds (the slowest rank's)."""

    def __init__(self, comm: MPI.Comm):
        super().__init__()
        self.comm = comm

    @contextmanager
    def phase(self, name: str):
        """Time the enclosed block as phase `name`."""
        start = time.perf_counter()
        yield
        elapsed = self.comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
        self[name] = self.get(name, 0.0) + elapsed

    def carve(self, phase: str, work: Mapping[str, float], prefix: str = "") -> None:
        """Move the seconds of `work` (assemble, preconditioner, solve: this rank's, spent
        inside `phase`) out of `phase` into phases of their names (after `prefix`)."""
        for name, seconds in work.items():
            name = prefix + name
            seconds = self.comm.allreduce(seconds, op=MPI.MAX)
            if name != phase:
                self[phase] = max(self[phase] - seconds, 0.0)
                self[name] = self.get(name, 0.0) + seconds


def run_device(
    device: Device,
    out_dir: str | Path,
    comm: MPI.Comm = MPI.COMM_WORLD,
    *,
    resume: bool = False,
    quiet: bool = False,
) -> dict:
    """Solve `device` and write results.json, fields and pictures into `out_dir`.
    `resume` and `quiet` apply to magnetization dynamics (see `run_dynamics`)."""
    if device.dynamics is not None:
        return run_dynamics(device, out_dir, comm, resume=resume, quiet=quiet)
    timings = Timings(comm)
    start = time.perf_counter()
    with timings.phase("mesh"):
        device_mesh = mesh_device(device, comm)
    with timings.phase("setup"):
        problem = TransportProblem(device, device_mesh)
    timings.carve("setup", problem.work_s())
    if device.transient is not None:
        return _run_transient(device, problem, out_dir, timings, start)
    before = problem.work_s()
    with timings.phase("solve"):
        solution = problem.solve()
    timings.carve("solve", work_since(problem.work_s(), before))

    order = solution.contact_order
    results: dict = {
        **_header(device, device.physics.transport),
        "contacts": _contact_table(device, order, solution.voltages_V, solution.currents_A),
        "contact_order": order,
        "conductance_matrix_S": solution.conductance_matrix_S,
        "resistance_reference_contact": order[solution.reference],
        "resistance_matrix_ohm": solution.resistance_matrix_ohm,
        "nonlocal_resistances_ohm": {
            name: solution.response.four_probe(probe, solution.resistance_matrix_ohm)
            for name, probe in device.four_probe.items()
        },
        "current_sum_A": float(solution.currents_A.sum()),
        "dissipated_power_W": solution.dissipated_power_W,
        "input_power_W": float(solution.voltages_V @ solution.currents_A),
        **_mesh_and_solver(problem),
    }
    if len(order) == 2:
        drive = solution.voltages_V[0] - solution.voltages_V[1]
        results["two_terminal_resistance_ohm"] = (
            drive / solution.currents_A[0] if solution.currents_A[0] != 0 else float("inf")
        )
    with OutputDirectory(out_dir, comm) as stage:
        with timings.phase("output"):
            outputs = _write_device(stage, device, comm)
            scalars = [nodal(solution.charge_potential, "phi_c")]
            if solution.valley_potential is not None:
                scalars.append(nodal(solution.valley_potential, "phi_v"))
            if device.output.fields_xdmf:
                mesh = device_mesh.mesh
                cellwise = [cellwise_vector(solution.charge_current, mesh, "J")]
                if solution.valley_current is not None:
                    cellwise.append(cellwise_vector(solution.valley_current, mesh, "J_v"))
                    cellwise.append(cellwise_scalar(solution.valley_density, mesh, "n_v"))
                write_xdmf(stage / "fields.xdmf", device_mesh, scalars + cellwise)
                outputs["fields"] = "fields.xdmf"
            if device.output.png:
                titles = {"phi_c": "phi_c (V)", "phi_v": "phi_v (V)"}
                for field in scalars:
                    render_png(stage / f"{field.name}.png", field, titles[field.name])
                    outputs[f"{field.name}_png"] = f"{field.name}.png"
                if results["nonlocal_resistances_ohm"]:
                    plot_four_probe(stage / "four_probe.png", results, comm)
                    outputs["four_probe_png"] = "four_probe.png"
        _write_results(stage, results, outputs, timings, start)
    return results


def _header(device: Device, model: str) -> dict:
    """The first keys of every results.json: versions, device and model."""
    return {
        "weylfem_version": __version__,
        "stack": compat.stack_versions(),
        "device": device.name,
        "model": model,
    }


def _write_device(stage: Path, device: Device, comm: MPI.Comm) -> dict:
    """Write device.json (the device as read, defaults filled in) into `stage`; returns the
    outputs table every run starts from."""
    write_json(stage / "device.json", dataclasses.asdict(device), comm)
    return {"results": "results.json", "device": "device.json"}


def _write_results(
    stage: Path, results: dict, outputs: dict, timings: Timings, start: float
) -> None:
    """Complete `results` with the outputs and timings (total since `start`) and write
    results.json into `stage` (collective)."""
    timings["total"] = timings.comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    results["outputs"] = outputs
    results["timings_s"] = dict(timings)
    write_json(stage / "results.json", results, timings.comm)


def _mesh_and_solver(problem: TransportProblem) -> dict:
    device_mesh = problem.device_mesh
    return {
        "mesh": {
            **device_mesh.counts(),
            "dofs": problem.dofs,
            "ranks": device_mesh.comm.size,
            "dimension": device_mesh.mesh.topology.dim,
            "element_degree": problem.device.physics.element_degree,
        },
        "solver": {
            "type": problem.solver_choice,
            **problem.solver.describe(),
            "residual": problem.relative_residual,
        },
    }


def _run_transient(
    device: Device, problem: TransportProblem, out_dir, timings: Timings, start: float
) -> dict:
    """Time-step the device, writing field snapshots as it goes and the series at the end."""
    comm = problem.comm
    transient = device.transient
    before = problem.work_s()
    with timings.phase("setup_transient"):
        stepper = TransientTransport(problem, transient)
    timings.carve("setup_transient", work_since(problem.work_s(), before))
    with OutputDirectory(out_dir, comm) as stage:
        outputs = {**_write_device(stage, device, comm), "series": "series.csv"}
        snapshots = None
        if device.output.fields_xdmf:
            snapshots = FieldFile(stage / "fields.xdmf", problem.device_mesh)
            outputs["fields"] = "fields.xdmf"
        last = transient.steps()

        def on_step(step: int, time_s: float, state) -> None:
            if snapshots and (step % transient.snapshot_every == 0 or step == last):
                fields = [nodal(field, field.name) for field in problem.split(state)]
                snapshots.write(fields, time_s)

        before = problem.work_s()
        with timings.phase("solve"):
            series = stepper.run(on_step)
        timings.carve("solve", work_since(problem.work_s(), before))
        if snapshots:
            snapshots.close()
        write_series_csv(stage / "series.csv", series, comm)
        if device.output.png:
            plot_series(stage / "series.png", series, device.name, comm)
            outputs["series_png"] = "series.png"
        order = series.contact_order
        results = {
            **_header(device, device.physics.transport),
            "transient": {
                **dataclasses.asdict(transient),
                "steps": last,
                "final_time_s": float(series.times_s[-1]),
            },
            "contacts": _contact_table(device, order, series.voltages_V[-1], series.currents_A[-1]),
            "contact_order": order,
            "current_sum_A": float(series.currents_A[-1].sum()),
            "max_current_sum_A": float(np.abs(series.currents_A.sum(axis=1)).max()),
            **_mesh_and_solver(problem),
        }
        results["solver"]["transient_iterations"] = stepper.step.solver.iterations
        _write_results(stage, results, outputs, timings, start)
    return results


def run_dynamics(
    device: Device,
    out_dir: str | Path,
    comm: MPI.Comm = MPI.COMM_WORLD,
    *,
    resume: bool = False,
    quiet: bool = False,
    on_step: StepObserver | None = None,
) -> dict:
    """Magnetization dynamics of `device`: relax (if asked) and step to the end, writing
    series.csv, magnetization.xdmf, checkpoint.npz, series.png, device.json and
    results.json.  `resume` continues an interrupted (or finished) run in `out_dir` from
    its checkpoint; `quiet` hides the progress bar (drawn on a terminal only);
    `on_step(step, problem)` is called after every step."""
    timings = Timings(comm)
    start = time.perf_counter()
    with RunDirectory(out_dir, comm, resume) as stage:
        with timings.phase("mesh"):
            device_mesh = mesh_device(device, comm)
        with timings.phase("setup"):
            check_mesh(device, device_mesh)
            if device.physics.transport == "charge_valley":
                setup = build_coupled(device, device_mesh)
                coupled, magnet = setup.problem, setup.magnet
                simulation = coupled
            else:
                coupled, magnet = None, build_magnet(device, device_mesh)
                simulation = MagnetDynamics(magnet.problem, make_integrator(magnet.problem, device))
        evolution = evolve(simulation, device, stage, resume=resume, quiet=quiet, on_step=on_step)
        timings.update(evolution.timings_s)
        timings.carve("steps", evolution.work_s)
        with timings.phase("results"):
            outputs = {
                **_write_device(stage, device, comm),
                "series": SERIES,
                "checkpoint": CHECKPOINT,
            }
            if device.output.fields_xdmf:
                outputs["fields"] = SNAPSHOTS
            if device.output.png:
                if comm.rank == 0:
                    series = read_series(stage / SERIES)
                    plot_magnetization_series(stage / "series.png", series, device.name)
                outputs["series_png"] = "series.png"
            results = _dynamics_results(device, magnet, evolution)
            if coupled is not None:
                results.update(_coupled_results(device, coupled))
        _write_results(stage, results, outputs, timings, start)
    return results


def _dynamics_results(device: Device, magnet: MagnetSetup, evolution: EvolutionResult) -> dict:
    """results.json of a dynamics run, without outputs and timings (collective)."""
    problem, integrator = magnet.problem, evolution.integrator
    device_mesh = problem.device_mesh
    relaxation = evolution.relaxation
    return {
        **_header(device, "magnetization dynamics"),
        "magnetization": {
            **magnet.describe(),
            "demagnetization": device.magnetization.demagnetization,
        },
        "dynamics": {
            **dataclasses.asdict(device.dynamics),
            "steps": evolution.steps,
            "final_time_s": evolution.final_time_s,
            "resumed_from_step": evolution.resumed_from_step,
        },
        "relaxation": None if relaxation is None else dataclasses.asdict(relaxation),
        "final": {
            "average_magnetization": problem.average_magnetization(),
            "energies_J": problem.energies(),
            "max_torque_T": problem.max_torque_T(),
        },
        "mesh": {
            **device_mesh.counts(),
            "magnetic_nodes": problem.magnetic_node_count,
            "ranks": device_mesh.comm.size,
            "dimension": device_mesh.mesh.topology.dim,
        },
        "solver": {
            "scheme": integrator.scheme,
            "choice": integrator.solver_choice,
            **({} if integrator.solver is None else integrator.solver.describe()),
        },
    }


def _coupled_results(device: Device, coupled: CoupledProblem) -> dict:
    """What a coupled run adds to results.json (collective)."""
    order = coupled.transport.contact_order
    field_like, damping_like = coupled.valley_torque_J()
    return {
        "model": "charge_valley coupled to magnetization dynamics",
        "coupling": {
            "valley": coupled.valley,
            "hall_follows_m": coupled.hall_follows_m,
            "transport_solver": {
                "choice": coupled.transport.solver_choice,
                **coupled.transport.solver.describe(),
            },
        },
        "contacts": _contact_table(device, order, coupled.voltages_V, coupled.currents_A),
        "contact_order": order,
        "average_voltages_V": dict(zip(order, coupled.average_voltages_V(), strict=True)),
        "valley_torque_J": {
            "field_like": field_like,
            "damping_like": damping_like,
            "total": field_like + damping_like,
        },
        "interface_torques": {
            name: torque.report() for name, torque in coupled.interface_torques().items()
        },
        "energy_balance": coupled.ledger.report(),
    }


def _contact_table(device: Device, order: list[str], voltages, currents) -> dict:
    """Each contact's drive ('voltage', 'current' or 'floating'), voltage and current."""
    table = {}
    for name, voltage, current in zip(order, voltages, currents, strict=True):
        contact = device.contacts[name]
        drive = contact.drive if not contact.floating else "floating"
        table[name] = {"drive": drive, "voltage_V": voltage, "current_A": current}
    return table


def summary(results: dict) -> str:
    """A short human-readable summary of a run."""
    if "dynamics" in results:
        return _dynamics_summary(results)
    mesh, solver = results["mesh"], results["solver"]
    lines = [
        f"weylfem {results['weylfem_version']}: {results['device']} ({results['model']} model)",
        f"mesh: {mesh['cells']} cells, {mesh['vertices']} vertices, {mesh['dofs']} dofs "
        f"on {mesh['ranks']} rank(s)",
        f"solver: {solver['type']}, {solver['ksp_type']}/{solver['pc_type']}, "
        f"{solver['iterations']} iterations, relative residual {solver['residual']:.1e}",
        "contacts:",
    ]
    for name, contact in results["contacts"].items():
        lines.append(
            f"  {name:>20}: V = {contact['voltage_V']: .6e} V   I = {contact['current_A']: .6e} A"
            f"   ({contact['drive']})"
        )
    if "two_terminal_resistance_ohm" in results:
        lines.append(f"two-terminal resistance: {results['two_terminal_resistance_ohm']:.6e} ohm")
    if results["nonlocal_resistances_ohm"]:
        lines.append("four-probe (nonlocal) resistances:")
        for name, value in results["nonlocal_resistances_ohm"].items():
            lines.append(f"  {name:>20}: {value: .6e} ohm")
    lines.append(f"time: {results['timings_s']['total']:.2f} s")
    return "\n".join(lines)


def _dynamics_summary(results: dict) -> str:
    mesh, solver, final = results["mesh"], results["solver"], results["final"]
    dynamics, relaxation = results["dynamics"], results["relaxation"]
    m = ", ".join(f"{value:.6f}" for value in final["average_magnetization"])
    lines = [
        f"weylfem {results['weylfem_version']}: {results['device']} ({results['model']})",
        f"mesh: {mesh['cells']} cells, {mesh['vertices']} vertices, {mesh['magnetic_nodes']}"
        f" magnetic nodes on {mesh['ranks']} rank(s)",
        f"terms: {', '.join(results['magnetization']['energy_terms'])}"
        + (f"; torques: {', '.join(t)}" if (t := results["magnetization"]["torques"]) else ""),
    ]
    if relaxation is not None:
        lines.append(
            f"relaxation: {relaxation['steps']} steps, max |m x B_eff| ="
            f" {relaxation['max_torque_T']:.2e} T"
        )
    resumed = dynamics["resumed_from_step"]
    lines += [
        f"dynamics: {dynamics['steps']} {solver['scheme']} steps of {dynamics['time_step_s']:.3e} s"
        f" to t = {dynamics['final_time_s']:.6e} s ({solver['choice']})"
        + ("" if resumed is None else f", resumed from step {resumed}"),
        f"final <m> = ({m}), energy {final['energies_J']['total']:.6e} J,"
        f" max |m x B_eff| = {final['max_torque_T']:.2e} T",
    ]
    if "energy_balance" in results:
        balance = results["energy_balance"]
        lines.append(
            f"energy balance: residual {balance['residual_J']:.3e} J"
            f" ({balance['relative_residual']:.1e} of the terms)"
        )
        for name, contact in results["contacts"].items():
            average = results["average_voltages_V"][name]
            lines.append(
                f"  {name:>20}: V = {contact['voltage_V']: .6e} V (average {average: .6e} V)"
                f"   I = {contact['current_A']: .6e} A"
            )
        for name, torque in results["interface_torques"].items():
            per_area = ", ".join(f"{v: .4e}" for v in torque["torque_per_area_J_per_m2"]["total"])
            lines.append(f"  valley torque per area at {name}: ({per_area}) J/m^2")
    lines.append(f"time: {results['timings_s']['total']:.2f} s")
    return "\n".join(lines)


def mesh_only(device: Device, out_dir: str | Path, comm: MPI.Comm = MPI.COMM_WORLD) -> dict:
    """Mesh `device` and write mesh.xdmf (with tags), mesh.png and mesh.json into `out_dir`."""
    start = time.perf_counter()
    refinements = device_refinements(device)
    device_mesh = build_device_mesh(device.geometry, comm, refinements)
    report = {
        "device": device.name,
        "mesh": {
            **device_mesh.counts(),
            "ranks": comm.size,
            "dimension": device.geometry.dimension,
        },
        "quality": device_mesh.quality,
        "regions": device_mesh.cell_groups,
        "boundaries": device_mesh.facet_groups,
        "measures_SI": measure_groups(device_mesh),
        "refinements": [dataclasses.asdict(r) for r in refinements],
    }
    with OutputDirectory(out_dir, comm) as stage:
        write_xdmf(stage / "mesh.xdmf", device_mesh, [])
        render_mesh_preview(stage / "mesh.png", device_mesh, device.name)
        report["time_s"] = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
        write_json(stage / "mesh.json", report, comm)
    return report


def mesh_summary(report: dict) -> str:
    """A short human-readable summary of `weylfem mesh`."""
    mesh, quality = report["mesh"], report["quality"]
    lines = [
        f"{report['device']}: {mesh['cells']} cells, {mesh['vertices']} vertices "
        f"on {mesh['ranks']} rank(s); min quality (SICN) {quality['min_sicn']:.3f}",
        "groups (SI measure):",
    ]
    lines += [f"  {name:>20}: {value:.6e}" for name, value in report["measures_SI"].items()]
    return "\n".join(lines)
