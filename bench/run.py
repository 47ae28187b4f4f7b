"""Benchmarks of weylfem: `make bench` (or `python bench/run.py [--quick] [--only PART]
[--out DIR]`).

Runs every case of bench/cases.py at increasing sizes, each in a fresh process (serial,
and under `mpirun -n 2` at the largest sizes), and µMAG standard problem 4 with weylfem
and with the peer magnum.np on the same two cores (bench/sp4_bench.py), then writes
DIR/results.json (machine, versions, every row, the fitted figures) and DIR/results.md
(the tables).  `--only sp4` (or `solvers`) runs one part and keeps the other part's rows
from DIR/results.json, and with `--only sp4` the SP4 rows of configurations it did not
run (another method or element size).  `--quick` runs small sizes only, to check that the benchmark
itself works.  Not a test: nothing here asserts a time; the targets are reported as
measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import sp4_bench

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.py"

FULL = {
    # gmsh mesh size (um) of the coupled bar: about 1e4 to 1e6 vertices (2e4 to 2e6 dofs)
    "transport": (0.1, 0.058, 0.04, 0.027, 0.0215),
    # direct (MUMPS) against iterative where a factorization is affordable
    "transport_direct": (0.1, 0.07, 0.058),
    # mesh size (nm) of the permalloy film: about 2e4 to 7e5 vertices
    "llg": (10.0, 6.0, 4.0, 3.0),
    # the same film stepped by rk45
    "llg_rk45": (10.0, 6.0, 4.0, 3.0),
}
PARALLEL = {"transport": (0.027, 0.0215), "llg": (3.0,), "llg_rk45": (3.0,)}
QUICK = {
    "transport": (0.25, 0.15),
    "transport_direct": (0.25,),
    "llg": (20.0,),
    "llg_rk45": (20.0,),
}
QUICK_PARALLEL = {"transport": (0.15,)}
RANKS = 2
SOLVER_CASES = ("transport", "transport_direct", "llg", "llg_rk45")
LLG_CASES = ("llg", "llg_rk45")
"""The cases of bench/cases.py (the `solvers` part); the `sp4` part's rows are sp4_bench's."""


SINGLETON_VARIABLES = ("PMIX_", "OMPI_APP_CTX_", "OMPI_MCA_ess", "OMPI_MCA_pmix", "OMPI_MCA_orte_")
"""Prefixes of what OpenMPI sets in a process that initialized MPI on its own: a nested
mpirun that inherits them fails (exit 1, no output)."""


def launch_environment() -> dict[str, str]:
    """The environment without the variables of an MPI singleton (e.g. a test runner's)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(SINGLETON_VARIABLES)}


def run_case(case: str, size: float, ranks: int, scratch: Path) -> dict:
    """One case in a fresh process (under mpirun for ranks > 1); returns its row."""
    out = scratch / f"{case}-{size}-{ranks}.json"
    command = [sys.executable, str(CASES), case, str(size), str(out)]
    if ranks > 1:
        command = ["mpirun", "-n", str(ranks), *command]
    print(f"bench: {case} at {size} on {ranks} rank(s)", flush=True)
    subprocess.run(command, check=True, env={**launch_environment(), "OMP_NUM_THREADS": "1"})
    return json.loads(out.read_text())


def machine() -> dict:
    """Cores, memory, processor and the versions of the stack."""
    from weylfem import compat

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "memory_GiB": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "processor": model,
        "platform": platform.platform(),
        **compat.stack_versions(),
    }


def solve_seconds(row: dict) -> float:
    """Preconditioner set-up + Krylov solves of the coupled problem."""
    return row["seconds"]["preconditioner"] + row["seconds"]["solve"]


def poisson_seconds(row: dict) -> float:
    """Preconditioner set-up + CG solve of the Poisson reference."""
    return row["seconds"]["poisson_preconditioner"] + row["seconds"]["poisson_solve"]


def repeat_seconds(row: dict) -> float:
    """A repeated Krylov solve of the coupled problem (the AMG hierarchies built)."""
    return row["seconds"]["repeat_solve"]


