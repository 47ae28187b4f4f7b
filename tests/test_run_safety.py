"""Never lose data, never hang, never print a traceback (issue 17): where results go
(--out), what killed runs leave, signals, and failures on one MPI rank.

In-process tests call `run_device` (marked `mpi`: also run under mpirun -n 2); the others
launch `weylfem` (or tests/run_with_fault.py, which injects a fault, a SIGKILL included)
as a subprocess, under mpirun -n 2 for the MPI classes, and check its exit status and its
one line on stderr.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import WEYLFEM, magnet_film_table, mpi_env, toml_text

import weylfem.run
from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError, PathError
from weylfem.output.staging import MARKER
from weylfem.run import run_device

FAULTY = Path(__file__).with_name("run_with_fault.py")


def _film_toml() -> str:
    """The tests' permalloy film with a short run that writes snapshots and checkpoints."""
    table = magnet_film_table()
    table["regions"]["channel"]["magnetization_direction"] = [1, 0.3, 0.2]
    table["dynamics"].update(
        end_time_s=8e-12, time_step_s=1e-12, snapshot_every=2, checkpoint_every=3
    )
    table["output"] = {"png": False}
    return toml_text(table)


FILM_TOML = _film_toml()
BAR_TOML = """\
name = "bar"
[geometry]
kind = "bar"
dimension = 2
length_unit = "um"
length = 4.0
width = 1.0
mesh_size = 0.5
[regions.channel]
material = "Co3Sn2S2"
[contacts.source]
voltage_V = 1e-3
[contacts.drain]
voltage_V = 0.0
[physics]
transport = "ohmic"
[output]
png = false
"""


def bar_device(mesh_size: float = 0.5):
    table = {
        "name": "bar",
        "geometry": {
            "kind": "bar",
            "dimension": 2,
            "length_unit": "um",
            "length": 4.0,
            "width": 1.0,
            "mesh_size": mesh_size,
        },
        "regions": {"channel": {"material": "Co3Sn2S2"}},
        "contacts": {"source": {"voltage_V": 1e-3}, "drain": {"voltage_V": 0.0}},
        "physics": {"transport": "ohmic"},
        "output": {"png": False},
    }
    return device_from_mapping(table, "bar.toml")


def film_device(**dynamics):
    table = copy.deepcopy(magnet_film_table())
    table["dynamics"].update(dynamics)
    table["output"] = {"png": False}
    return device_from_mapping(table, "film.toml")


@pytest.fixture
def no_meshing(monkeypatch):
    """Fail the test if anything is meshed."""

    def meshing(*args, **kwargs):
        raise AssertionError("meshed before the destination was checked")

    monkeypatch.setattr(weylfem.run, "mesh_device", meshing)


def listing(directory: Path) -> list[str]:
    return sorted(entry.name for entry in directory.iterdir())


@functools.cache
def mpi_launcher() -> tuple[str, ...]:
    """mpirun for 2 ranks, with its own banners switched off where this Open MPI can
    (-q in Open MPI 4; Open MPI 5 and 6 refuse it and print banners `launcher_lines` drops)."""
    for quiet in (("-q",), ()):
        probe = subprocess.run(
            ["mpirun", *quiet, "-n", "1", "true"], capture_output=True, env=mpi_env(), timeout=60
        )
        if probe.returncode == 0:
            return ("mpirun", *quiet, "-n", "2")
    raise RuntimeError(f"mpirun does not start: {probe.stderr.decode()}")


WEYLFEM_PREFIXES = ("error:", "interrupted", "note:", "warning:")
"""How every line weylfem prints on stderr begins."""


def weylfem_lines(stderr: str) -> list[str]:
    """The lines of an mpirun-launched run's `stderr` that weylfem printed: the launcher and
    Open MPI add banners and per-process diagnostics (their form varies with the version),
    so only lines that begin as weylfem's do are kept."""
    return [line for line in stderr.strip().splitlines() if line.startswith(WEYLFEM_PREFIXES)]


