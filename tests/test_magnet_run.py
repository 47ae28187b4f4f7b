"""Magnetization-dynamics runs end to end: outputs, atomic checkpoints, exact restarts and
refused ones, on a 2D permalloy film (thin-film demagnetization) of about 60 nodes.

A run is "killed" by an observer raising after a step; the run directory OUT.running
then holds what a killed process leaves (series rows, snapshots, the last checkpoint).
In serial a resumed run repeats the uninterrupted one bit for bit; on several ranks two
meshings of the same device may be partitioned differently, so values agree to
round-off there.
"""

import copy
import io
import json

import numpy as np
import pytest
from conftest import magnet_film_table
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError
from weylfem.output.series import read_series
from weylfem.output.staging import MARKER
from weylfem.output.writers import xdmf_times
from weylfem.progress import ProgressBar
from weylfem.run import run_device

FILM = magnet_film_table()
FILM["regions"]["channel"]["magnetization_direction"] = [1, 0.3, 0.2]
FILM.update(
    applied_field={"amplitude_T": [-0.05, 0.02, 0.0]},
    torques={
        "spin_orbit": {
            "current_density_A_per_m2": [1e11, 0, 0],
            "spin_direction": [0, 1, 0],
            "damping_like_T_per_A_m2": 2e-13,
            "field_like_T_per_A_m2": 1e-13,
        }
    },
    dynamics={
        "end_time_s": 8e-12,
        "time_step_s": 1e-12,
        "snapshot_every": 2,
        "checkpoint_every": 3,
    },
    output={"png": False},
)


def film(png: bool = False, **dynamics) -> object:
    """The film with some [dynamics] keys changed."""
    table = copy.deepcopy(FILM)
    table["dynamics"].update(dynamics)
    table["output"]["png"] = png
    return device_from_mapping(table, "film.toml")


class Killed(Exception):
    """Stands for the process being killed."""


def kill_after(last: int):
    def observer(step, problem):
        if step == last:
            raise Killed

    return observer


def checkpoint(path) -> dict:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def assert_same_run(a, b, comm, parallel_rtol: float = 1e-12, snapshots: int = 5):
    """Same series rows, final m and snapshot times: exactly in serial, to
    `parallel_rtol` on several ranks (of each column's largest value; of the largest
    energy for the energies, some of which are round-off on a uniform film)."""
    if comm.rank == 0:
        series_a, series_b = (a / "series.csv").read_text(), (b / "series.csv").read_text()
        m_a, m_b = checkpoint(a / "checkpoint.npz")["m"], checkpoint(b / "checkpoint.npz")["m"]
        if comm.size == 1:
            assert series_a == series_b
            assert np.array_equal(m_a, m_b)
        else:
            rows_a, rows_b = read_series(a / "series.csv"), read_series(b / "series.csv")
            assert rows_a.keys() == rows_b.keys()
            energy = max(np.abs(v).max() for k, v in rows_a.items() if k.startswith("E_"))
            for name, values in rows_a.items():
                scale = energy if name.startswith("E_") else np.abs(values).max()
                assert np.allclose(values, rows_b[name], rtol=0, atol=parallel_rtol * scale), name
            assert np.allclose(m_a, m_b, rtol=0, atol=parallel_rtol)
        times = xdmf_times(a / "magnetization.xdmf", "m")
        assert times == xdmf_times(b / "magnetization.xdmf", "m")
        assert len(times) == snapshots  # by default t = 0, 2, 4, 6, 8 ps