def repeat_ratio(row: dict) -> float:
    """Coupled / Poisson time of a repeated Krylov solve (work vectors allocated)."""
    return row["seconds"]["repeat_solve"] / row["seconds"]["poisson_repeat_solve"]


def llg_step_seconds(row: dict) -> float:
    """Mean wall time of one LLG step after the first."""
    return row["seconds"]["steps_total"] / row["steps_after_first"]


def exponent(dofs: list[float], seconds: list[float]) -> float:
    """The fitted p of seconds ~ dofs^p (least squares in log-log)."""
    return float(np.polyfit(np.log(dofs), np.log(seconds), 1)[0])


def summarize(rows: list[dict]) -> dict:
    """The issue's targets, as measured."""
    rows = [r for r in rows if r["case"] in SOLVER_CASES]
    serial = [r for r in rows if r["case"] == "transport" and r["ranks"] == 1]
    summary: dict = {}
    if len(serial) >= 2:
        dofs = [r["dofs"] for r in serial]
        summary["coupled_solve_exponent"] = exponent(dofs, [solve_seconds(r) for r in serial])
        total = [solve_seconds(r) + r["seconds"]["assemble"] for r in serial]
        summary["coupled_assemble_and_solve_exponent"] = exponent(dofs, total)
        summary["poisson_solve_exponent"] = exponent(
            [r["poisson_dofs"] for r in serial], [poisson_seconds(r) for r in serial]
        )
        summary["coupled_repeat_solve_exponent"] = exponent(
            dofs, [r["seconds"]["repeat_solve"] for r in serial]
        )
        summary["poisson_repeat_solve_exponent"] = exponent(
            dofs, [r["seconds"]["poisson_repeat_solve"] for r in serial]
        )
        summary["coupled_to_poisson_ratios"] = [
            solve_seconds(r) / poisson_seconds(r) for r in serial
        ]
        summary["coupled_to_poisson_repeat_ratios"] = [repeat_ratio(r) for r in serial]
        # the sizes that bracket 1e5 to 1e6 dofs
        band = [r for r in serial if 5e4 <= r["dofs"] <= 2e6] or serial
        summary["iteration_band_dofs"] = [r["dofs"] for r in band]
        summary["iterations_1e5_to_1e6"] = [r["iterations"] for r in band]
        summary["poisson_iterations_1e5_to_1e6"] = [r["poisson_iterations"] for r in band]
        iterations = summary["iterations_1e5_to_1e6"]
        summary["iteration_growth_1e5_to_1e6"] = max(iterations) / min(iterations) - 1
    speedups = []
    for row in rows:
        if row["ranks"] == 1:
            continue
        same = (row["case"], row["mesh_size"])
        base = next(
            (r for r in rows if r["ranks"] == 1 and (r["case"], r["mesh_size"]) == same), None
        )
        if base is None:
            continue
        measure = repeat_seconds if row["case"] == "transport" else llg_step_seconds
        assembly = "assemble" if row["case"] == "transport" else "steps_assemble"
        speedup = measure(base) / measure(row)
        speedups.append(
            {
                "case": row["case"],
                "mesh_size": row["mesh_size"],
                "dofs": row["dofs"],
                "ranks": row["ranks"],
                "serial_s": measure(base),
                "parallel_s": measure(row),
                "speedup": speedup,
                "efficiency": speedup / row["ranks"],
                "assemble_speedup": (
                    base["seconds"][assembly] / row["seconds"][assembly]
                    if row["seconds"].get(assembly)
                    else None  # rk45 assembles nothing per step
                ),
            }
        )
    summary["parallel"] = speedups
    return summary


