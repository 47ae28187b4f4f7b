"""One benchmark case at one size, in its own process: `python bench/cases.py CASE SIZE OUT`.

Cases (sizes are the gmsh mesh size in the device's length unit):
- ``transport``: the coupled charge-valley steady solve of a 3D Co3Sn2S2 bar (1 T along
  the current, valley-relaxing side walls) and, on the same mesh and degree, a plain
  DOLFINx Poisson solve with the solver of the DOLFINx performance tests (CG + BoomerAMG);
- ``transport_direct``: the same coupled solve with MUMPS (the direct/iterative crossover);
- ``llg``: one BDF2 Landau-Lifshitz-Gilbert step and a short run of a 3D permalloy film,
  with the Poisson reference on its mesh;
- ``llg_rk45``: the same film stepped by the adaptive explicit rk45 scheme (B_eff from
  operators assembled once: nothing is assembled per step), its internal steps counted.

Each phase's wall time is the slowest rank's.  Memory is the peak resident set of every
rank summed, measured per stage after resetting the kernel's high-water mark.  The row
is written as JSON to OUT on rank 0.  Nothing here asserts a time.
"""

from __future__ import annotations

import ctypes
import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI
from petsc4py import PETSc

from weylfem import compat
from weylfem.config import device_from_mapping
from weylfem.magnet.setup import build_magnet
from weylfem.magnet.simulation import make_integrator
from weylfem.meshing import mesh_device
from weylfem.output.projections import nodal
from weylfem.output.writers import write_xdmf
from weylfem.timings import Timings
from weylfem.transport import TransportProblem

POISSON_OPTIONS = {
    "ksp_type": "cg",
    "ksp_rtol": "1e-8",
    "pc_type": "hypre",
    "pc_hypre_type": "boomeramg",
    "pc_hypre_boomeramg_strong_threshold": "0.7",
    "pc_hypre_boomeramg_agg_nl": "4",
    "pc_hypre_boomeramg_agg_num_paths": "2",
}
"""The Poisson solver of the DOLFINx performance tests (FEniCS/performance-test README)."""
RTOL = 1e-8
"""Relative tolerance of every Krylov solve here (that of the performance tests)."""
REPEATS = 3
"""Repeated solves of the same system, from a zero guess: the best is the cost of a solve
whose work vectors exist already (as in time stepping)."""
LLG_STEPS = 5
"""Steps of the short LLG run after the first (timed) step."""
SCRATCH = Path("/tmp/weylfem-bench")


def coupled_bar(mesh_size_um: float, kind: str) -> dict:
    """The 3D Co3Sn2S2 bar, 10 x 2 x 0.5 um, charge_valley, B = 1 T along x (E.B != 0:
    the anomaly couples the fields), side walls relaxing valley, 1 mV across it."""
    return {
        "name": "coupled bar benchmark",
        "geometry": {
            "kind": "bar",
            "dimension": 3,
            "length": 10.0,
            "width": 2.0,
            "thickness": 0.5,
            "mesh_size": mesh_size_um,
        },
        "regions": {"channel": {"material": "Co3Sn2S2"}},
        "contacts": {"source": {"voltage_V": 1e-3}, "drain": {"voltage_V": 0.0}},
        "walls": {"walls": {"valley_conductance_S_per_m2": 1e13}},
        "fields": {"magnetic_field_T": [1.0, 0.0, 0.0]},
        "physics": {"transport": "charge_valley"},
        "solver": {"kind": kind, "rtol": RTOL},
        "output": {"fields_xdmf": False, "png": False},
    }


def permalloy_film(mesh_size_nm: float, scheme: str = "bdf2") -> dict:
    """A 3D permalloy film 1000 x 1000 x 20 nm, thin-film demagnetization and 10 mT in
    plane, starting tilted; steps of 0.1 ps of `scheme` (BDF2: the iterative solver by
    default; rk45: as many internal steps as its tolerance needs)."""
    return {
        "name": "LLG film benchmark",
        "geometry": {
            "kind": "bar",
            "dimension": 3,
            "length_unit": "nm",
            "length": 1000.0,
            "width": 1000.0,
            "thickness": 20.0,
            "mesh_size": mesh_size_nm,
        },
        "regions": {"channel": {"material": "permalloy", "magnetization_direction": [1, 1, 0.2]}},
        "physics": {"transport": "none"},
        "magnetization": {"demagnetization": "thin_film"},
        "applied_field": {"amplitude_T": [0.01, 0.0, 0.0]},
        "dynamics": {"end_time_s": 1e-12, "time_step_s": 1e-13, "scheme": scheme},
        "solver": {"rtol": RTOL},
    }


