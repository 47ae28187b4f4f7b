"""The benchmark itself runs (at its smoke-test sizes) and reports what the issue asks
for; it asserts no time: timings are measured by `make bench`, not by tests."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.mark.serial
def test_quick_benchmark_reports_every_phase(tmp_path):
    # os.environ is this process's start-up environment, without what MPI_Init set
    command = [sys.executable, str(BENCH), "--quick", "--only", "solvers", "--out", str(tmp_path)]
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
    explicit = rows["llg_rk45", 20.0, 1]  # the same film: the same m after the same time
    assert explicit["dofs"] == llg["dofs"] and explicit["iterations"] is None
    assert explicit["internal_steps"] >= 5 and explicit["field_evaluations"] >= 30
    assert explicit["mean_m"] == pytest.approx(llg["mean_m"], abs=1e-4)
    summary = report["summary"]
    assert summary["parallel"][0]["ranks"] == 2
    serial = [row for row in report["rows"] if row["case"] == "transport" and row["ranks"] == 1]
    if all(row["seconds"]["preconditioner"] + row["seconds"]["solve"] > 0 for row in serial):
        assert summary["coupled_solve_exponent"] > 0
    else:  # DOLFINx 0.9 times in 10 ms steps: the quick sizes' solves can read 0 s
        assert str(report["machine"]["dolfinx"]).startswith("0.9")
        assert math.isnan(summary["coupled_solve_exponent"])
    table = (tmp_path / "results.md").read_text()
    headings = (
        "Poisson solve on the same mesh",
        "Direct (MUMPS)",
        "One LLG step",
        "rk45",
        "2 ranks",
    )
    for heading in headings:
        assert heading in table


sys.path.insert(0, str(BENCH.parent))
import sp4_reference  # noqa: E402


@pytest.mark.serial
def test_sp4_landmarks_of_a_known_series():
    # m_x = cos(2 pi t / 0.5 ns) - 0.2 crosses zero first at acos(0.2) 0.5 ns / (2 pi)
    time_s = np.arange(0.0, 1.0001e-9, 1e-11)
    phase = 2 * np.pi * time_s / 0.5e-9
    m = np.column_stack([np.cos(phase) - 0.2, np.sin(phase), 0.01 * time_s / 1e-9])
    exact = np.arccos(0.2) * 0.5 / (2 * np.pi)
    crossing = sp4_reference.first_crossing_ns(time_s, m[:, 0])
    i = int(exact / 0.01)
    chord = 1e9 * (time_s[i] - m[i, 0] * (time_s[i + 1] - time_s[i]) / (m[i + 1, 0] - m[i, 0]))
    assert crossing == pytest.approx(exact, abs=2e-6)  # the cubic, not the chord
    assert abs(chord - exact) > 1e-5
    assert sp4_reference.first_crossing_ns(time_s, np.abs(m[:, 0]) + 0.1) is None
    marks = sp4_reference.landmarks(1, [0.97, 0.126, 0.0], time_s, m)
    assert marks["m"] == pytest.approx([0.8, 0.0, 0.01], abs=1e-9)  # <m>(1 ns)
    assert sp4_reference.landmarks(2, [0.97, 0.1, 0.0], time_s[:5], m[:5])["m"] is None
    # field 1: <m>(1 ns) is 1.78 off the published, the s-state within 0.005
    verdict = sp4_reference.verdicts(1, marks)
    assert verdict == {"s_state_m_y": True, "crossing": False, "m": False}
    near = {"s_state_m": [0.97, 0.1205, 0.0], "crossing_ns": 0.13935, "m": [-0.98, 0.13, 0.055]}
    assert sp4_reference.verdicts(1, near) == {"s_state_m_y": False, "crossing": True, "m": False}
    near["m"][2] = 0.05  # every component within 0.01
    assert sp4_reference.verdicts(1, near)["m"] is True


@pytest.mark.serial
def test_quick_sp4_benchmark_runs_weylfem_and_the_peer(tmp_path):
    command = [sys.executable, str(BENCH), "--quick", "--only", "sp4", "--out", str(tmp_path)]
    subprocess.run(command, check=True, env=dict(os.environ))
    report = json.loads((tmp_path / "results.json").read_text())
    rows = report["rows"]
    weylfem = [row for row in rows if row["case"] == "sp4"]
    assert {(row["demagnetization"], row["scheme"], row["film_layers"]) for row in weylfem} == {
        ("fft", "rkf45", 1),  # the film on the cell grid, one layer, m uniform through it
        ("fem_bem", "rk45", 3),  # the film in layers, m uniform through them
        ("fem_bem", "rkf45", 3),  # the same with the Fehlberg pair
        ("fem_bem", "rk45", None),
        ("open_boundary", "rk45", None),
        ("open_boundary", "bdf2", None),
    }
    ran = [row for row in weylfem if "skipped" not in row]
    assert ran, "the demo's method must run"
    for row in weylfem:
        if "skipped" in row:  # only a method or scheme this weylfem does not have
            assert any(name in row["skipped"] for name in ("fem_bem", "fft", "rk45"))
    for row in ran:
        assert row["dofs"] == 3 * row["magnetic_nodes"] and row["ranks"] == 1
        assert row["relaxation_max_torque_T"] < 4e-7 * np.pi
        seconds = row["seconds"]
        assert seconds["relaxation"] > 0 and seconds["dynamics"] > 0
        assert seconds["dynamics"] <= seconds["dynamics_wall"]
        time_s, m = np.array(row["series"]["time_s"]), np.array(row["series"]["m"])
        # the dynamics start from the relaxed state and run 0.02 ns under the field
        assert m[0] == pytest.approx(row["relaxed_m"], abs=1e-12)
        assert time_s[0] == 0.0 and time_s[-1] == pytest.approx(2e-11, rel=1e-9)
        assert np.all(np.linalg.norm(m, axis=1) <= 1 + 1e-12)
        assert row["landmarks"]["s_state_m"] == m[0].tolist()
        assert m[-1][0] < m[0][0]  # the field along -x starts turning it
    summary = report["summary"]["sp4"]
    assert len(summary) == len(ran)
    for entry in summary:  # 0.02 ns: no crossing, no <m>(1 ns) to judge
        verdicts = entry["verdicts"]
        assert isinstance(verdicts["s_state_m_y"], bool)
        assert verdicts["crossing"] is None and verdicts["m"] is None
    peers = [row for row in rows if row["case"] == "sp4_peer"]
    table = (tmp_path / "results.md").read_text()
    for heading in ("µMAG standard problem 4", "convergence in element size", "issue 18"):
        assert heading in table
    if not (BENCH.parents[1] / ".venv-bench" / "bin" / "python").exists():
        assert not peers and "magnum.np not run" in table
        return
    (peer,) = peers
    assert peer["field"] == 1 and peer["threads"] == 1
    assert peer["dynamics_s"] == pytest.approx(2e-11, rel=1e-9)
    assert peer["gamma_m_per_A_s"] == 2.211e5
    assert 0.9 < peer["landmarks"]["s_state_m"][0] < 1.0  # along x, the ends curled
    assert "magnum.np 2.2.0" in table
    assert all(entry["ratios"]["dynamics"] > 0 for entry in summary)