def _optional(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _listed(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def add_llg_totals(row: dict) -> None:
    """steps_total: the wall time of the short run (its phase and the work carved out)."""
    seconds = row["seconds"]
    seconds["steps_total"] = sum(v for k, v in seconds.items() if k.startswith("steps"))


def _table(title: str, text: str, columns: list[str]) -> list[str]:
    """The Markdown lines of a section: heading, text and a table's head."""
    head = ["", f"## {title}", ""] + ([text, ""] if text else [])
    return head + ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def markdown(report: dict) -> str:
    rows, summary, info = report["rows"], report["summary"], report["machine"]
    lines = [
        "# weylfem benchmarks",
        "",
        f"Machine: {info['cores']} cores ({info['processor']}), {info['memory_GiB']} GiB; "
        f"Python {info['python']}, DOLFINx {info['dolfinx']}, PETSc {info['petsc']}, "
        f"gmsh {info['gmsh']}.  Generated by `make bench` (bench/run.py); times are wall "
        "seconds of the slowest rank, memory the peak resident set above the stage's start, "
        "all ranks summed.",
    ]
    transport_rows = [r for r in rows if r["case"] == "transport"]
    if transport_rows:
        lines += _table(
            "Coupled charge-valley steady solve against a Poisson solve on the same mesh",
            "3D Co3Sn2S2 bar 10 x 2 x 0.5 um, P1, B = 1 T along the current, relaxing walls. "
            "Coupled: GMRES + multiplicative fieldsplit, one BoomerAMG V-cycle per field. "
            "Poisson: CG + BoomerAMG with the DOLFINx performance-test options. Both to rtol "
            "1e-8. *solve* = preconditioner set-up + Krylov; the coupled two-contact steady "
            "solve needs one linear solve.  *repeat*: the best of 3 further Krylov solves of "
            "the same matrix from a zero guess (work vectors allocated, as in time stepping).",
            [
                "ranks",
                "vertices",
                "coupled dofs",
                "its coupled / Poisson",
                "assemble (s) coupled / Poisson",
                "solve (s) coupled / Poisson",
                "ratio",
                "repeat (s) coupled / Poisson",
                "ratio",
                "memory (B/dof) coupled / Poisson",
                "mesh (s)",
                "setup (s)",
                "currents (s)",
                "output (s)",
            ],
        )
        for r in transport_rows:
            s, m = r["seconds"], r["memory_MiB"]
            lines.append(
                f"| {r['ranks']} | {r['vertices']} | {r['dofs']} | {r['iterations']} / "
                f"{r['poisson_iterations']} | {s['assemble']:.2f} / {s['poisson_assemble']:.2f} "
                f"| {solve_seconds(r):.2f} / {poisson_seconds(r):.2f} "
                f"| {solve_seconds(r) / poisson_seconds(r):.2f} "
                f"| {s['repeat_solve']:.3f} / {s['poisson_repeat_solve']:.3f} "
                f"| {repeat_ratio(r):.2f} "
                f"| {m['coupled'] * 2**20 / r['dofs']:.0f} / "
                f"{m['poisson'] * 2**20 / r['poisson_dofs']:.0f} | {s['mesh']:.1f} "
                f"| {s['setup']:.2f} | {s['solve_other']:.2f} | {s['output']:.2f} |"
            )
    direct = [r for r in rows if r["case"] == "transport_direct"]
    if direct:
        lines += _table(
            "Direct (MUMPS) against iterative, coupled bar, serial",
            "",
            [
                "coupled dofs",
                "direct: factorize (s)",
                "direct: solve (s)",
                "direct memory (MiB)",
                "iterative: AMG set-up (s)",
                "iterative: Krylov (s)",
                "iterative memory (MiB)",
            ],
        )
        for r in direct:
            match = next(
                (
                    i
                    for i in rows
                    if i["case"] == "transport" and i["ranks"] == 1 and i["dofs"] == r["dofs"]
                ),
                None,
            )
            iterative = (
                f"{match['seconds']['preconditioner']:.2f} | {match['seconds']['solve']:.2f} "
                f"| {match['memory_MiB']['coupled']:.0f}"
                if match
                else "– | – | –"
            )
            lines.append(
                f"| {r['dofs']} | {r['seconds']['preconditioner']:.2f} "
                f"| {r['seconds']['solve']:.3f} | {r['memory_MiB']['coupled']:.0f} | {iterative} |"
            )
    llg_rows = [r for r in rows if r["case"] == "llg"]
    if llg_rows:
        lines += _table(
            "One LLG step (BDF2 tangent plane) of a 3D permalloy film",
            "1000 x 1000 x 20 nm, exchange, Zeeman, thin-film demagnetization, 0.1 ps steps. "
            "*first step* includes the P^T A P pattern and the solver set-up; *step* is the "
            "mean of the next steps.  Poisson: the reference solve on the same mesh.",
            [
                "ranks",
                "vertices",
                "LLG dofs (reduced)",
                "solver",
                "its",
                "first step (s)",
                "step (s)",
                "assemble / solve per step (s)",
                "us per dof and step",
                "step / Poisson solve",
                "memory (B/dof)",
            ],
        )
        for r in llg_rows:
            s = r["seconds"]
            step = llg_step_seconds(r)
            per = r["steps_after_first"]
            first = sum(v for k, v in s.items() if k.startswith("first_step"))
            lines.append(
                f"| {r['ranks']} | {r['vertices']} | {r['dofs']} ({r['reduced_dofs']}) "
                f"| {r['solver_choice']} | {r['iterations']} | {first:.2f} "
                f"| {step:.3f} | {s['steps_assemble'] / per:.3f} / "
                f"{(s['steps_preconditioner'] + s['steps_solve']) / per:.3f} "
                f"| {1e6 * step / r['dofs']:.2f} | {step / poisson_seconds(r):.2f} "
                f"| {r['memory_MiB']['llg'] * 2**20 / r['dofs']:.0f} |"
            )
    rk45_rows = [r for r in rows if r["case"] == "llg_rk45"]
    if rk45_rows:
        lines += _table(
            "LLG steps (adaptive explicit rk45) of the same film",
            "The film above, 0.1 ps run-loop intervals of rk45 (tolerance 1e-5), each taken "
            "in as many internal steps as the tolerance needs; B_eff from operators "
            "assembled once (nothing assembled per step).  *internal step*: the mean wall "
            "time of an accepted internal step (six field evaluations), after the first "
            "interval; *us per dof and step*: of an internal step, against the BDF2 step "
            "above (issue 18's target: 5x below 4.6-6.4).",
            [
                "ranks",
                "vertices",
                "LLG dofs",
                "internal steps per 0.1 ps",
                "field evaluations",
                "first interval (s)",
                "internal step (s)",
                "us per dof and step",
                "us per dof and 0.1 ps",
                "memory (B/dof)",
            ],
        )
        for r in rk45_rows:
            s = r["seconds"]
            first = sum(v for k, v in s.items() if k.startswith("first_step"))
            internal = max(r["internal_steps"], 1)
            step = s["steps_total"] / internal
            interval = llg_step_seconds(r)
            lines.append(
                f"| {r['ranks']} | {r['vertices']} | {r['dofs']} "
                f"| {internal / r['steps_after_first']:.1f} | {r['field_evaluations']} "
                f"| {first:.2f} | {step:.3f} | {1e6 * step / r['dofs']:.2f} "
                f"| {1e6 * interval / r['dofs']:.2f} "
                f"| {r['memory_MiB']['llg'] * 2**20 / r['dofs']:.0f} |"
            )
    if summary.get("parallel"):
        lines += _table(
            f"{RANKS} ranks against 1 (strong scaling)",
            "transport: a repeated coupled Krylov solve; llg: one step (assembly and solve).",
            [
                "case",
                "dofs",
                "1 rank (s)",
                "2 ranks (s)",
                "speed-up",
                "efficiency",
                "assembly speed-up",
            ],
        )
        for p in summary["parallel"]:
            lines.append(
                f"| {p['case']} | {p['dofs']} | {p['serial_s']:.2f} | {p['parallel_s']:.2f} "
                f"| {p['speedup']:.2f} | {p['efficiency']:.2f} "
                f"| {_optional(p['assemble_speedup'])} |"
            )
    if "coupled_solve_exponent" in summary:
        lines += [
            "",
            "## Targets (issue 7), as measured",
            "",
            "- coupled solve / Poisson solve (set-up + first solve), by size: "
            f"{_listed(summary['coupled_to_poisson_ratios'])}; repeated solve: "
            f"{_listed(summary['coupled_to_poisson_repeat_ratios'])} (target 2.5)",
            f"- coupled iterations at {summary['iteration_band_dofs']} dofs: "
            f"{summary['iterations_1e5_to_1e6']}, growth "
            f"{100 * summary['iteration_growth_1e5_to_1e6']:.0f}% (target 30% from 1e5 to 1e6); "
            f"the Poisson reference: {summary['poisson_iterations_1e5_to_1e6']}",
            "- 2 ranks: "
            + ", ".join(
                f"{p['case']} {p['dofs']} dofs {p['speedup']:.2f}x" for p in summary["parallel"]
            )
            + " (target 1.6x at 1e6 dofs)",
            f"- fitted cost exponent: coupled solve {summary['coupled_solve_exponent']:.2f} "
            f"(repeated {summary['coupled_repeat_solve_exponent']:.2f}), assemble + solve "
            f"{summary['coupled_assemble_and_solve_exponent']:.2f}; the Poisson reference "
            f"{summary['poisson_solve_exponent']:.2f} (repeated "
            f"{summary['poisson_repeat_solve_exponent']:.2f}) (target 1.15)",
        ]
    lines += sp4_bench.markdown(rows)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.* go")
    parser.add_argument(
        "--only",
        choices=("all", "solvers", "sp4"),
        default="all",
        help="one part: the solver cases or standard problem 4 (the other's rows are kept)",
    )
    parser.add_argument(
        "--sp4-methods",
        type=sp4_bench.parse_methods,
        default=sp4_bench.METHODS,
        help="weylfem's SP4 configurations, demagnetization:scheme[:film][,...] (the first "
        "is the one the targets and the convergence table are for; film: layers, m uniform "
        "through them)",
    )
    parser.add_argument(
        "--sp4-sizes",
        type=sp4_bench.parse_sizes,
        default=sp4_bench.SIZES,
        help="element sizes (nm) of the SP4 convergence table, e.g. 10,5 (default 10,5,2.5)",
    )
    parser.add_argument(
        "--report", action="store_true", help="rewrite the tables from OUT/results.json"
    )
    args = parser.parse_args()
    previous = args.out / "results.json"
    if args.report:
        report = json.loads(previous.read_text())
        write_report(report["machine"], report["rows"], args.out)
        return
    sizes, parallel = (QUICK, QUICK_PARALLEL) if args.quick else (FULL, PARALLEL)
    scratch = Path(tempfile.mkdtemp(prefix="weylfem-bench-"))
    rows: list[dict] = []
    try:
        if args.only in ("all", "solvers"):
            rows += [
                run_case(case, size, 1, scratch)
                for case, values in sizes.items()
                for size in values
            ]
            if shutil.which("mpirun"):
                rows += [
                    run_case(case, size, RANKS, scratch)
                    for case, values in parallel.items()
                    for size in values
                ]
        if args.only in ("all", "sp4"):
            make_plan = sp4_bench.quick_plan if args.quick else sp4_bench.full_plan
            plan = make_plan(args.sp4_methods, args.sp4_sizes)
            rows += sp4_bench.run_sp4(plan, scratch, launch_environment())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for row in rows:
        if row["case"] in LLG_CASES:
            add_llg_totals(row)
    if args.only != "all" and previous.exists():  # the other part's rows, as they were
        ran = set(SOLVER_CASES) if args.only == "solvers" else {"sp4", "sp4_peer"}
        kept = json.loads(previous.read_text())["rows"]
        # and of this part, the configurations this run did not repeat (SP4: another
        # method or element size)
        repeated = {sp4_bench.row_key(r) for r in rows if r["case"] in ("sp4", "sp4_peer")}
        rows = [
            r
            for r in kept
            if r["case"] not in ran or (args.only == "sp4" and sp4_bench.row_key(r) not in repeated)
        ] + rows
    write_report(machine(), rows, args.out)


def write_report(info: dict, rows: list[dict], out: Path) -> None:
    """results.json (machine, rows, summary) and results.md in `out`."""
    summary = {**summarize(rows), "sp4": sp4_bench.summarize(rows)}
    report = {"machine": info, "rows": rows, "summary": summary}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2))
    table = markdown(report)
    (out / "results.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
