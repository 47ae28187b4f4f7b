"""The benchmark itself runs (at its smoke-test sizes) and reports what the issue asks
for; it asserts no time: timings are measured by `make bench`, not by tests."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.mark.serial
def test_quick_benchmark_reports_every_phase(tmp_path):
    # os.environ is this process's start-up environment, without what MPI_Init set
    command = [sys.executable, str(BENCH), "--quick", "--out", str(tmp_path)]
    subprocess.run(command, check=True, env=dict(os.environ))
    report = json.loads((tmp_path / "results.json").read_text())
    assert {"cores", "memory_GiB", "dolfinx", "petsc"} <= set(report["machine"])
    rows = {(row["case"], row["mesh_size"], row["ranks"]): row for row in report["rows"]}
    coupled = rows["transport", 0.15, 1]
    assert coupled["dofs"] == 2 * coupled["vertices"] == 2 * coupled["poisson_dofs"]
    phases = {"mesh", "setup", "assemble", "preconditioner", "solve", "output"}
    assert phases <= set(coupled["seconds"])
    assert coupled["linear_solves"] == 1 and coupled["iterations"] > 0
    assert coupled["resistance_ohm"] > 0 and coupled["memory_MiB"]["coupled"] > 0
    # the parallel run solves the same problem
    parallel = rows["transport", 0.15, 2]
    assert parallel["resistance_ohm"] == pytest.approx(coupled["resistance_ohm"], rel=1e-6)
    assert rows["transport_direct", 0.25, 1]["iterations"] == 1
    llg = rows["llg", 20.0, 1]
    assert llg["reduced_dofs"] == 2 * llg["dofs"] // 3 and llg["seconds"]["steps_total"] > 0
    summary = report["summary"]
    assert summary["parallel"][0]["ranks"] == 2
    assert summary["coupled_solve_exponent"] > 0
    table = (tmp_path / "results.md").read_text()
    for heading in ("Poisson solve on the same mesh", "Direct (MUMPS)", "One LLG step", "2 ranks"):
        assert heading in table