def launch(*args, cwd: Path, fault: str | None = None, mpi: bool = False, **options):
    """Run `weylfem ARGS` (through run_with_fault.py with `fault`), optionally under
    mpirun -n 2 (`mpi_launcher`), and return the finished process."""
    command = [str(WEYLFEM)] if fault is None else [sys.executable, str(FAULTY), fault]
    launcher = list(mpi_launcher()) if mpi else []
    return subprocess.run(
        [*launcher, *command, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=mpi_env(),
        timeout=120,
        **options,
    )


def one_line(result) -> str:
    """The only line on stderr (no traceback); under mpirun, the only line weylfem printed."""
    under_mpirun = result.args[0] == "mpirun"
    lines = weylfem_lines(result.stderr) if under_mpirun else result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


# --- 1. --out that names a file, or an unusable place: refused first, nothing touched ----


@pytest.mark.mpi
def test_out_naming_a_file_is_refused_and_left_alone(shared_tmp_path, comm, no_meshing):
    folder = shared_tmp_path
    if comm.rank == 0:
        (folder / "results.json").write_text('{"mine": 1}')
        (folder / "device.toml").write_text(BAR_TOML)
        os.mkfifo(folder / "pipe")
    comm.barrier()
    before = listing(folder)
    cases = {
        "results.json": "got a regular file",
        "device.toml": "got a regular file",
        "pipe": "got a named pipe",
        "/dev/null": "got a character device",
    }
    for name, found in cases.items():
        for device in (bar_device(), film_device()):
            with pytest.raises(PathError) as info:
                run_device(device, folder / name, comm, quiet=True)
            message = str(info.value)
            assert message.startswith(f"{folder / name}: expected a new or empty directory")
            assert message.endswith(found), message
    assert listing(folder) == before
    assert (folder / "results.json").read_text() == '{"mine": 1}'
    assert (folder / "device.toml").read_text() == BAR_TOML
    assert Path("/dev/null").is_char_device()


@pytest.mark.mpi
def test_unusable_destinations_fail_before_meshing(shared_tmp_path, comm, no_meshing):
    folder = shared_tmp_path / "work"
    if comm.rank == 0:
        folder.mkdir()
        (folder / "notes.txt").write_text("mine")
    comm.barrier()
    cases = {
        "/": "got the root directory /",
        "/proc": "got a mount point (give a folder inside it)",
        "/proc/weylfem-out": "expected a writable place for the results, got /proc",
        "/dev/null/out": "got a path under /dev/null, which is a character device",
        str(folder): "got a directory holding other files (notes.txt)",
    }
    for out, fragment in cases.items():
        for device in (bar_device(), film_device()):
            with pytest.raises(PathError, match=r"^.+: expected ") as info:
                run_device(device, out, comm, quiet=True)
            assert fragment in str(info.value), (out, str(info.value))
    assert listing(folder) == ["notes.txt"]
    assert listing(shared_tmp_path) == ["work"]


@pytest.mark.serial
def test_earlier_output_is_replaced_but_not_a_folder_with_other_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()  # an empty directory is taken
    first = run_device(bar_device(), out, quiet=True)
    second = run_device(bar_device(), out, quiet=True)  # an earlier output is replaced
    assert second["contacts"] == first["contacts"]
    assert listing(out) == [
        "device.json",
        "fields.h5",
        "fields.xdmf",
        "fields_boundaries.xdmf",
        "results.json",
    ]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(PathError, match="holding other files \\(notes.txt\\)"):
        run_device(bar_device(), out, quiet=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert listing(tmp_path) == ["out"]


@pytest.mark.serial
def test_cli_refuses_out_file_with_one_line(tmp_path):
    (tmp_path / "bar.toml").write_text(BAR_TOML)
    for out in ("bar.toml", "/"):
        result = launch("run", "bar.toml", "--out", out, cwd=tmp_path)
        assert result.returncode == 2
        line = one_line(result)
        assert line.startswith(f"error: {out}: expected a new or empty directory"), line
        assert ", got " in line
    assert (tmp_path / "bar.toml").read_text() == BAR_TOML
    assert listing(tmp_path) == ["bar.toml"]


# --- 2. what killed runs leave: cleaned by the next run, never the user's ----------------


def dead_pid() -> int:
    """The process id of a process that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.mark.serial
def test_next_run_cleans_what_killed_runs_left_and_nothing_else(tmp_path):
    dead = dead_pid()
    stale = tmp_path / f".out.partial-{dead}"  # a killed run's staging folder
    stale.mkdir()
    marker = {"host": os.uname().nodename, "pid": dead, "state": "writing"}
    (stale / MARKER).write_text(json.dumps(marker))
    (stale / "fields.h5").write_bytes(b"half")
    legacy = tmp_path / f".out.partial-{dead + 1}"  # an older weylfem's (no marker)
    legacy.mkdir()
    kept = tmp_path / f".out.partial-{dead + 2}"
    kept.mkdir()
    (kept / MARKER).write_text(json.dumps({**marker, "state": "kept"}))
    running = tmp_path / f".out.partial-{os.getppid()}"  # a live process: left alone
    running.mkdir()
    mine = tmp_path / ".out.partial-notes"  # not weylfem's name pattern
    mine.mkdir()
    moved = tmp_path / f".res.txt.old-{dead}"  # a file an older weylfem moved aside
    moved.write_text("mine")
    run_device(bar_device(), tmp_path / "out", quiet=True)
    names = set(listing(tmp_path))
    assert stale.name not in names and legacy.name not in names
    assert {kept.name, running.name, mine.name, moved.name, "out"} <= names


@pytest.mark.serial
def test_earlier_results_moved_aside_by_a_killed_run_are_put_back(tmp_path):
    run_device(bar_device(), tmp_path / "out", quiet=True)
    aside = tmp_path / f".out.old-{dead_pid()}"
    (tmp_path / "out").rename(aside)  # killed between the two renames of publishing
    before = (aside / "results.json").read_text()
    with pytest.raises(ConfigError):  # a refused run still puts them back first
        run_device(film_device(), tmp_path / "out", quiet=True, resume=True)
    assert (tmp_path / "out" / "results.json").read_text() == before
    assert listing(tmp_path) == ["out"]
    aside.mkdir()  # and after a kill between the rename and the removal: removed
    (aside / "results.json").write_text(before)
    (aside / "device.json").write_text("{}")
    (tmp_path / "out" / "extra").mkdir()
    with pytest.raises(PathError):  # out now holds a folder weylfem did not write
        run_device(bar_device(), tmp_path / "out", quiet=True)
    (tmp_path / "out" / "extra").rmdir()
    run_device(bar_device(), tmp_path / "out", quiet=True)
    assert listing(tmp_path) == ["out"]


@pytest.mark.serial
def test_refused_resume_leaves_nothing_that_blocks_a_fresh_run(tmp_path):
    out = tmp_path / "out"
    run_device(film_device(end_time_s=4e-12), out, quiet=True)
    with pytest.raises(ConfigError, match="dynamics.time_step_s: expected the device"):
        run_device(film_device(time_step_s=2e-12), out, quiet=True, resume=True)
    assert listing(tmp_path) == ["out"]  # the copy of the finished run is gone
    run_device(film_device(time_step_s=2e-12), out, quiet=True)  # a fresh run runs

    class Killed(Exception):
        pass

    def kill(step, simulation):
        if step == 4:
            raise Killed

    with pytest.raises(Killed):
        run_device(film_device(), out, quiet=True, on_step=kill)
    with pytest.raises(ConfigError, match="continue it with --resume, or delete it"):
        run_device(film_device(), out, quiet=True)
    assert json.loads((out.with_name("out.running") / MARKER).read_text())["state"] == "kept"


@pytest.mark.serial
def test_a_run_directory_in_use_is_refused(tmp_path):
    running = tmp_path / "out.running"
    running.mkdir()
    owner = {"host": os.uname().nodename, "pid": os.getppid(), "state": "writing"}
    (running / MARKER).write_text(json.dumps(owner))
    with pytest.raises(PathError, match=f"got the run of process {os.getppid()}"):
        run_device(film_device(), tmp_path / "out", quiet=True)
    assert listing(running) == [MARKER]


# --- kill -9 while writing output and during a checkpoint, then fresh run and --resume ----


def hidden(directory: Path) -> list[str]:
    return [name for name in listing(directory) if name.startswith(".")]


@pytest.mark.serial
def test_kill9_while_writing_results_then_a_clean_fresh_run(tmp_path):
    (tmp_path / "bar.toml").write_text(BAR_TOML)
    killed = launch(
        "run", "bar.toml", "--out", "out", "--quiet", cwd=tmp_path, fault="kill-results"
    )
    assert killed.returncode == -signal.SIGKILL
    assert [name.split("-")[0] for name in hidden(tmp_path)] == [".out.partial"]
    assert not (tmp_path / "out").exists()
    fresh = launch("run", "bar.toml", "--out", "out", "--quiet", cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert "removed .out.partial-" in one_line(fresh) and "left by a killed run" in fresh.stderr
    assert listing(tmp_path) == ["bar.toml", "out"]
    assert json.loads((tmp_path / "out" / "results.json").read_text())["device"] == "bar"


def same_run(a: Path, b: Path) -> None:
    """Bit-for-bit the same series, final state and snapshot times (serial runs)."""
    assert (a / "series.csv").read_text() == (b / "series.csv").read_text()
    with np.load(a / "checkpoint.npz") as one, np.load(b / "checkpoint.npz") as two:
        assert int(one["step"]) == int(two["step"]) == 8
        assert np.array_equal(one["m"], two["m"])
    ra, rb = (json.loads((d / "results.json").read_text()) for d in (a, b))
    assert ra["final"] == rb["final"]


@pytest.mark.serial
@pytest.mark.parametrize("fault", ["kill-checkpoint", "kill-results"])
def test_kill9_in_a_dynamics_run_then_resume_equals_uninterrupted(tmp_path, fault):
    (tmp_path / "film.toml").write_text(FILM_TOML)
    run = ("run", "film.toml", "--quiet", "--out")
    killed = launch(*run, "cut", cwd=tmp_path, fault=fault)
    assert killed.returncode == -signal.SIGKILL
    running = tmp_path / "cut.running"
    with np.load(running / "checkpoint.npz") as data:  # the last complete checkpoint
        assert int(data["step"]) == (0 if fault == "kill-checkpoint" else 8)
    fresh = launch(*run, "cut", cwd=tmp_path)  # a fresh run would lose it: refused
    assert fresh.returncode == 2
    assert "continue it with --resume, or delete it" in one_line(fresh)
    resumed = launch(*run, "cut", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    full = launch(*run, "full", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    same_run(tmp_path / "full", tmp_path / "cut")
    assert listing(tmp_path) == ["cut", "film.toml", "full"]
    assert hidden(tmp_path / "cut") == []  # no temporary checkpoint, no marker


# --- 3. signals: one line, what was kept, how to resume; 130 / 143 ----------------------


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, "never appeared"
        time.sleep(0.01)


def start(*args, cwd: Path, mpi: bool = False) -> subprocess.Popen:
    launcher = list(mpi_launcher()) if mpi else []
    return subprocess.Popen(
        [*launcher, str(WEYLFEM), *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=mpi_env(),
    )


LONG_FILM = FILM_TOML.replace("end_time_s = 8e-12", "end_time_s = 1e-6")


@pytest.mark.serial
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_keeps_the_run_and_says_how_to_resume(tmp_path, signum):
    (tmp_path / "long.toml").write_text(LONG_FILM)
    process = start("run", "long.toml", "--out", "out", "--quiet", cwd=tmp_path)
    wait_for(tmp_path / "out.running" / "checkpoint.npz", process)
    time.sleep(0.3)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signum
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    name = signal.Signals(signum).name
    assert lines[0].startswith(f"interrupted ({name}): kept {tmp_path / 'out.running'}")
    assert lines[0].endswith("continue it with: weylfem run long.toml --out out --resume")
    assert listing(tmp_path) == ["long.toml", "out.running"]


@pytest.mark.serial
def test_ctrl_c_of_a_steady_run_keeps_nothing(tmp_path):
    (tmp_path / "bar.toml").write_text(BAR_TOML.replace("mesh_size = 0.5", "mesh_size = 0.01"))
    process = start("run", "bar.toml", "--out", "out", "--quiet", cwd=tmp_path)
    deadline = time.monotonic() + 30
    while not hidden(tmp_path):  # the staging folder: the run has started
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert stderr.strip() == (
        "interrupted (SIGINT): nothing kept (only [dynamics] runs can be resumed); out is unchanged"
    )
    assert listing(tmp_path) == ["bar.toml"]


# --- 4. MPI: a failure on one rank ends every rank within seconds, with one line --------


@pytest.mark.serial
@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("gmsh-rank0", "error: meshing with gmsh failed: Invalid mesh size field"),
        ("oserror-rank1", "error: field.npz: Input/output error"),
        ("diverged-rank1", "error: solver 'llg' did not converge: DIVERGED_ITS after 10000"),
    ],
)
def test_failure_on_one_rank_ends_every_rank(tmp_path, fault, expected):
    (tmp_path / "film.toml").write_text(FILM_TOML)
    started = time.monotonic()
    result = launch(
        "run", "film.toml", "--out", "out", "--quiet", cwd=tmp_path, fault=fault, mpi=True
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert one_line(result).startswith(expected), result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.serial
def test_signal_under_mpirun_one_line_from_rank_0(tmp_path):
    """Open MPI 4's mpirun passes Ctrl-C on to the ranks as SIGTERM and waits: rank 0 prints
    the one line.  Open MPI 5 and 6 (prterun) end the ranks themselves, before they can
    print: there the run must still end promptly, keep its checkpoint in OUT.running for
    --resume, and print no traceback."""
    (tmp_path / "long.toml").write_text(LONG_FILM)
    process = start("run", "long.toml", "--out", "out", "--quiet", cwd=tmp_path, mpi=True)
    series = tmp_path / "out.running" / "series.csv"
    wait_for(series, process)
    deadline = time.monotonic() + 60
    while len(series.read_text().splitlines()) < 6:  # stepping (its forms compiled)
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)  # mpirun passes it on to the ranks as SIGTERM
    _, stderr = process.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert (tmp_path / "out.running" / "checkpoint.npz").is_file()
    lines = weylfem_lines(stderr)
    if "-q" not in mpi_launcher():  # prterun: the ranks are ended before they print
        assert lines == [] or len(lines) == 1, stderr
        return
    assert len(lines) == 1 and lines[0].startswith("interrupted (SIGTERM): kept "), stderr
    assert "--resume" in lines[0]
