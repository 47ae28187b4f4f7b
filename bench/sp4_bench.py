"""The µMAG standard problem 4 part of `make bench`: weylfem (bench/sp4.py, each
configuration in its own process, on RANKS ranks) and the peer magnum.np
(bench/peers/magnumnp_sp4.py in .venv-bench, on as many torch threads) on the same
cores, one after the other; and its sections of results.md.

Without .venv-bench (`bash scripts/install.sh --bench` makes it) the peer is left out
and the tables say so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import sp4_reference as sp4

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE.parent / ".venv-bench" / "bin" / "python"
PEER_SCRIPT = HERE / "peers" / "magnumnp_sp4.py"
CASE_SCRIPT = HERE / "sp4.py"
CORES = 2
"""weylfem's MPI ranks and magnum.np's torch threads: the same two cores."""
METHODS = (
    ("fft", "rkf45", "film"),
    ("fem_bem", "rk45", "film"),
    ("fem_bem", "rkf45", "film"),
    ("fem_bem", "rk45"),
    ("open_boundary", "rk45"),
    ("open_boundary", "bdf2"),
)
"""(demagnetization, scheme[, "film"]) of weylfem: the first is the one the targets are for
and whose convergence in element size is run (the finite-difference codes' method: the
Newell tensor on a grid of cells, convolved by FFT, on the film meshed on that grid in one
layer with m uniform through its thickness, and the Fehlberg pair), then the FEM-BEM
method on the film in layers (bench/sp4.py FILM_LAYERS) with Dormand-Prince and Fehlberg,
the same on a free tetrahedral mesh of the film, the air-and-shell method with the same
integrator and with the demo's BDF2 steps; a weylfem without a method skips its rows."""
SIZES = (10.0, 5.0, 2.5)
"""Element sizes (nm) of the convergence table (5 nm is the one compared)."""
Method = tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """What the SP4 part runs."""

    weylfem: tuple[tuple, ...]
    """(field, element size nm, demagnetization, scheme[, "film"])"""
    peer: tuple[tuple[int, float], ...]
    """(field, cell size nm) of magnum.np"""
    end_ns: float
    ranks: int


def row_key(row: dict) -> tuple:
    """What a row measures (code, field, element size, method): a new run of the same
    replaces it, others are kept."""
    keys = ("case", "field", "mesh_size", "demagnetization", "scheme", "film_layers")
    return tuple(row.get(key) for key in keys)


def parse_methods(text: str) -> tuple[Method, ...]:
    """`demagnetization:scheme[:film],...` (e.g. "fem_bem:rk45:film,open_boundary:bdf2")."""
    methods = tuple(tuple(item.split(":")) for item in text.split(",") if item)
    valid = all(len(m) == 2 or (len(m) == 3 and m[2] == "film") for m in methods)
    if not methods or not valid:
        raise ValueError(f"expected demagnetization:scheme[:film][,...], got {text!r}")
    return methods


def parse_sizes(text: str) -> tuple[float, ...]:
    """`10,5,2.5`: element sizes (nm) of the convergence table."""
    sizes = tuple(float(item) for item in text.split(",") if item)
    if not sizes or min(sizes) <= 0:
        raise ValueError(f"expected positive element sizes, got {text!r}")
    return sizes


def full_plan(methods: tuple[Method, ...] = METHODS, sizes: tuple[float, ...] = SIZES) -> Plan:
    """Both fields at 5 nm with every method and magnum.np; the convergence in element size
    (`sizes`) of the first method, and 10 nm of the others (if 10 is among the sizes)."""
    (default, *others) = methods
    runs = [(field, 5.0, *method) for method in methods for field in (1, 2)]
    runs += [(field, size, *default) for size in sizes if size != 5.0 for field in (1, 2)]
    if 10.0 in sizes:
        runs += [(field, 10.0, *method) for method in others for field in (1, 2)]
    return Plan(tuple(runs), ((1, 5.0), (2, 5.0)), sp4.DYNAMICS_S * 1e9, CORES)


def quick_plan(methods: tuple[Method, ...] = METHODS, sizes: tuple[float, ...] = SIZES) -> Plan:
    """A smoke run of the harness: field 1 at 20 nm for 0.02 ns, serial."""
    runs = tuple((1, 20.0, *method) for method in methods)
    return Plan(runs, ((1, 20.0),), 0.02, 1)