@pytest.mark.mpi
def test_run_writes_series_snapshots_checkpoint_and_results(shared_tmp_path, comm):
    device = film(png=True, relax_first=True, relax_torque_tolerance_T=1e-3)
    out = shared_tmp_path / "out"
    results = run_device(device, out, comm, quiet=True)
    assert results["dynamics"]["steps"] == 8
    assert results["dynamics"]["final_time_s"] == pytest.approx(8e-12)
    assert results["relaxation"]["max_torque_T"] < 1e-3
    assert results["magnetization"]["energy_terms"] == ["exchange", "zeeman", "demagnetization"]
    assert results["magnetization"]["torques"] == ["spin_orbit"]
    assert results["solver"]["scheme"] == "bdf2"
    assert set(results["timings_s"]) >= {"mesh", "setup", "relax", "steps", "output", "total"}
    if comm.rank == 0:
        names = {"results.json", "device.json", "series.csv", "series.png", "checkpoint.npz"}
        assert names <= {p.name for p in out.iterdir()}
        assert not (shared_tmp_path / "out.running").exists()
        assert json.loads((out / "results.json").read_text())["dynamics"]["steps"] == 8
        series = read_series(out / "series.csv")
        assert list(series["step"]) == list(range(9))
        assert np.allclose(series["time_s"], np.arange(9) * 1e-12)
        terms = series["E_exchange_J"] + series["E_zeeman_J"] + series["E_demagnetization_J"]
        assert np.allclose(series["E_total_J"], terms, rtol=1e-12)
        average = np.stack([series["m_x"], series["m_y"], series["m_z"]], axis=1)
        assert np.all(np.linalg.norm(average, axis=1) <= 1 + 1e-12)
        assert series["max_dm"][0] == 0 and np.all(series["max_dm"][1:] > 0)
        assert series["E_zeeman_J"][0] != 0  # the applied field is on from t = 0
        assert np.allclose(results["final"]["average_magnetization"], average[-1], rtol=1e-12)
        saved = checkpoint(out / "checkpoint.npz")
        assert int(saved["step"]) == 8 and int(saved["ranks"]) == comm.size
        assert np.allclose(np.linalg.norm(saved["m"], axis=1), 1.0)
        assert len(xdmf_times(out / "magnetization.xdmf", "B_eff")) == 5


@pytest.mark.mpi
def test_resumed_run_equals_uninterrupted_run(shared_tmp_path, comm):
    device = film()
    run_device(device, shared_tmp_path / "full", comm, quiet=True)
    cut = shared_tmp_path / "cut"
    with pytest.raises(Killed):
        run_device(device, cut, comm, quiet=True, on_step=kill_after(5))
    running = shared_tmp_path / "cut.running"
    if comm.rank == 0:
        assert not cut.exists()
        assert int(checkpoint(running / "checkpoint.npz")["step"]) == 3
        assert "previous" in checkpoint(running / "checkpoint.npz")  # the BDF2 history
        assert len(read_series(running / "series.csv")["step"]) == 6  # rows 0..5 survive
    with pytest.raises(ConfigError, match="--resume: expected no interrupted run"):
        run_device(device, cut, comm, quiet=True)
    results = run_device(device, cut, comm, quiet=True, resume=True)
    assert results["dynamics"]["resumed_from_step"] == 3
    assert not running.exists()
    assert_same_run(shared_tmp_path / "full", cut, comm)


@pytest.mark.mpi
def test_resume_restores_the_demagnetizing_potential(shared_tmp_path, comm):
    """Open boundary, iterative solvers: the next potential solve starts from the last
    potential, which the checkpoint carries (without it: differences of 1e-10).  On
    several ranks the two meshings may be partitioned differently, and the iterative
    solves agree to their tolerance only."""
    table = copy.deepcopy(FILM)
    del table["regions"]["channel"], table["torques"]
    table["geometry"] = {
        "kind": "magnet_body",
        "dimension": 2,
        "length_unit": "nm",
        "lx": 40.0,
        "ly": 20.0,
        "magnet_mesh_size": 5.0,
        "mesh_size": 20.0,
    }
    table["regions"]["magnet"] = {"material": "permalloy", "magnetization_direction": [1, 0.5, 0]}
    table["magnetization"] = {"demagnetization": "open_boundary"}
    table["solver"] = {"kind": "iterative", "rtol": 1e-8}
    device = device_from_mapping(table, "body.toml")
    full = run_device(device, shared_tmp_path / "full", comm, quiet=True)
    assert full["magnetization"]["demagnetization_solver"]["ksp_type"] == "cg"
    assert full["solver"]["ksp_type"] == "gmres"
    with pytest.raises(Killed):
        run_device(device, shared_tmp_path / "cut", comm, quiet=True, on_step=kill_after(5))
    run_device(device, shared_tmp_path / "cut", comm, quiet=True, resume=True)
    assert_same_run(shared_tmp_path / "full", shared_tmp_path / "cut", comm, 1e-6)


