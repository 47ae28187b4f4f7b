"""The `weylfem run` and `weylfem mesh` pipelines.

`run_device` follows one path for every device: mesh it, build its simulation
(`build_simulation`: steady transport, transient transport, magnetization dynamics or the
coupled run), run it through the one loop (`weylfem.simulation.loop.run_loop`, which
writes series, snapshots and checkpoints), draw its pictures and write device.json and
results.json: the common header (versions, device, model, mesh, solver, outputs,
timings) and the simulation's `report()`.  A dynamics run writes into OUT.running (it can
be resumed from its checkpoint), the others into a hidden staging directory; either
becomes OUT when the run ends.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from mpi4py import MPI

from weylfem import compat
from weylfem.antiferro.setup import is_sublattice_magnet
from weylfem.antiferro.simulation import build_sublattice_dynamics
from weylfem.config import check_mesh
from weylfem.coupled.setup import build_coupled
from weylfem.depth import Depth
from weylfem.device import Device
from weylfem.geometry import DeviceMesh, build_device_mesh, measure_groups
from weylfem.magnet.setup import build_magnet
from weylfem.magnet.simulation import LoneMagnet, MagnetDynamics, make_integrator
from weylfem.meshing import device_refinements, mesh_device
from weylfem.output.device_arrays import contact_roles
from weylfem.output.maps import mesh_title
from weylfem.output.pictures import render_mesh_preview
from weylfem.output.staging import OutputDirectory, RunDirectory, write_json
from weylfem.output.writers import write_xdmf
from weylfem.simulation.loop import StepObserver, run_loop
from weylfem.simulation.protocol import Simulation
from weylfem.timings import Timings
from weylfem.transport import TransportProblem
from weylfem.transport.simulation import SteadyTransport, TransientTransportRun
from weylfem.version import __version__


def run_device(
    device: Device,
    out_dir: str | Path,
    comm: MPI.Comm = MPI.COMM_WORLD,
    *,
    resume: bool = False,
    quiet: bool = False,
    on_step: StepObserver | None = None,
    log: Callable[[str], None] | None = None,
    source: str = "device",
) -> dict:
    """Run `device` and write results.json, device.json, its series, fields and pictures
    into `out_dir`; returns results.json's content.  `resume` continues an interrupted
    (or finished) dynamics run in `out_dir` from its checkpoint; `quiet` hides the
    progress (a bar on a terminal, a line every tenth of the steps otherwise);
    `on_step(step, simulation)` is called after every step; `log(text)` (rank 0's
    printer) is given the set-up summary (`setup_summary`) before the solve or the
    time stepping starts; `source` names the device file in the messages of what only the
    mesh shows (`config.check_mesh`)."""
    timings = Timings(comm)
    depth = Depth.of(device)
    if device.dynamics is not None:
        directory = RunDirectory(out_dir, comm, resume)
    else:
        directory = OutputDirectory(out_dir, comm)
    with directory as stage:
        with timings.phase("mesh"):
            device_mesh = mesh_device(device, comm)
        with timings.phase("setup"):
            simulation = build_simulation(device, device_mesh, source)
        if log is not None:
            log(setup_summary(device, simulation))
        outputs = run_loop(
            simulation, stage, timings, resume=resume, quiet=quiet, on_step=on_step, depth=depth
        )
        with timings.phase("output"):
            write_json(stage / "device.json", dataclasses.asdict(device), comm)
            outputs = {"results": "results.json", "device": "device.json", **outputs}
            if device.output.png:
                outputs.update(simulation.write_pictures(stage))
        with timings.phase("results"):
            results = {
                **_header(device, simulation),
                **depth.describe(),
                **depth.scale_report(simulation.report()),
                "mesh": simulation.describe_mesh(),
                "groups": {
                    "regions": device_mesh.cell_groups,
                    "boundaries": device_mesh.facet_groups,
                },
                "solver": simulation.describe_solver(),
                "outputs": outputs,
            }
        results["timings_s"] = timings.report()
        write_json(stage / "results.json", results, comm)
    return results


def build_simulation(device: Device, device_mesh: DeviceMesh, source: str = "device") -> Simulation:
    """The simulation `device` asks for: magnetization dynamics ([dynamics]; coupled to
    the transport with the charge_valley model), transient transport ([transient]) or
    steady transport.  A 2D device with a depth is solved per metre of depth
    (`Depth.solver_device`).  `source` names the device file in `check_mesh`'s errors."""
    check_mesh(device, device_mesh, source)
    device = Depth.of(device).solver_device(device)
    if device.dynamics is not None:
        if is_sublattice_magnet(device):
            return build_sublattice_dynamics(device, device_mesh)
        if device.physics.transport == "charge_valley":
            setup = build_coupled(device, device_mesh)
            return MagnetDynamics(setup.problem, setup.magnet, device)
        magnet = build_magnet(device, device_mesh)
        system = LoneMagnet(magnet.problem, make_integrator(magnet.problem, device))
        return MagnetDynamics(system, magnet, device)
    problem = TransportProblem(device, device_mesh)
    if device.transient is not None:
        return TransientTransportRun(problem)
    return SteadyTransport(problem)