def _load() -> float:
    return os.getloadavg()[0]


def run_weylfem(run: tuple, plan: Plan, scratch: Path, env: dict[str, str]) -> dict:
    field, size, demagnetization, scheme, *film = run
    out = scratch / f"sp4-{field}-{size}-{demagnetization}-{scheme}{''.join(film)}.json"
    command = [sys.executable, str(CASE_SCRIPT), str(field), str(size)]
    command += [demagnetization, scheme, str(plan.end_ns), str(out), *film]
    if plan.ranks > 1:
        command = ["mpirun", "-n", str(plan.ranks), *command]
    print(
        f"bench: SP4 field {field}, weylfem {size} nm {demagnetization} {scheme} {''.join(film)}",
        flush=True,
    )
    load = _load()
    subprocess.run(command, check=True, env={**env, "OMP_NUM_THREADS": "1"})
    return {**json.loads(out.read_text()), "load": [load, _load()]}


def run_peer(field: int, cell_nm: float, plan: Plan, scratch: Path, env: dict[str, str]) -> dict:
    out = scratch / f"sp4-magnumnp-{field}-{cell_nm}.json"
    command = [str(PEER_PYTHON), str(PEER_SCRIPT), "--field", str(field)]
    command += ["--threads", str(CORES if plan.ranks > 1 else 1), "--cell-nm", str(cell_nm)]
    command += ["--end-ns", str(plan.end_ns), "--out", str(out)]
    print(f"bench: SP4 field {field}, magnum.np {cell_nm} nm", flush=True)
    load = _load()
    subprocess.run(command, check=True, env=env)
    row = json.loads(out.read_text())
    return {**row, "case": "sp4_peer", "mesh_size": cell_nm, "load": [load, _load()]}


def run_sp4(plan: Plan, scratch: Path, env: dict[str, str]) -> list[dict]:
    """Every run of `plan`: the weylfem rows, then magnum.np's (if .venv-bench exists)."""
    rows = [run_weylfem(run, plan, scratch, env) for run in plan.weylfem]
    if PEER_PYTHON.exists():
        rows += [run_peer(field, size, plan, scratch, env) for field, size in plan.peer]
    else:
        print(f"bench: no {PEER_PYTHON.parent.parent.name}: magnum.np left out", flush=True)
    return rows


