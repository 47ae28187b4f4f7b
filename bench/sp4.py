"""µMAG standard problem 4 with weylfem, one configuration in its own process:

    python bench/sp4.py FIELD MESH_NM DEMAGNETIZATION SCHEME END_NS OUT.json [film]

(under `mpirun -n 2` for two ranks).  The device is the demo's
(demos/mumag_standard_problem_4.py) with the element size `MESH_NM`, the demagnetization
method (``fem_bem``: the magnet alone, geometry open_boundary = "none"; ``open_boundary``:
the air ball and transformation shell of the demo), with ``film`` the magnet meshed in
FILM_LAYERS layers through its 3 nm and m uniform through the thickness (as the
finite-difference codes' one cell; a box alone: fem_bem), and the time scheme (``rk45``,
``rkf45``: adaptive, the run loop's interval 10 ps like magnum.np's demo; ``bdf2``: the demo's
2.5e-13 s steps), both through `device_from_mapping` + `run_device`, as a user would.

Two runs in one process, so that relaxation and dynamics are timed apart: the
relaxation alone (Barzilai-Borwein, zero field, to the torque of magnum.np's demo,
mu_0 x 1 A/m) writes its checkpoint; the dynamics under the field start from it
(`initial_state_file`).  Times are weylfem's own phase timings (results.json
timings_s, slowest rank) and each run's wall time.  A configuration the device file
refuses (ConfigError: a method or scheme this weylfem does not have) is written as a
row with `skipped` and the message.  Nothing here asserts a time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from mpi4py import MPI

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sp4_reference as sp4  # noqa: E402

from weylfem import compat  # noqa: E402
from weylfem.config import device_from_mapping  # noqa: E402
from weylfem.errors import ConfigError  # noqa: E402
from weylfem.output.series import read_series  # noqa: E402
from weylfem.run import run_device  # noqa: E402

RELAX_TORQUE_T = 4e-7 * np.pi * 1.0
"""magnum.np's MinimizerBB stops at max |m x (m x H)| < 1 A/m; mu_0 x 1 A/m in tesla."""
INTERVALS_S = {"rk45": 1e-11, "rkf45": 1e-11, "bdf2": 2.5e-13}
"""The run loop's interval per scheme: rk45 and rkf45 adapt their own steps within 10 ps
(the logging interval of magnum.np's demo); bdf2 takes the demo's fixed 0.25 ps steps."""
SERIES_EVERY_S = {"rk45": 1e-11, "rkf45": 1e-11, "bdf2": 1e-12}
"""How often <m> is written (the crossing is found by a cubic through the samples)."""
FILM_LAYERS = {"fem_bem": 3, "fft": 1}
"""Element layers through the film with `film`, per demagnetization.  fem_bem: the s-state
<m_y> at 5 nm with m uniform through the thickness is 0.1126, 0.1218, 0.1234, 0.1240 with
1, 2, 3, 4 layers (published 0.126; the in-plane demagnetizing field of the film's edges
needs the potential resolved through the thickness), and the number of layers does not
bound the explicit step.  fft: one (its cells are one deep, and m uniform through the
thickness has no exchange across it)."""


def film_layers(demagnetization: str) -> int:
    """FILM_LAYERS of a demagnetization (3 for those it does not list)."""
    return FILM_LAYERS.get(demagnetization, 3)


WORK = ("assemble", "preconditioner", "solve")
"""The numerical work weylfem's timings carve out of every phase."""


def device_table(
    field: int,
    mesh_nm: float,
    demagnetization: str,
    scheme: str,
    end_s: float,
    *,
    relax: bool = False,
    initial_state: Path | None = None,
    film: bool = False,
) -> dict:
    """The SP4 device as plain data (what a TOML device file holds): relaxation only
    (`relax`, end_s = 0) or dynamics from the m of a checkpoint (`initial_state`); `film`:
    FILM_LAYERS layers, m uniform through the thickness."""
    lx, ly, lz = sp4.LENGTHS_NM
    geometry = {
        "kind": "magnet_body",
        "length_unit": "nm",
        "lx": lx,
        "ly": ly,
        "lz": lz,
        "magnet_mesh_size": mesh_nm,
    }
    if demagnetization == "open_boundary":  # the demo's air ball and shell
        geometry.update(open_boundary="shell", mesh_size=200.0, size_growth=0.5)
    else:  # a method on the magnet alone
        geometry.update(open_boundary="none", mesh_size=mesh_nm)
    if film:
        geometry["layers"] = film_layers(demagnetization)
    magnetization: dict = {"demagnetization": demagnetization}
    if demagnetization == "fft":  # the finite-difference codes' grid: mesh_nm cells, one deep
        geometry["in_plane_mesh"] = "grid"
        magnetization["fft_cells"] = [round(lx / mesh_nm), round(ly / mesh_nm), 1]
    interval = INTERVALS_S.get(scheme, INTERVALS_S["rk45"])
    dynamics: dict = {
        "end_time_s": end_s,
        "time_step_s": interval,
        "scheme": scheme,
        "relax_first": relax,
        "relax_method": "barzilai_borwein",
        "relax_torque_tolerance_T": RELAX_TORQUE_T,
        "relax_max_steps": 20000,
        "series_every": max(1, round(SERIES_EVERY_S.get(scheme, interval) / interval)),
        "checkpoint_every": 10**6,
    }
    if film:
        magnetization["uniform_through_thickness"] = True
    if initial_state is not None:
        magnetization["initial_state_file"] = str(initial_state)
    return {
        "name": f"muMAG SP4 field {field}, {mesh_nm} nm, {demagnetization}, {scheme}"
        + (
            f", {film_layers(demagnetization)} layers uniform through the thickness" if film else ""
        ),
        "geometry": geometry,
        "regions": {"magnet": {"material": "permalloy", "magnetization_direction": [1, 0.1, 0]}},
        "physics": {"transport": "none"},
        "magnetization": magnetization,
        "applied_field": {"amplitude_T": list(sp4.FIELDS_T[field])},
        "dynamics": dynamics,
        "output": {"png": False, "fields_xdmf": False},
    }