class Stopwatch(Timings):
    """weylfem's phase timings (slowest rank; assembly, preconditioner and solve split
    out of each phase), each phase started together on every rank, and peak memory per
    stage (all ranks summed)."""

    def __init__(self, comm: MPI.Comm):
        super().__init__(comm)
        self.memory_MiB: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str, work_prefix: str = ""):
        self.comm.barrier()
        with super().phase(name, work_prefix):
            yield

    @contextmanager
    def stage(self, name: str):
        """Peak resident memory of the enclosed stage, above what was resident before."""
        # hand memory freed earlier (gmsh's) back to the system, so that it is not reused
        # unseen: the stage's growth is then its own
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        resident = _status_kib("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        yield
        peak = _status_kib("VmHWM")
        self.memory_MiB[name] = self.comm.allreduce(peak - resident, op=MPI.SUM) / 1024
        self.memory_MiB[f"{name}_peak"] = self.comm.allreduce(peak, op=MPI.SUM) / 1024


def _status_kib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def repeat_solve(ksp: PETSc.KSP, state: PETSc.Vec) -> float:
    """Best wall time (slowest rank) of REPEATS solves of A x = A state from x = 0."""
    matrix = ksp.getOperators()[0]
    rhs, guess = matrix.createVecLeft(), matrix.createVecRight()
    matrix.mult(state, rhs)
    best = float("inf")
    for _ in range(REPEATS):
        guess.set(0.0)
        matrix.getComm().tompi4py().barrier()
        start = time.perf_counter()
        ksp.solve(rhs, guess)
        elapsed = matrix.getComm().tompi4py().allreduce(time.perf_counter() - start, op=MPI.MAX)
        best = min(best, elapsed)
    rhs.destroy()
    guess.destroy()
    return best


def poisson(device_mesh, watch: Stopwatch, grounded: str, driven: str | None) -> dict:
    """-div grad u = 1 (driven is None) or = 0 with u = 1 on `driven`; u = 0 on `grounded`;
    P1 on the device mesh, CG + BoomerAMG with the performance-test options."""
    mesh, comm = device_mesh.mesh, device_mesh.comm
    with watch.phase("poisson_setup"):
        space = compat.function_space(mesh, "Lagrange", 1)
        u, v = ufl.TrialFunction(space), ufl.TestFunction(space)
        source = 0.0 if driven else 1.0
        bilinear = fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx)
        linear = fem.form(fem.Constant(mesh, source) * v * ufl.dx)
        tags, groups = device_mesh.facet_tags, device_mesh.facet_groups
        fdim = mesh.topology.dim - 1
        zero = fem.Constant(mesh, 0.0)
        facets = {name: tags.indices[tags.values == groups[name]] for name in groups}
        ground = fem.locate_dofs_topological(space, fdim, facets[grounded])
        bcs = [fem.dirichletbc(zero, ground, space)]
        if driven:
            one = fem.Function(space)
            one.x.array[:] = 1.0
            drive = fem.locate_dofs_topological(space, fdim, facets[driven])
            bcs.append(fem.dirichletbc(one, drive))
        rhs = compat.create_vector(linear)
        solution = fem.Function(space)
    with watch.phase("poisson_assemble"):
        matrix = compat.assemble_matrix(bilinear, bcs)
        compat.assemble_rhs(rhs, linear, bilinear, bcs)
    ksp = PETSc.KSP().create(comm)
    ksp.setOptionsPrefix("bench_poisson_")
    database = PETSc.Options()
    for key, value in POISSON_OPTIONS.items():
        database["bench_poisson_" + key] = value
    ksp.setOperators(matrix)
    ksp.setFromOptions()
    for key in POISSON_OPTIONS:
        database.delValue("bench_poisson_" + key)
    with watch.phase("poisson_preconditioner"):
        ksp.setUp()
    with watch.phase("poisson_solve"):
        ksp.solve(rhs, compat.petsc_vector(solution))
    if ksp.getConvergedReason() <= 0:
        raise RuntimeError(f"Poisson solve failed: reason {ksp.getConvergedReason()}")
    watch.record("poisson_repeat_solve", repeat_solve(ksp, compat.petsc_vector(solution)))
    row = {
        "poisson_dofs": space.dofmap.index_map.size_global,
        "poisson_iterations": ksp.getIterationNumber(),
    }
    for petsc_object in (ksp, matrix, rhs):
        petsc_object.destroy()
    return row


