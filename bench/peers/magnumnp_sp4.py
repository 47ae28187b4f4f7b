"""µMAG standard problem 4 with the peer magnum.np (finite differences, PyTorch on CPU), set up
as magnum.np's own SP4 demo does: 5 nm x 5 nm x 3 nm cells (100 x 25 x 1), the s-state by its
Barzilai-Borwein energy minimizer (MinimizerBB, demag + exchange) from m = x inside with y
at the ends, then LLGSolver's adaptive RKF45 under the switching field, <m> logged at every
`--interval` (the demo's 10 ps).

Run in the benchmark-only environment .venv-bench (scripts/install.sh --bench):

    .venv-bench/bin/python bench/peers/magnumnp_sp4.py --field 1 --threads 2 --out OUT.json

Writes OUT.json: wall and process-CPU seconds of set-up (mesh, state, the first field
evaluation: the demag kernel), relaxation and dynamics; peak memory; the <m>(t) series;
the landmarks (bench/sp4_reference.py, the same computation as for weylfem); versions
and threads.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sp4_reference as sp4  # noqa: E402


@contextmanager
def timed(seconds: dict, name: str):
    """Wall and process-CPU seconds of the enclosed block into seconds[name] and
    seconds[name + "_cpu"] (CPU above wall x threads means others shared the cores)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    seconds[name] = time.perf_counter() - wall
    seconds[name + "_cpu"] = time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--field", type=int, choices=(1, 2), required=True)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--cell-nm", type=float, default=5.0, help="in-plane cell size")
    parser.add_argument("--end-ns", type=float, default=sp4.DYNAMICS_S * 1e9)
    parser.add_argument("--interval", type=float, default=1e-11, help="logging interval (s)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    import magnumnp as mnp

    # the problem's gamma (magnum.np's default is mu_0 times the electron's, 2.2128e5)
    mnp.constants.gamma = sp4.GYROMAGNETIC_M_PER_A_S
    mnp.set_log_level(25)  # as the demo: the solvers' summaries, not every step
    seconds: dict[str, float] = {}
    lx, ly, lz = (length * 1e-9 for length in sp4.LENGTHS_NM)
    cells = (round(lx / (args.cell_nm * 1e-9)), round(ly / (args.cell_nm * 1e-9)), 1)
    with timed(seconds, "setup"):
        state = mnp.State(mnp.Mesh(cells, (lx / cells[0], ly / cells[1], lz)))
        state.material = {
            "Ms": sp4.SATURATION_A_PER_M,
            "A": sp4.EXCHANGE_J_PER_M,
            "alpha": sp4.DAMPING,
        }
        demag, exchange = mnp.DemagField(), mnp.ExchangeField()
        field = [component / mnp.constants.mu_0 for component in sp4.FIELDS_T[args.field]]
        external = mnp.ExternalField(field)
        # the demo's start: along x inside, along y in the end columns
        state.m = state.Constant([0.0, 0.0, 0.0])
        state.m[1:-1, :, :, 0] = 1.0
        state.m[(-1, 0), :, :, 1] = 1.0
        demag.h(state)  # the demag kernel, built at the first evaluation

    def average() -> list[float]:
        return [float(v) for v in state.m.mean(dim=(0, 1, 2))]

    with timed(seconds, "relaxation"):
        converged = mnp.MinimizerBB([demag, exchange]).minimize(state)
    s_state = average()

    llg = mnp.LLGSolver([demag, exchange, external])
    state.t = 0.0
    state._step = 0
    times, series = [0.0], [s_state]
    intervals = round(args.end_ns * 1e-9 / args.interval)
    with timed(seconds, "dynamics"):
        for _ in range(intervals):
            llg.step(state, args.interval)
            times.append(float(state.t))
            series.append(average())
    gamma = float(mnp.constants.gamma)
    report = {
        "code": "magnum.np",
        "version": mnp.__version__,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "field": args.field,
        "cells": list(cells),
        "cell_nm": [lx / cells[0] * 1e9, ly / cells[1] * 1e9, lz * 1e9],
        "solver": "MinimizerBB (dm_tol 1 A/m) + LLGSolver RKF45 (atol = rtol = 1e-5)",
        "relaxation_converged": bool(converged),
        "gamma_m_per_A_s": gamma,
        "interval_s": args.interval,
        "dynamics_s": float(state.t),
        "accepted_steps": int(state._step),
        "seconds": seconds,
        "memory_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "series": {"time_s": times, "m": series},
        "landmarks": sp4.landmarks(args.field, s_state, times, series),
    }
    args.out.write_text(json.dumps(report, indent=1))
    marks = report["landmarks"]
    print(
        f"magnum.np SP4 field {args.field}: set-up {seconds['setup']:.2f} s, relaxation "
        f"{seconds['relaxation']:.2f} s, {report['dynamics_s'] * 1e9:.3g} ns of dynamics "
        f"{seconds['dynamics']:.2f} s ({report['accepted_steps']} steps); s-state "
        f"{[round(v, 4) for v in s_state]}, crossing {marks['crossing_ns']}, "
        f"<m>({marks['m_at_ns']} ns) {marks['m']}",
        flush=True,
    )


if __name__ == "__main__":
    main()
