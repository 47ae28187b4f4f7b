"""Benchmark: ohmic transport on the 3D bar at increasing sizes, direct and iterative.

Writes bench/results.json and bench/results.md (dofs, iterations, phase wall times,
peak memory).  Run with `make bench`, or under mpirun for parallel figures.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path

import dolfinx
from mpi4py import MPI
from petsc4py import PETSc

from weylfem import compat
from weylfem.config import device_from_mapping
from weylfem.experiments import two_terminal_bar_table
from weylfem.geometry import build_device_mesh
from weylfem.transport import TransportProblem

HERE = Path(__file__).resolve().parent
MESH_SIZES = (0.25, 0.15, 0.1, 0.07)
KINDS = ("direct", "iterative")


def device_for(mesh_size: float, kind: str):
    """The 3D two-terminal Co3Sn2S2 bar, 10 x 2 x 0.5 um, 1 mV across it."""
    table = two_terminal_bar_table(mesh_size=mesh_size)
    table["solver"] = {"kind": kind, "rtol": 1e-8}
    table["output"] = {"fields_xdmf": False, "png": False}
    return device_from_mapping(table, "bench")


def measure(mesh_size: float, kind: str, comm: MPI.Comm) -> dict:
    device = device_for(mesh_size, kind)

    def timed(action):
        comm.barrier()
        start = time.perf_counter()
        value = action()
        return value, comm.allreduce(time.perf_counter() - start, op=MPI.MAX)

    device_mesh, mesh_s = timed(lambda: build_device_mesh(device.geometry, comm))
    problem, setup_s = timed(lambda: TransportProblem(device, device_mesh))
    solution, solve_s = timed(problem.solve)
    peak_mib = comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, op=MPI.SUM) / 1024
    return {
        "mesh_size_um": mesh_size,
        "solver": kind,
        "ranks": comm.size,
        "dofs": problem.dofs,
        "cells": device_mesh.counts()["cells"],
        "iterations": problem.solver.iterations,
        "contacts": len(solution.contact_order),
        "mesh_s": mesh_s,
        "setup_assemble_s": setup_s,
        "solve_s": solve_s,
        "peak_memory_MiB_all_ranks": peak_mib,
        "resistance_ohm": float(
            (solution.voltages_V[0] - solution.voltages_V[1]) / solution.currents_A[0]
        ),
    }


def main() -> None:
    compat.quiet_jit_logging()
    comm = MPI.COMM_WORLD
    rows = [measure(h, kind, comm) for h in MESH_SIZES for kind in KINDS]
    if comm.rank != 0:
        return
    machine = {
        "cores": os.cpu_count(),
        "memory_GiB": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dolfinx": dolfinx.__version__,
        "petsc": ".".join(map(str, PETSc.Sys.getVersion())),
        "ranks": comm.size,
    }
    (HERE / "results.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    header = (
        "| h (µm) | solver | ranks | dofs | its | mesh (s) | setup+assemble (s) | solve (s) "
        "| peak mem (MiB) | R (Ω) |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r['mesh_size_um']} | {r['solver']} | {r['ranks']} | {r['dofs']} | {r['iterations']} "
        f"| {r['mesh_s']:.2f} | {r['setup_assemble_s']:.2f} | {r['solve_s']:.2f} "
        f"| {r['peak_memory_MiB_all_ranks']:.0f} | {r['resistance_ohm']:.6f} |\n"
        for r in rows
    )
    table = f"# Ohmic bar benchmark\n\nMachine: {json.dumps(machine)}\n\n{header}{body}"
    (HERE / "results.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
