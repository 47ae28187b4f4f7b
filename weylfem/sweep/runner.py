"""Solve the points of a sweep: one mesh per geometry, groups of ranks in parallel,
every point's result written atomically so that a killed sweep resumes.

The sweep writes into ``OUT.running`` (`SweepDirectory`): ``sweep.json`` (the device
and the points) first, then ``point-NNNNN.json`` per point as it is solved; at the end
the table (`weylfem.sweep.table`), its plots and results.json, and the folder becomes
OUT.  A killed sweep leaves OUT.running; ``--resume`` solves the points without a file.
Under MPI, `groups` splits the ranks into that many sub-communicators; group g takes
points g, g + groups, ... (each meshed and solved on the group's ranks, gmsh on the
group's first rank).  A mesh is reused for every point of the same geometry and
refinements, so a sweep of fields, drives or materials meshes once.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mpi4py import MPI

from weylfem import interrupts
from weylfem.depth import Depth
from weylfem.device import Device
from weylfem.errors import ConfigError
from weylfem.geometry import DeviceMesh
from weylfem.meshing import device_refinements, mesh_device
from weylfem.output.staging import RunDirectory, replace_atomically, write_json
from weylfem.progress import format_duration
from weylfem.sweep.spec import SweepSpec, sweep_devices
from weylfem.sweep.table import point_file, write_table
from weylfem.timings import Timings
from weylfem.transport import TransportProblem
from weylfem.transport.simulation import SteadyTransport
from weylfem.version import __version__

SPEC_FILE = "sweep.json"


class SweepDirectory(RunDirectory):
    """OUT.running of a sweep: kept when it fails (resumable) once sweep.json is in it."""

    CHECKPOINT = SPEC_FILE


class MeshCache:
    """The last mesh, reused while the geometry and its refinements stay the same."""

    def __init__(self, comm: MPI.Comm):
        self.comm = comm
        self.key: str | None = None
        self.mesh: DeviceMesh | None = None
        self.built = 0

    def get(self, device: Device) -> DeviceMesh:
        key = repr((dataclasses.asdict(device.geometry), device_refinements(device)))
        if key != self.key:
            self.mesh, self.key = mesh_device(device, self.comm), key
            self.built += 1
        return self.mesh


def solve_point(device: Device, device_mesh: DeviceMesh) -> dict:
    """The contacts, four-probe and two-terminal resistances of one point (the report of
    a steady run, per metre of depth for a 2D device without one)."""
    simulation = SteadyTransport(
        TransportProblem(Depth.of(device).solver_device(device), device_mesh)
    )
    simulation.start(Timings(device_mesh.comm))
    report = Depth.of(device).scale_report(simulation.report())
    keep = ("contacts", "contact_order", "nonlocal_resistances_ohm", "two_terminal_resistance_ohm")
    result = {key: report[key] for key in keep if key in report}
    return {"magnetic_field_T": list(device.fields.magnetic_field_T), **result}


def run_sweep(
    table: Mapping[str, Any],
    source: str,
    spec: SweepSpec,
    out_dir: str | Path,
    comm: MPI.Comm = MPI.COMM_WORLD,
    *,
    groups: int = 1,
    resume: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Solve every point of `spec` on the device `table` (read from `source`) and write
    the sweep into `out_dir`; returns its results.json content.  Points and devices are
    checked before anything is meshed (ConfigError)."""
    if not 1 <= groups <= comm.size:
        raise ConfigError(
            source, "--groups", f"expected 1 to {comm.size} (the ranks), got {groups}"
        )
    points, devices = sweep_devices(table, source, spec)
    started = time.perf_counter()
    record = {
        "weylfem_version": __version__,
        "source": str(source),
        "device": devices[0].name,
        **spec.describe(),
        "keys": list(spec.keys),
        "points": points,
    }
    with SweepDirectory(out_dir, comm, resume) as stage:
        done = _start(stage, record, resume, source, comm)
        color = comm.rank * groups // comm.size
        group = comm.Split(color, comm.rank)
        try:
            meshes = _solve(stage, devices, done, color, groups, group, comm, log, started)
        finally:
            group.Free()
        with_meshes = comm.allreduce(meshes, op=MPI.SUM)
        results = None
        if comm.rank == 0:
            results = write_table(stage, record, devices[0])
        results = comm.bcast(results, root=0)
        results["meshes_built"] = with_meshes
        results["groups"] = groups
        results["time_s"] = time.perf_counter() - started
        write_json(stage / "results.json", results, comm)
    return results


def _start(stage: Path, record: dict, resume: bool, source: str, comm: MPI.Comm) -> set[int]:
    """Write sweep.json (or check it against a resumed sweep's); the points done."""
    failure = None
    done: set[int] = set()
    if comm.rank == 0:
        spec_path = stage / SPEC_FILE
        if resume and spec_path.is_file():
            earlier = json.loads(spec_path.read_text())
            if (
                earlier.get("points") != json.loads(json.dumps(record["points"]))
                or earlier.get("source") != record["source"]
            ):
                failure = "expected the device file and --set values of the interrupted sweep"
            done = {i for i in range(len(record["points"])) if (stage / point_file(i)).is_file()}
        else:
            text = json.dumps(record, indent=2) + "\n"
            replace_atomically(spec_path, lambda file: file.write(text.encode()))
    failure = comm.bcast(failure, root=0)
    if failure is not None:
        raise ConfigError(source, "--resume", failure)
    return comm.bcast(done, root=0)


def _solve(stage, devices, done, color, groups, group, comm, log, started) -> int:
    """Solve the points of this rank's group in rounds (every group one point per
    round, signals agreed at the end of each); returns the meshes this group built
    (counted on its first rank)."""
    meshes = MeshCache(group)
    rounds = math.ceil(len(devices) / groups)
    todo = len(devices) - len(done)
    finished = 0
    for round_ in range(rounds):
        index = round_ * groups + color
        if index < len(devices) and index not in done:
            result = {"point": index, **solve_point(devices[index], meshes.get(devices[index]))}
            if group.rank == 0:
                data = (json.dumps(result, indent=1) + "\n").encode()
                replace_atomically(stage / point_file(index), lambda file, d=data: file.write(d))
        interrupts.agree(comm)
        solved = sum(
            1
            for g in range(groups)
            if round_ * groups + g < len(devices) and round_ * groups + g not in done
        )
        finished += solved
        if log is not None and solved and comm.rank == 0:
            elapsed = time.perf_counter() - started
            eta = format_duration(elapsed / finished * (todo - finished))
            log(
                f"sweep: {finished}/{todo} points solved, {format_duration(elapsed)} elapsed,"
                f" ETA {eta}"
            )
    return meshes.built if group.rank == 0 else 0
