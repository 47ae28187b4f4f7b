"""`weylfem ARGS` with one fault injected, for tests/test_run_safety.py:

    python run_with_fault.py FAULT ARGS...

FAULT is one of
- ``kill-results``: SIGKILL while results.json is half written;
- ``kill-checkpoint``: SIGKILL while the checkpoint of step 3 is half written;
- ``gmsh-rank0``: gmsh fails on rank 0 (an Exception, as gmsh raises);
- ``oserror-rank1``: a file error on rank 1 alone, before meshing (rank 0 meshes on);
- ``diverged-rank1``: a solver failure on rank 1 alone, at step 2 (rank 0 steps on);
- ``none``: no fault.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from pathlib import Path

from mpi4py import MPI

import weylfem.geometry.mesh
import weylfem.magnet.checkpoint
import weylfem.magnet.simulation
import weylfem.run
from weylfem.cli import main
from weylfem.errors import ConvergenceError

RANK = MPI.COMM_WORLD.rank


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_results() -> None:
    write_json = weylfem.run.write_json

    def dying(path: Path, data: dict, comm: MPI.Comm) -> None:
        if path.name == "results.json":
            path.write_text('{"weylfem_version": ')  # half of it
            _die()
        write_json(path, data, comm)

    weylfem.run.write_json = dying


def kill_checkpoint() -> None:
    replace = weylfem.magnet.checkpoint.replace_atomically
    calls = []

    def dying(path: Path, write) -> None:
        calls.append(path)
        if len(calls) == 2:  # step 0, then step 3
            with open(path.with_name(f".{path.name}.partial-{os.getpid()}"), "wb") as file:
                file.write(b"PK\x03\x04 half a checkpoint")
                file.flush()
            _die()
        replace(path, write)

    weylfem.magnet.checkpoint.replace_atomically = dying


def gmsh_rank0() -> None:
    def failing(gmsh, *args) -> None:
        raise Exception("Invalid mesh size field")  # what gmsh raises

    if RANK == 0:
        weylfem.geometry.mesh._apply_sizes = failing


def oserror_rank1() -> None:
    mesh_device = weylfem.run.mesh_device

    def failing(device, comm):
        if RANK == 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO), "field.npz")
        return mesh_device(device, comm)

    weylfem.run.mesh_device = failing


def diverged_rank1() -> None:
    step = weylfem.magnet.simulation.MagnetDynamics.step

    def failing(self, step_s: float) -> None:
        if RANK == 1 and self.steps == 2:
            raise ConvergenceError("llg", "DIVERGED_ITS", 10000)
        step(self, step_s)

    weylfem.magnet.simulation.MagnetDynamics.step = failing


FAULTS = {
    "kill-results": kill_results,
    "kill-checkpoint": kill_checkpoint,
    "gmsh-rank0": gmsh_rank0,
    "oserror-rank1": oserror_rank1,
    "diverged-rank1": diverged_rank1,
    "none": lambda: None,
}

if __name__ == "__main__":
    FAULTS[sys.argv[1]]()
    sys.exit(main(sys.argv[2:]))