def _header(device: Device, simulation: Simulation) -> dict:
    """The first keys of every results.json: versions, device and model."""
    return {
        "weylfem_version": __version__,
        "stack": compat.stack_versions(),
        "device": device.name,
        "model": simulation.model,
    }


def setup_summary(device: Device, simulation: Simulation) -> str:
    """What a run solves, on which mesh, with which solver, and what comes next: printed
    before the solve or the time stepping starts (a run's first lines in a log)."""
    mesh, solver = simulation.describe_mesh(), simulation.describe_solver()
    extent = _extent({**Depth.of(device).describe()})
    lines = [f"weylfem {__version__}: {device.name} ({simulation.model} model){extent}"]
    unknowns = (
        f"{mesh['dofs']} dofs" if "dofs" in mesh else f"{mesh['magnetic_nodes']} magnetic nodes"
    )
    lines.append(
        f"mesh: {mesh['cells']} cells, {mesh['vertices']} vertices, {unknowns} on"
        f" {mesh['ranks']} rank(s)"
    )
    kind = solver["kind"]
    if "ksp_type" in solver:
        kind += f", {solver['ksp_type']}/{solver['pc_type']}"
    if "scheme" in solver:
        kind = f"{solver['scheme']} steps, {kind}"
    lines.append(f"solver: {kind}")
    schedule = simulation.schedule
    if schedule.steps:
        lines.append(
            f"stepping: {schedule.steps} steps of {schedule.step_s:.3e} s to"
            f" t = {schedule.end_time_s:.6e} s"
        )
    else:
        lines.append("solving: steady state")
    return "\n".join(lines)


def summary(results: dict, setup_shown: bool = False) -> str:
    """A short human-readable summary of a run (without its first two lines, the device
    and the mesh, when `setup_summary` has shown them)."""
    text = _summary(results)
    return "\n".join(text.splitlines()[2:]) if setup_shown else text


def _summary(results: dict) -> str:
    if "dynamics" in results:
        return _dynamics_summary(results)
    mesh, solver, units = results["mesh"], results["solver"], _units(results)
    lines = [
        f"weylfem {results['weylfem_version']}: {results['device']} ({results['model']} model)"
        + _extent(results),
        f"mesh: {mesh['cells']} cells, {mesh['vertices']} vertices, {mesh['dofs']} dofs "
        f"on {mesh['ranks']} rank(s)",
        f"solver: {solver['kind']}, {solver['ksp_type']}/{solver['pc_type']}, "
        f"{solver['iterations']} iterations, relative residual {solver['residual']:.1e}",
    ]
    if "transient" in results:
        transient = results["transient"]
        lines.append(
            f"transient: {transient['steps']} steps of {transient['time_step_s']:.3e} s"
            f" to t = {transient['final_time_s']:.6e} s ({transient['waveform']} drive)"
        )
    lines.append("contacts:")
    for name, contact in results["contacts"].items():
        lines.append(
            f"  {name:>20}: V = {contact['voltage_V']: .6e} V"
            f"   I = {contact['current_A']: .6e} {units['current']}   ({contact['drive']})"
        )
    if "two_terminal_resistance_ohm" in results:
        resistance = results["two_terminal_resistance_ohm"]
        lines.append(f"two-terminal resistance: {resistance:.6e} {units['resistance']}")
    if results.get("nonlocal_resistances_ohm"):  # a transient run has none
        lines.append("four-probe (nonlocal) resistances:")
        for name, value in results["nonlocal_resistances_ohm"].items():
            lines.append(f"  {name:>20}: {value: .6e} {units['resistance']}")
    lines.append(f"time: {results['timings_s']['total']:.2f} s")
    return "\n".join(lines)


