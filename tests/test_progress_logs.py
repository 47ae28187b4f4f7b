"""Batch logs: with stdout a file, `weylfem run` writes the set-up summary (device, mesh,
solver, what is solved) before it solves or steps, a progress line every tenth of the
steps, each flushed as written (read here while the run goes on), then the results;
under mpirun only rank 0 writes."""

import signal
import subprocess
import time

import pytest
from conftest import WEYLFEM, mpi_env

pytestmark = pytest.mark.serial

DEVICE = """
name = "transient bar"
[geometry]
kind = "bar"
dimension = 2
length = 4.0
width = 1.0
mesh_size = 0.5
[regions.channel]
material = "Co3Sn2S2"
[contacts.source]
voltage_V = 1e-3
[contacts.drain]
voltage_V = 0.0
[fields]
magnetic_field_T = [1.0, 0.0, 0.0]
[physics]
transport = "charge_valley"
[transient]
end_time_s = {end}
time_step_s = 1e-11
[output]
png = false
fields_xdmf = false
"""


def launch(tmp_path, end: float, launcher=()) -> tuple[subprocess.Popen, object]:
    (tmp_path / "dev.toml").write_text(DEVICE.format(end=end))
    log = open(tmp_path / "log.txt", "w")
    process = subprocess.Popen(
        [*launcher, str(WEYLFEM), "run", "dev.toml", "--out", "out"],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.PIPE,
        text=True,
        env=mpi_env(),
    )
    return process, log


def test_log_lines_are_written_as_the_run_goes(tmp_path):
    """20000 steps: the set-up summary and the first progress line are in the file while
    the process still steps; SIGTERM then ends it (status 143)."""
    process, log = launch(tmp_path, end=2e-7)
    text = ""
    try:
        for _ in range(1200):
            text = (tmp_path / "log.txt").read_text()
            if "progress: 10%" in text or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, process.communicate()[1]
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
        log.close()
    lines = text.splitlines()
    assert lines[0] == "weylfem 0.1.0: transient bar (charge_valley model), 2D: per metre of depth"
    assert lines[1].startswith("mesh: ") and " dofs on 1 rank(s)" in lines[1]
    assert lines[2].startswith("solver: ")
    assert lines[3] == "stepping: 20000 steps of 1.000e-11 s to t = 2.000000e-07 s"
    assert lines[4].startswith("progress: 10%  t = 20 ns / 200 ns  step 2000/20000  ETA ")
    assert process.returncode == 143, stderr
    assert stderr.strip().startswith("interrupted (SIGTERM)")


@pytest.mark.parametrize("ranks", [1, 2])
def test_log_of_a_finished_run(tmp_path, ranks):
    """Set-up lines once, ten progress lines in order, then the results (rank 0 only)."""
    launcher = ("mpirun", "-n", "2") if ranks == 2 else ()
    process, log = launch(tmp_path, end=2e-10, launcher=launcher)
    _, stderr = process.communicate(timeout=600)
    log.close()
    assert process.returncode == 0, stderr
    lines = (tmp_path / "log.txt").read_text().splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == [
        "weylfem 0.1.0",
        "mesh",
        "solver",
        "stepping",
    ]
    assert f"on {ranks} rank(s)" in lines[1]
    progress = [line for line in lines if line.startswith("progress:")]
    assert [line.split()[1] for line in progress] == [f"{10 * k}%" for k in range(1, 11)]
    assert lines[4:14] == progress
    assert sum(line.startswith("mesh:") for line in lines) == 1
    assert lines[14].startswith("solver: ") and "iterations" in lines[14]
    assert "contacts:" in lines and lines[-1].startswith("results written to ")