def _f(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _vector(values: list[float] | None) -> str:
    return "–" if values is None else "(" + ", ".join(f"{v:.4f}" for v in values) + ")"


def _mark(verdict: bool | None) -> str:
    return {True: "met", False: "not met", None: "not measured"}[verdict]


def _label(row: dict) -> str:
    if row["case"] == "sp4_peer":
        threads = f"{row['threads']} thread" + ("s" if row["threads"] > 1 else "")
        return f"magnum.np {row['version']} ({threads})"
    ranks = f"{row['ranks']} rank" + ("s" if row["ranks"] > 1 else "")
    return f"weylfem {_method(row)} ({ranks})"


def _method(row: dict) -> str:
    """demagnetization + scheme, and the film's layers with m uniform through them."""
    layers = row.get("film_layers")
    film = ""
    if layers:
        film = f", {layers} layers, m uniform through them"
        if layers == 1:
            film = ", 1 layer, m uniform through it"
    return f"{row['demagnetization']} + {row['scheme']}{film}"


def _size(row: dict) -> str:
    if row["case"] == "sp4_peer":
        cells = row["cells"]
        return f"{cells[0]}x{cells[1]}x{cells[2]} cells ({3 * cells[0] * cells[1] * cells[2]} dofs)"
    return f"{row['dofs']} dofs"


def _steps(row: dict) -> str:
    """Time steps: the adaptive schemes' accepted (+ rejected) internal steps, else the
    run loop's fixed steps."""
    if row["case"] == "sp4_peer":
        return str(row["accepted_steps"])
    solver = row.get("solver") or {}
    if "accepted_steps" in solver:
        return f"{solver['accepted_steps']} (+{solver.get('rejected_steps', 0)})"
    return str(row["steps"])


def _ratio(row: dict, peer: dict | None, key: str) -> str:
    if peer is None or row["case"] == "sp4_peer":
        return "–"
    return f"{row['seconds'][key] / peer['seconds'][key]:.2f}"


def _landmark_cells(row: dict) -> str:
    marks = row["landmarks"]
    return f"{_f(marks['s_state_m'][1])} | {_f(marks['crossing_ns'])} | {_vector(marks['m'])}"


def markdown(rows: list[dict]) -> list[str]:
    """The SP4 sections of results.md."""
    sp4_rows = [r for r in rows if r["case"] in ("sp4", "sp4_peer")]
    if not sp4_rows:
        return []
    ran = [r for r in sp4_rows if "skipped" not in r]
    peers = {r["field"]: r for r in ran if r["case"] == "sp4_peer"}
    sizes = sorted({r["mesh_size"] for r in ran if r["case"] == "sp4"}, key=lambda s: abs(s - 5))
    compared = sizes[0] if sizes else 5.0
    spans = [r["end_s"] if r["case"] == "sp4" else r["dynamics_s"] for r in ran]
    end_ns = round(max(spans, default=0.0) * 1e9, 6)
    lines = [
        "",
        "## µMAG standard problem 4: weylfem against magnum.np on the same cores",
        "",
        "Permalloy film 500 x 125 x 3 nm (M_s = 8e5 A/m, A = 1.3e-11 J/m, alpha = 0.02, "
        "gamma = 2.211e5 m/(A s)).  *relaxation*: the s-state at zero field from the demo's "
        "start, by Barzilai-Borwein energy minimization in both codes, to magnum.np's demo "
        "tolerance (max |m x (m x H)| < 1 A/m; weylfem: max |m x B_eff| < mu_0 x 1 A/m).  "
        f"*dynamics*: {end_ns:g} ns under the field.  weylfem: the device file through "
        "`device_from_mapping` + `run_device`, times from its results.json (the phase "
        "and its assembly/solves, slowest rank; meshing and set-up apart); magnum.np 2.2 "
        "(finite differences, CPU torch, as its SP4 demo: MinimizerBB, then RKF45 logged "
        "every 10 ps), wall seconds.  *ratio*: weylfem / magnum.np (the target is <= 1), "
        "against the magnum.np row of the table: `--only sp4` keeps the rows of weylfem "
        "configurations a run did not repeat, measured in an earlier run (see their load).  "
        "Landmarks: the same code for both (bench/sp4_reference.py; the crossing by a cubic "
        "through the samples).  *load*: the 1-minute load average before/after the run "
        f"(the machine has {CORES} cores).",
    ]
    for field in (1, 2):
        published = sp4.PUBLISHED[field]
        at = published["m_at_ns"]
        lines += [
            "",
            f"### Field {field}: mu_0 H = {tuple(1e3 * h for h in sp4.FIELDS_T[field])} mT",
            "",
            f"| code | size | relaxation (s) | ratio | {end_ns:g} ns dynamics (s) | ratio "
            f"| steps | s-state <m_y> | first <m_x> = 0 (ns) | <m>({at:g} ns) | memory (MiB) "
            "| load |",
            "|" + "---|" * 12,
        ]
        peer = peers.get(field)
        here = [r for r in ran if r["field"] == field and r["case"] == "sp4"]
        here = [r for r in here if r["mesh_size"] == compared]
        for row in [*here, *([peer] if peer else [])]:
            memory = f"{row['memory_MiB']:.0f}" if "memory_MiB" in row else "–"
            lines.append(
                f"| {_label(row)} | {_size(row)} | {row['seconds']['relaxation']:.2f} "
                f"| {_ratio(row, peer, 'relaxation')} | {row['seconds']['dynamics']:.2f} "
                f"| {_ratio(row, peer, 'dynamics')} | {_steps(row)} | {_landmark_cells(row)} "
                f"| {memory} | {row['load'][0]:.1f}/{row['load'][1]:.1f} |"
            )
        lines.append(
            f"| published | | | | | | | {sp4.PUBLISHED['s_state_m_y']} "
            f"| {published['crossing_ns']} | {_vector(list(published['m']))} | | |"
        )
    skipped = [r for r in sp4_rows if "skipped" in r]
    if skipped or not peers:
        lines.append("")
    if not peers:
        lines.append("- magnum.np not run: no .venv-bench (`bash scripts/install.sh --bench`).")
    for row in skipped:
        lines.append(
            f"- skipped: field {row['field']}, {row['mesh_size']} nm, {_method(row)}:"
            f" {row['skipped']}"
        )
    lines += _convergence(ran)
    lines += _targets(ran, peers, compared)
    return lines


def _convergence(ran: list[dict]) -> list[str]:
    lines = [
        "",
        "### weylfem: convergence in element size",
        "",
        "Deviation from the published landmark in brackets.",
        "",
        "| field | method | element (nm) | dofs | s-state <m_y> | first <m_x> = 0 (ns) "
        "| <m> at the published time | relaxation (s) | dynamics (s) |",
        "|" + "---|" * 9,
    ]
    rows = sorted(
        (r for r in ran if r["case"] == "sp4"),
        key=lambda r: (r["field"], _method(r), -r["mesh_size"]),
    )
    for row in rows:
        published, marks = sp4.PUBLISHED[row["field"]], row["landmarks"]
        m_y = marks["s_state_m"][1]
        crossing = marks["crossing_ns"]
        cross = "–"
        if crossing is not None:
            cross = f"{crossing:.4f} ({1e3 * (crossing - published['crossing_ns']):+.1f} ps)"
        m = marks["m"]
        m_text = "–"
        if m is not None:
            worst = max(abs(a - b) for a, b in zip(m, published["m"], strict=True))
            m_text = f"{_vector(m)} ({worst:.3f})"
        lines.append(
            f"| {row['field']} | {_method(row)} "
            f"| {row['mesh_size']:g} | {row['dofs']} "
            f"| {m_y:.4f} ({m_y - sp4.PUBLISHED['s_state_m_y']:+.4f}) | {cross} | {m_text} "
            f"| {row['seconds']['relaxation']:.2f} | {row['seconds']['dynamics']:.2f} |"
        )
    return lines


def _targets(ran: list[dict], peers: dict, compared: float) -> list[str]:
    lines = ["", "### Targets (issue 18), as measured", ""]
    weylfem = [r for r in ran if r["case"] == "sp4" and r["mesh_size"] == compared]
    if not weylfem:
        return [*lines, "- no weylfem SP4 run"]
    for row in weylfem:
        field = row["field"]
        tolerance = sp4.TARGETS[field]
        verdict = sp4.verdicts(field, row["landmarks"])
        parts = [
            f"s-state <m_y> within {sp4.TARGETS['s_state_m_y']}: {_mark(verdict['s_state_m_y'])}",
            f"crossing within {1e3 * tolerance['crossing_ns']:g} ps: {_mark(verdict['crossing'])}",
            f"<m>({sp4.PUBLISHED[field]['m_at_ns']:g} ns) within {tolerance['m']}: "
            f"{_mark(verdict['m'])}",
        ]
        peer = peers.get(field)
        for key, name in (("dynamics", "dynamics"), ("relaxation", "relaxation")):
            if peer is None:
                parts.append(f"{name} ratio <= 1: not measured (no magnum.np)")
            else:
                ratio = row["seconds"][key] / peer["seconds"][key]
                parts.append(f"{name} ratio {ratio:.2f} <= 1: {_mark(ratio <= 1.0)}")
        lines.append(f"- field {field}, {_method(row)}, {compared:g} nm: " + "; ".join(parts))
    return lines


def summarize(rows: list[dict]) -> list[dict]:
    """Per weylfem SP4 run: the ratios to magnum.np (same field) and the issue's verdicts."""
    peers = {r["field"]: r for r in rows if r["case"] == "sp4_peer"}
    summary = []
    for row in rows:
        if row["case"] != "sp4" or "skipped" in row:
            continue
        peer = peers.get(row["field"])
        ratios = {
            key: row["seconds"][key] / peer["seconds"][key] if peer else None
            for key in ("relaxation", "dynamics")
        }
        summary.append(
            {
                "field": row["field"],
                "mesh_size": row["mesh_size"],
                "method": _method(row),
                "ratios": ratios,
                "verdicts": sp4.verdicts(row["field"], row["landmarks"]),
            }
        )
    return summary
