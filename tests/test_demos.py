"""Every demo runs to completion (its own asserts check its numbers), serial and MPI."""

import os
import runpy
from pathlib import Path

import pytest

DEMOS = sorted((Path(__file__).resolve().parents[1] / "demos").glob("*.py"))


@pytest.mark.mpi
@pytest.mark.parametrize("demo", DEMOS, ids=[d.stem for d in DEMOS])
def test_demo_runs(demo, shared_tmp_path, monkeypatch):
    monkeypatch.chdir(shared_tmp_path)
    monkeypatch.setenv("WEYLFEM_DEMO_SMALL", "1")  # demos that honour it: fewer, coarser runs
    runpy.run_path(str(demo), run_name="__main__")
    assert os.listdir(shared_tmp_path / "demo-output")