def _units(results: dict) -> dict[str, str]:
    """The units of extensive quantities in `results` (per metre of depth for a 2D device
    without a depth; `weylfem.depth`)."""
    return results.get("units") or Depth(3, None).units


def _extent(results: dict) -> str:
    """', 2D per metre of depth' or ', 2D of depth D m' (nothing for 3D)."""
    if results.get("per_unit_depth"):
        return ", 2D: per metre of depth"
    if results.get("depth_m") is not None:
        return f", 2D of depth {results['depth_m']:.6g} m"
    return ""


def _dynamics_summary(results: dict) -> str:
    mesh, solver, final = results["mesh"], results["solver"], results["final"]
    units = _units(results)
    dynamics, relaxation = results["dynamics"], results["relaxation"]
    m = ", ".join(f"{value:.6f}" for value in final["average_magnetization"])
    lines = [
        f"weylfem {results['weylfem_version']}: {results['device']} ({results['model']})"
        + _extent(results),
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
        f" to t = {dynamics['final_time_s']:.6e} s ({solver['kind']})"
        + ("" if resumed is None else f", resumed from step {resumed}"),
        f"final <m> = ({m}), energy {final['energies_J']['total']:.6e} {units['energy']},"
        f" max |m x B_eff| = {final['max_torque_T']:.2e} T",
    ]
    if "energy_balance" in results:
        balance = results["energy_balance"]
        lines.append(
            f"energy balance: residual {balance['residual_J']:.3e} {units['energy']}"
            f" ({balance['relative_residual']:.1e} of the terms)"
        )
        for name, contact in results["contacts"].items():
            average = results["average_voltages_V"][name]
            lines.append(
                f"  {name:>20}: V = {contact['voltage_V']: .6e} V (average {average: .6e} V)"
                f"   I = {contact['current_A']: .6e} {units['current']}"
            )
        for name, torque in results["interface_torques"].items():
            per_area = ", ".join(f"{v: .4e}" for v in torque["torque_per_area_J_per_m2"]["total"])
            lines.append(f"  valley torque per area at {name}: ({per_area}) J/m^2")
    lines.append(f"time: {results['timings_s']['total']:.2f} s")
    return "\n".join(lines)


def mesh_only(device: Device, out_dir: str | Path, comm: MPI.Comm = MPI.COMM_WORLD) -> dict:
    """Mesh `device` and write mesh.xdmf (with tags), mesh.png and mesh.json into `out_dir`."""
    start = time.perf_counter()
    with OutputDirectory(out_dir, comm) as stage:  # the destination is checked first
        refinements = device_refinements(device)
        device_mesh = build_device_mesh(device.geometry, comm, refinements)
        report = {
            "device": device.name,
            "mesh": device_mesh.describe(),
            "quality": device_mesh.quality,
            "regions": device_mesh.cell_groups,
            "boundaries": device_mesh.facet_groups,
            "measures_SI": measure_groups(device_mesh),
            "refinements": [dataclasses.asdict(r) for r in refinements],
        }
        write_xdmf(stage / "mesh.xdmf", device_mesh, [])
        report["length_unit"] = device.geometry.length_unit
        report["contact_roles"] = contact_roles(dataclasses.asdict(device))
        title = mesh_title(device.name, report["mesh"]["cells"])
        render_mesh_preview(
            stage / "mesh.png", device_mesh, title, report["length_unit"], report["contact_roles"]
        )
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