def transport(mesh_size: float, kind: str, comm: MPI.Comm) -> dict:
    device = device_from_mapping(coupled_bar(mesh_size, kind), "bench")
    watch = Stopwatch(comm)
    with watch.phase("mesh"):
        device_mesh = mesh_device(device, comm)
    row: dict = {}
    if kind == "iterative":
        with watch.stage("poisson"):
            row.update(poisson(device_mesh, watch, "drain", "source"))
    with watch.stage("coupled"):
        with watch.phase("setup"):
            problem = TransportProblem(device, device_mesh)
        with watch.phase("solve_other"):  # contact currents, operating point
            solution = problem.solve()
        state = compat.petsc_vector(solution.state)
        watch.record("repeat_solve", repeat_solve(problem.solver.ksp, state))
    with watch.phase("output"):
        fields = [
            nodal(solution.charge_potential, "phi_c"),
            nodal(solution.valley_potential, "phi_v"),
        ]
        write_xdmf(SCRATCH / f"coupled-{comm.size}.xdmf", device_mesh, fields)
    solver = problem.solver
    return {
        **row,
        **device_mesh.counts(),
        "dofs": problem.dofs,
        "solver_choice": problem.solver_choice,
        "iterations": solver.iterations,
        "linear_solves": solver.solves,
        "seconds": watch.report(),
        "memory_MiB": watch.memory_MiB,
        "resistance_ohm": float(
            (solution.voltages_V[0] - solution.voltages_V[1]) / solution.currents_A[0]
        ),
        "relative_residual": problem.relative_residual,
    }


def llg(mesh_size: float, comm: MPI.Comm, scheme: str = "bdf2") -> dict:
    device = device_from_mapping(permalloy_film(mesh_size, scheme), "bench")
    watch = Stopwatch(comm)
    with watch.phase("mesh"):
        device_mesh = mesh_device(device, comm)
    with watch.stage("poisson"):
        row = poisson(device_mesh, watch, "walls", None)
    with watch.stage("llg"):
        with watch.phase("setup"):
            magnet = build_magnet(device, device_mesh)
            integrator = make_integrator(magnet.problem, device)
        step_s = device.dynamics.time_step_s
        with watch.phase("first_step", work_prefix="first_step_"):
            integrator.step(step_s)
        before = integrator.describe() if integrator.solver is None else {}
        with watch.phase("steps", work_prefix="steps_"):
            for _ in range(LLG_STEPS):
                integrator.step(step_s)
    nodes = magnet.problem.magnetic_node_count
    solver = integrator.solver
    adaptive = {}
    if solver is None:  # the adaptive scheme's internal steps after the first interval
        after = integrator.describe()
        adaptive = {
            key: after[key] - before[key]
            for key in before
            if key.endswith(("steps", "evaluations"))
        }
    return {
        **row,
        **device_mesh.counts(),
        "dofs": 3 * nodes,
        "reduced_dofs": 2 * nodes,
        "solver_choice": integrator.solver_choice,
        "iterations": None if solver is None else solver.iterations,
        "internal_steps": adaptive.get("accepted_steps"),
        "rejected_steps": adaptive.get("rejected_steps"),
        "field_evaluations": adaptive.get("field_evaluations"),
        "steps_after_first": LLG_STEPS,
        "seconds": watch.report(),
        "memory_MiB": watch.memory_MiB,
        "mean_m": list(np.round(magnet.problem.average_magnetization(), 12)),
    }


def main() -> None:
    compat.quiet_jit_logging()
    case, size, out = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
    comm = MPI.COMM_WORLD
    SCRATCH.mkdir(parents=True, exist_ok=True)
    if case == "transport":
        row = transport(size, "iterative", comm)
    elif case == "transport_direct":
        row = transport(size, "direct", comm)
    elif case == "llg":
        row = llg(size, comm)
    elif case == "llg_rk45":
        row = llg(size, comm, "rk45")
    else:
        raise SystemExit(f"unknown case {case!r}: transport, transport_direct, llg or llg_rk45")
    row.update(case=case, mesh_size=size, ranks=comm.size)
    if comm.rank == 0:
        out.write_text(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
