"""Writing results: an output directory that appears whole or not at all.

`OutputDirectory` stages everything in a hidden sibling folder and renames it into
place only when every file is written, so a failed run leaves no half-written
directory and never destroys the results of an earlier run.  A long, resumable run
(magnetization dynamics) writes into the visible sibling `TARGET.running` instead
(`RunDirectory`), which stays on disk when the run fails or is killed after its first
checkpoint, so that it can be resumed, and is published the same way when it finishes.
XDMF files are written collectively by all ranks; JSON, CSV and PNG files by rank 0 only.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from mpi4py import MPI

from weylfem.errors import ConfigError


class _StagedDirectory:
    """Context manager: yields `stage`, renames it to `target` on success (rank 0) and, on
    failure, removes it unless `_keep_on_failure` says otherwise."""

    target: Path
    stage: Path
    comm: MPI.Comm

    def _keep_on_failure(self) -> bool:
        return False

    def __enter__(self) -> Path:
        return self.stage

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is None:
            self.comm.barrier()
        if self.comm.rank != 0:
            return
        if error_type is None:
            _publish(self.stage, self.target)
        elif not self._keep_on_failure():
            shutil.rmtree(self.stage, ignore_errors=True)


class OutputDirectory(_StagedDirectory):
    """Context manager: yields a staging path; publishes it as `target` on success."""

    def __init__(self, target: str | Path, comm: MPI.Comm):
        self.target = Path(target).resolve()
        self.comm = comm
        stage = None
        if comm.rank == 0:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            stage = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"
            shutil.rmtree(stage, ignore_errors=True)
            stage.mkdir()
        self.stage = Path(comm.bcast(str(stage) if stage else None, root=0))


def _publish(stage: Path, target: Path) -> None:
    """Rename `stage` to `target`, replacing an earlier `target` (rank 0)."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    if target.exists():
        target.rename(old)
    stage.rename(target)
    shutil.rmtree(old, ignore_errors=True)


class RunDirectory(_StagedDirectory):
    """Context manager for a resumable run: yields `TARGET.running`, where the run writes
    its files as it goes, and publishes it as `target` on success.  On failure it is kept
    if it holds `CHECKPOINT` (the run can be resumed) and removed otherwise.

    A fresh run refuses to start over an interrupted one (it would lose it).  `resume`
    continues the interrupted run in `TARGET.running`, or, if there is none, a finished
    one: `target` is copied to `TARGET.running` (and replaced only when the run ends).
    """

    CHECKPOINT = "checkpoint.npz"

    def __init__(self, target: str | Path, comm: MPI.Comm, resume: bool):
        self.target = Path(target).resolve()
        self.comm = comm
        self.stage = self.target.parent / f"{self.target.name}.running"
        problem = None
        if comm.rank == 0:
            problem = self._prepare(resume)
        problem = comm.bcast(problem, root=0)
        if problem is not None:
            raise ConfigError(*problem)

    def _prepare(self, resume: bool) -> tuple[str, str, str] | None:
        """Create or find the stage (rank 0); returns a ConfigError's arguments on failure."""
        interrupted = (self.stage / self.CHECKPOINT).is_file()
        if resume:
            if interrupted:
                return None
            if (self.target / self.CHECKPOINT).is_file():
                shutil.rmtree(self.stage, ignore_errors=True)
                shutil.copytree(self.target, self.stage)
                return None
            return (
                str(self.target),
                "--resume",
                f"expected a run to resume: {self.stage / self.CHECKPOINT} or"
                f" {self.target / self.CHECKPOINT}; found neither",
            )
        if interrupted:
            return (
                str(self.stage),
                "--resume",
                "expected no interrupted run here; continue it with --resume, or delete it",
            )
        shutil.rmtree(self.stage, ignore_errors=True)
        self.stage.mkdir(parents=True)
        return None

    def _keep_on_failure(self) -> bool:
        return (self.stage / self.CHECKPOINT).is_file()


def replace_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Create or replace the file `path` as a whole: `write(file)` fills a temporary file
    next to it, which is flushed to disk (fsync) and renamed over `path` (os.replace), so
    `path` is always either the old or the complete new file.  One process only."""
    temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself reaches the disk
    finally:
        os.close(directory)


def write_json(path: Path, data: dict, comm: MPI.Comm) -> None:
    """Write `data` as indented JSON from rank 0."""
    if comm.rank == 0:
        path.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n")


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