def timed_run(table: dict, out: Path, comm: MPI.Comm) -> tuple[dict, float]:
    """run_device on `table` into `out`: its results and its wall time (slowest rank)."""
    device = device_from_mapping(table, f"sp4 {table['name']}")
    comm.barrier()
    start = time.perf_counter()
    results = run_device(device, out, comm=comm, quiet=True)
    return results, comm.allreduce(time.perf_counter() - start, op=MPI.MAX)


def work_s(timings: dict) -> float:
    return sum(timings.get(name, 0.0) for name in WORK)


def peak_memory_MiB(comm: MPI.Comm) -> float:
    """Peak resident set of every rank, summed."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return comm.allreduce(float(line.split()[1]), op=MPI.SUM) / 1024
    return float("nan")


def averages(series: dict) -> tuple[list[float], list[list[float]]]:
    """time_s and <m> (N x 3) of a series.csv."""
    m = np.column_stack([series[f"m_{c}"] for c in "xyz"])
    return [float(t) for t in series["time_s"]], m.tolist()


def sp4_case(
    field: int,
    mesh_nm: float,
    demagnetization: str,
    scheme: str,
    end_s: float,
    scratch: Path,
    film: bool = False,
) -> dict:
    """Relax, then run `end_s` of dynamics; the row of this configuration."""
    comm = MPI.COMM_WORLD
    row: dict = {
        "case": "sp4",
        "field": field,
        "mesh_size": mesh_nm,
        "demagnetization": demagnetization,
        "scheme": scheme,
        "film_layers": film_layers(demagnetization) if film else None,
        "end_s": end_s,
        "ranks": comm.size,
    }
    relaxed_dir, dynamics_dir = scratch / "relaxation", scratch / "dynamics"
    try:
        relaxation_table = device_table(
            field, mesh_nm, demagnetization, scheme, 0.0, relax=True, film=film
        )
        # refused (if at all) before anything runs
        device_from_mapping(relaxation_table, "sp4")
        dynamics_check = device_table(field, mesh_nm, demagnetization, scheme, end_s, film=film)
        device_from_mapping(dynamics_check, "sp4")
    except ConfigError as error:
        return {**row, "skipped": f"the device file refuses it: {error}"}
    relaxed, relaxed_wall = timed_run(relaxation_table, relaxed_dir, comm)
    dynamics_table = device_table(
        field,
        mesh_nm,
        demagnetization,
        scheme,
        end_s,
        initial_state=relaxed_dir / "checkpoint.npz",
        film=film,
    )
    dynamics, dynamics_wall = timed_run(dynamics_table, dynamics_dir, comm)
    t_relaxed, timings = relaxed["timings_s"], dynamics["timings_s"]
    time_s, m = averages(read_series(dynamics_dir / "series.csv"))
    s_state = m[0]
    row.update(
        {
            **relaxed["mesh"],
            "dofs": 3 * relaxed["mesh"]["magnetic_nodes"],
            "relaxation_steps": relaxed["relaxation"]["steps"],
            "relaxed_m": [float(v) for v in relaxed["final"]["average_magnetization"]],
            "relaxation_max_torque_T": relaxed["relaxation"]["max_torque_T"],
            "steps": dynamics["dynamics"]["steps"],
            "solver": dynamics["solver"],
            "demagnetization_solver": dynamics["magnetization"].get("demagnetization_solver"),
            "seconds": {
                "mesh": t_relaxed["mesh"],
                "setup": t_relaxed["setup"],
                "relaxation": t_relaxed.get("relax", 0.0) + work_s(t_relaxed),
                "relaxation_wall": relaxed_wall,
                "dynamics_setup": timings["setup"],
                "dynamics": timings["steps"] + timings["output"] + work_s(timings),
                "dynamics_wall": dynamics_wall,
                "dynamics_assemble": timings["assemble"],
                "dynamics_solve": timings["preconditioner"] + timings["solve"],
            },
            "timings_s": {"relaxation": t_relaxed, "dynamics": timings},
            "memory_MiB": peak_memory_MiB(comm),
            "series": {"time_s": time_s, "m": m},
            "landmarks": sp4.landmarks(field, s_state, time_s, m),
        }
    )
    return row


def main() -> None:
    compat.quiet_jit_logging()
    field, mesh_nm = int(sys.argv[1]), float(sys.argv[2])
    demagnetization, scheme = sys.argv[3], sys.argv[4]
    end_s, out = float(sys.argv[5]) * 1e-9, Path(sys.argv[6])
    film = sys.argv[7:] == ["film"]
    comm = MPI.COMM_WORLD
    scratch = out.with_suffix("")  # the run directories beside the row
    row = sp4_case(field, mesh_nm, demagnetization, scheme, end_s, scratch, film)
    if comm.rank == 0:
        out.write_text(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