@pytest.mark.serial
def test_checkpoint_is_never_half_written(tmp_path, monkeypatch):
    """Dying between the temporary file and its rename leaves the previous checkpoint."""
    import os

    device = film()
    replace = os.replace
    checkpoints = []

    def dying_replace(source, target):
        if str(target).endswith("checkpoint.npz"):
            checkpoints.append(target)
            if len(checkpoints) == 2:  # the checkpoint of step 3
                raise Killed
        replace(source, target)

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(Killed):
        run_device(device, tmp_path / "out", quiet=True)
    monkeypatch.undo()
    running = tmp_path / "out.running"
    hidden = sorted(p.name for p in running.iterdir() if p.name.startswith("."))
    assert hidden == [MARKER]  # no temporary checkpoint file, only the stage's marker
    assert int(checkpoint(running / "checkpoint.npz")["step"]) == 0
    (running / ".checkpoint.npz.partial-999").write_bytes(b"left by a killed process")
    run_device(device, tmp_path / "out", quiet=True, resume=True)
    run_device(device, tmp_path / "full", quiet=True)
    assert_same_run(tmp_path / "full", tmp_path / "out", MPI.COMM_WORLD)


@pytest.mark.serial
def test_restart_refuses_another_device_mesh_or_rank_count(tmp_path):
    device = film()
    with pytest.raises(Killed):
        run_device(device, tmp_path / "out", quiet=True, on_step=kill_after(4))
    path = tmp_path / "out.running" / "checkpoint.npz"
    original = checkpoint(path)

    def refused(changed_device, key: str, fragment: str):
        with pytest.raises(ConfigError) as info:
            run_device(changed_device, tmp_path / "out", quiet=True, resume=True)
        assert str(info.value).startswith(f"{path}: {key}: "), info.value
        assert fragment in str(info.value)

    refused(film(time_step_s=2e-12), "dynamics.time_step_s", "(1e-12, now 2e-12)")
    table = copy.deepcopy(FILM)
    table["geometry"]["mesh_size"] = 4.0
    refused(device_from_mapping(table, "film.toml"), "mesh", "expected the mesh of the run")
    np.savez(path, **{**original, "ranks": 2})
    refused(device, "ranks", "expected 2 MPI rank(s), as in the run that wrote it; got 1")
    moved = original["coordinates"].copy()
    moved[0] += 1e-9
    np.savez(path, **{**original, "coordinates": moved})
    refused(device, "mesh", "its nodes differ")
    np.savez(path, **original)
    results = run_device(film(end_time_s=9e-12), tmp_path / "out", quiet=True, resume=True)
    assert (results["dynamics"]["resumed_from_step"], results["dynamics"]["steps"]) == (3, 9)


@pytest.mark.serial
def test_finished_run_extends_and_seeds_another(tmp_path):
    run_device(film(end_time_s=4e-12), tmp_path / "out", quiet=True)
    results = run_device(film(end_time_s=6e-12), tmp_path / "out", quiet=True, resume=True)
    assert (results["dynamics"]["resumed_from_step"], results["dynamics"]["steps"]) == (4, 6)
    assert list(read_series(tmp_path / "out" / "series.csv")["step"]) == list(range(7))

    table = copy.deepcopy(FILM)
    table["magnetization"]["initial_state_file"] = str(tmp_path / "out" / "checkpoint.npz")
    del table["torques"]
    seeded = run_device(device_from_mapping(table, "seeded.toml"), tmp_path / "seeded", quiet=True)
    first = read_series(tmp_path / "seeded" / "series.csv")
    assert first["m_x"][0] == pytest.approx(results["final"]["average_magnetization"][0])
    assert seeded["magnetization"]["torques"] == []


@pytest.mark.serial
def test_progress_bar():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = ProgressBar(0, 100, 1e-9, MPI.COMM_WORLD, stream=stream, interval_s=0.0)
    assert bar.line(25, 2.5e-10, 10.0) == (
        "[######..................]  25%  t = 250 ps / 1 ns  step 25/100  ETA 0:30"
    )
    bar.update(50, 5e-10)
    bar.close()
    assert "step 50/100" in stream.getvalue() and stream.getvalue().endswith("\n")
    quiet = io.StringIO()  # not a terminal: nothing drawn
    ProgressBar(0, 10, 1e-9, MPI.COMM_WORLD, stream=quiet).update(5, 5e-10)
    assert quiet.getvalue() == ""
