"""`weylfem run` of every run kind ends with its summary and exit 0: a relaxation-only
dynamics run (end_time_s = 0, relax_first), alone and coupled, and a transient run."""

import re
import subprocess

import pytest
from conftest import ROOT, bar_table, magnet_film_table, run_cli, write_toml

pytestmark = pytest.mark.serial


def run(tmp_path, table: dict) -> subprocess.CompletedProcess:
    write_toml(tmp_path / "dev.toml", table)
    done = run_cli("run", "dev.toml", "--out", "out", "--quiet", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "out" / "results.json").is_file()
    return done


def test_relaxation_only_run(tmp_path):
    table = magnet_film_table()
    table["regions"]["channel"]["magnetization_direction"] = [1, 0.2, 0.5]
    table["dynamics"] = {"end_time_s": 0.0, "time_step_s": 1e-12, "relax_first": True}
    table["output"] = {"png": False}
    done = run(tmp_path, table)
    assert re.search(r"relaxation: \d+ steps, max \|m x B_eff\|", done.stdout), done.stdout
    assert "dynamics: 0 bdf2 steps" in done.stdout
    assert re.search(r"energy \S+ J/m,", done.stdout)  # a 2D film: per metre of depth


def test_coupled_relaxation_only_run(tmp_path):
    """The docs' coupled film, coarsened, relaxed only: no steps, the summary complete."""
    text = (ROOT / "docs" / "device-file.md").read_text()
    block = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "torque film" in b)
    block = block.replace("mesh_size = 0.2", "mesh_size = 0.8").replace(
        "end_time_s = 2.0e-12", "end_time_s = 0.0\nrelax_first = true"
    )
    (tmp_path / "film.toml").write_text(block + "\n[output]\npng = false\n")
    done = run_cli("run", "film.toml", "--out", "out", "--quiet", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "dynamics: 0 bdf2 steps" in done.stdout
    assert "energy balance: residual" in done.stdout and "A/m" in done.stdout


def test_transient_run(tmp_path):
    table = bar_table()
    table["geometry"].update(dimension=2, mesh_size=0.5)
    table["regions"]["channel"]["material"] = "TaAs"
    table["physics"]["transport"] = "charge_valley"
    table["transient"] = {"end_time_s": 2e-12, "time_step_s": 1e-12, "snapshot_every": 1}
    table["output"] = {"png": True}
    done = run(tmp_path, table)
    assert "transient: 2 steps of 1.000e-12 s to t = 2.000000e-12 s (step drive)" in done.stdout
    assert (tmp_path / "out" / "series.png").is_file()
