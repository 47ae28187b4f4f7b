"""Writing results: an output directory that appears whole or not at all.

`OutputDirectory` stages everything in a hidden sibling folder `.OUT.partial-PID` and
renames it into place only when every file is written, so a failed run leaves no
half-written directory and never destroys the results of an earlier run.  A long,
resumable run (magnetization dynamics) writes into the visible sibling `OUT.running`
instead (`RunDirectory`), which stays on disk when the run fails or is killed after its
first checkpoint, so that it can be resumed, and is published the same way when it
finishes.  XDMF files are written collectively by all ranks; JSON, CSV and PNG files by
rank 0 only.

The destination is checked before anything is meshed (`check_destination`): OUT must be
a new path, an empty directory or the output of an earlier weylfem run (which the new
one replaces); a file, a device, a mount point, the root or a directory holding other
files is refused with a `PathError`, and nothing is moved, replaced or deleted.  The
staging folder is created at once, which proves the location writable.  Each staging
folder holds a marker `MARKER` (host, process, state) while it is written; the next run
into the same OUT removes the folders of processes that no longer run (a killed run),
and puts back earlier results a killed run had moved aside while replacing them.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import socket
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from mpi4py import MPI

from weylfem import interrupts
from weylfem.collective import on_rank0
from weylfem.errors import ConfigError, PathError, WeylfemError

MARKER = ".weylfem-stage"
"""JSON file {host, pid, state} in a staging folder while weylfem writes into it."""
RUN_FILES = frozenset(
    {
        "series.csv",
        "magnetization.xdmf",
        "magnetization.h5",
        "magnetization_boundaries.xdmf",
        "device.json",
        "checkpoint.npz",
    }
)
"""What a dynamics run writes into OUT.running before its first checkpoint."""
MESH_FILES = frozenset({"mesh.json", "mesh.xdmf", "mesh.h5", "mesh_boundaries.xdmf", "mesh.png"})
"""What `weylfem mesh` writes."""
EXPECTED_OUT = "expected a new or empty directory, or an earlier weylfem output (replaced)"


class _StagedDirectory:
    """Context manager: yields `stage`, renames it to `target` on success (rank 0) and, on
    failure, removes it (or keeps it: `_discard`)."""

    target: Path
    stage: Path
    comm: MPI.Comm

    def _discard(self) -> None:
        """After a failure (rank 0): remove the stage."""
        shutil.rmtree(self.stage, ignore_errors=True)

    def __enter__(self) -> Path:
        return self.stage

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is not None:
            if self.comm.rank == 0:
                with interrupts.deferred():
                    self._discard()
            return
        self.comm.barrier()
        failure = None
        if self.comm.rank == 0:
            with interrupts.deferred():
                failure = _publish(self.stage, self.target)
        failure = self.comm.bcast(failure, root=0)
        if failure is not None:
            raise WeylfemError(failure)


class OutputDirectory(_StagedDirectory):
    """Context manager: yields a staging path; publishes it as `target` on success.  The
    destination is checked (and stale staging folders cleaned) on entry, collectively."""

    def __init__(self, target: str | Path, comm: MPI.Comm):
        self.target = _absolute(target)
        self.comm = comm

        def prepare() -> str:
            check_destination(self.target, str(target))
            clean_stale(self.target)
            stage = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"
            shutil.rmtree(stage, ignore_errors=True)
            _make_stage(stage, str(target))
            return str(stage)

        self.stage = Path(on_rank0(comm, prepare))


def _absolute(path: str | Path) -> Path:
    """`path` made absolute with its symbolic links resolved (the folder it names)."""
    return Path(os.path.abspath(path)).resolve()


def check_destination(target: Path, given: str) -> None:
    """Refuse (PathError naming `given`) a `target` that a run's results cannot replace:
    a file or device, the root, a mount point, a directory holding files weylfem did not
    write, or a path under something that is not a directory."""
    if target == target.parent:
        raise PathError(given, f"{EXPECTED_OUT}, got the root directory {target}")
    if target.exists():
        if not target.is_dir():
            raise PathError(given, f"{EXPECTED_OUT}, got {_kind(target)}")
        if os.path.ismount(target):
            raise PathError(given, f"{EXPECTED_OUT}, got a mount point (give a folder inside it)")
        others = foreign_entries(target)
        if others:
            shown = ", ".join(sorted(others)[:3]) + (", ..." if len(others) > 3 else "")
            raise PathError(given, f"{EXPECTED_OUT}, got a directory holding other files ({shown})")
        return
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise PathError(
            given, f"{EXPECTED_OUT}, got a path under {ancestor}, which is {_kind(ancestor)}"
        )


def _kind(path: Path) -> str:
    """What `path` is, as words ("a regular file", "a character device", ...)."""
    mode = path.stat().st_mode
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "not a directory"


def foreign_entries(directory: Path) -> list[str]:
    """Entries of `directory` that weylfem's earlier output in it does not account for:
    none for an empty directory or the complete output of `weylfem run` (the files its
    results.json lists) or `weylfem mesh`; otherwise the names of the other entries."""
    entries = {entry.name: entry for entry in directory.iterdir()}
    own: set[str] = set()
    results = _read_json(directory / "results.json")
    if isinstance(results, dict) and isinstance(results.get("outputs"), dict):
        own = {name for name in results["outputs"].values() if isinstance(name, str)}
        own |= {name[: -len(".xdmf")] + ".h5" for name in own if name.endswith(".xdmf")}
        own.add("results.json")
    elif isinstance(_read_json(directory / "mesh.json"), dict):
        own = set(MESH_FILES)
    return [
        name
        for name, entry in entries.items()
        if name not in own or entry.is_symlink() or not entry.is_file()
    ]


def _read_json(path: Path) -> object:
    """The content of the JSON file `path`, or None."""
    try:
        with open(path, "rb") as file:
            return json.loads(file.read(1 << 20).decode())
    except (OSError, ValueError):
        return None


def _make_stage(stage: Path, given: str) -> None:
    """Create the staging folder `stage` (and the folders above it) with its marker: the
    proof that the destination is writable."""
    try:
        stage.parent.mkdir(parents=True, exist_ok=True)
        stage.mkdir()
        _write_marker(stage, "writing")
    except OSError as error:
        shutil.rmtree(stage, ignore_errors=True)
        where = error.filename or stage.parent
        raise PathError(
            given, f"expected a writable place for the results, got {where}: {error.strerror}"
        ) from None


def _write_marker(stage: Path, state: str) -> None:
    record = {"host": socket.gethostname(), "pid": os.getpid(), "state": state}
    (stage / MARKER).write_text(json.dumps(record) + "\n")


def _active(stage: Path) -> dict | None:
    """The marker of `stage` if another process on this host still writes into it."""
    marker = _read_json(stage / MARKER)
    if not isinstance(marker, dict) or marker.get("state") != "writing":
        return None
    if marker.get("host") != socket.gethostname() or not isinstance(marker.get("pid"), int):
        return marker  # another machine's run (shared file system): leave it alone
    return marker if _alive(marker["pid"]) else None


def _alive(pid: int) -> bool:
    """Whether process `pid` (not this one) runs on this machine."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: Path) -> list[str]:
    """Remove what killed runs left next to `target` (rank 0): staging folders
    `.NAME.partial-PID` of processes that no longer run, and an earlier output
    `.NAME.old-PID` that a killed run had moved aside (put back as `target` if that is
    missing, removed otherwise).  Prints and returns one note per folder."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(partial|old)-([0-9]+)")
    notes = []
    try:
        entries = [entry for entry in target.parent.iterdir() if pattern.fullmatch(entry.name)]
    except OSError:
        return notes
    for entry in sorted(entries):
        kind, pid = pattern.fullmatch(entry.name).groups()
        if entry.is_symlink() or not entry.is_dir() or _alive(int(pid)):
            continue
        if kind == "partial":
            marker = _read_json(entry / MARKER)
            if isinstance(marker, dict) and (
                marker.get("state") != "writing" or marker.get("host") != socket.gethostname()
            ):
                continue  # results kept on purpose, or another machine's run
            shutil.rmtree(entry, ignore_errors=True)
            notes.append(f"removed {entry.name}, left by a killed run")
        elif foreign_entries(entry):
            continue  # not a weylfem output: not ours to touch
        elif target.exists():
            shutil.rmtree(entry, ignore_errors=True)
            notes.append(f"removed {entry.name}, the results a killed run had replaced")
        else:
            entry.rename(target)
            notes.append(f"put back {target.name} from {entry.name}, where a killed run left it")
    for note in notes:
        print(f"note: {target.parent}: {note}", file=sys.stderr, flush=True)
    return notes


def _publish(stage: Path, target: Path) -> str | None:
    """Rename `stage` to `target`, replacing an earlier output `target` (rank 0); None, or
    why it could not (the stage is then kept, and the message names it)."""
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    try:
        check_destination(target, str(target))
        (stage / MARKER).unlink(missing_ok=True)
        if target.exists():
            target.rename(old)
        try:
            stage.rename(target)
        except OSError:
            if old.exists():
                old.rename(target)
            raise
    except (OSError, PathError) as error:
        if stage.is_dir():
            _write_marker(stage, "kept")
        return f"{error}; the results are kept in {stage}"
    shutil.rmtree(old, ignore_errors=True)
    return None


class RunDirectory(_StagedDirectory):
    """Context manager for a resumable run: yields `TARGET.running`, where the run writes
    its files as it goes, and publishes it as `target` on success.  On failure it is kept
    if it holds a new `CHECKPOINT` (the run can be resumed) and removed otherwise.

    A fresh run refuses to start over an interrupted one (it would lose it), and any run
    refuses a `TARGET.running` that another live process writes into.  `resume`
    continues the interrupted run in `TARGET.running`, or, if there is none, a finished
    one: `target` is copied to `TARGET.running` (and replaced only when the run ends; a
    copy that gained no checkpoint is removed again, so a refused resume leaves nothing).
    """

    CHECKPOINT = "checkpoint.npz"

    def __init__(self, target: str | Path, comm: MPI.Comm, resume: bool):
        self.target = _absolute(target)
        self.comm = comm
        self.stage = self.target.parent / f"{self.target.name}.running"
        self.copied = False
        self.copied = on_rank0(comm, lambda: self._prepare(str(target), resume))

    def _prepare(self, given: str, resume: bool) -> bool:
        """Check the destination, then create or take over the stage (rank 0); returns
        whether the stage is a copy of the finished run `target`."""
        check_destination(self.target, given)
        clean_stale(self.target)
        stage, checkpoint = self.stage, self.stage / self.CHECKPOINT
        if stage.is_symlink() or (stage.exists() and not stage.is_dir()):
            raise PathError(
                str(stage),
                f"expected weylfem's folder of a running dynamics run, got {_kind(stage)}",
            )
        if stage.is_dir():
            owner = _active(stage)
            if owner is not None:
                raise PathError(
                    str(stage),
                    "expected no other run writing here, got the run of process"
                    f" {owner.get('pid')} on {owner.get('host')}",
                )
            if checkpoint.is_file() and self._is_copy():
                shutil.rmtree(stage)  # a resume of a finished run killed before it stepped
                print(
                    f"note: removed {stage}, an unused copy of {self.target.name}",
                    file=sys.stderr,
                    flush=True,
                )
        interrupted = checkpoint.is_file()
        if resume:
            if interrupted:
                _clean_partial_files(stage)
                _write_marker(stage, "writing")
                return False
            if (self.target / self.CHECKPOINT).is_file():
                self._copy_target(given)
                return True
            raise ConfigError(
                given,
                "--resume",
                f"expected a run to resume: {checkpoint} or {self.target / self.CHECKPOINT};"
                " found neither",
            )
        if interrupted:
            raise ConfigError(
                str(stage),
                "--resume",
                "expected no interrupted run here; continue it with --resume, or delete it"
                " to start afresh",
            )
        if stage.is_dir():
            if _read_json(stage / MARKER) is None and not _only_run_files(stage):
                raise PathError(
                    str(stage),
                    "expected weylfem's folder of a running dynamics run, got a directory"
                    " holding other files",
                )
            shutil.rmtree(stage)  # a run killed before its first checkpoint
        _make_stage(stage, given)
        return False

    def _copy_target(self, given: str) -> None:
        """Copy the finished run `target` to the stage, through a hidden folder."""
        copy = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"
        shutil.rmtree(copy, ignore_errors=True)
        try:
            shutil.copytree(self.target, copy)
            _write_marker(copy, "writing")
            copy.rename(self.stage)
        except OSError as error:
            shutil.rmtree(copy, ignore_errors=True)
            raise PathError(
                given, f"expected a writable place to continue the run, got {error}"
            ) from None

    def _is_copy(self) -> bool:
        """Whether the stage's checkpoint is the finished run's (nothing new in it)."""
        ours, theirs = self.stage / self.CHECKPOINT, self.target / self.CHECKPOINT
        return theirs.is_file() and filecmp.cmp(ours, theirs, shallow=False)

    def _discard(self) -> None:
        """Keep a stage that can be resumed and holds something new; remove it otherwise."""
        if (self.stage / self.CHECKPOINT).is_file() and not (self.copied and self._is_copy()):
            _write_marker(self.stage, "kept")
        else:
            shutil.rmtree(self.stage, ignore_errors=True)


def _only_run_files(stage: Path) -> bool:
    """Whether `stage` holds nothing but files a dynamics run writes (an older weylfem's
    run killed before its first checkpoint)."""
    return all(
        entry.is_file() and (entry.name in RUN_FILES or _PARTIAL_FILE.fullmatch(entry.name))
        for entry in stage.iterdir()
    )


_PARTIAL_FILE = re.compile(r"\..+\.partial-[0-9]+")
"""A temporary file of `replace_atomically`."""


def _clean_partial_files(stage: Path) -> None:
    """Remove the temporary files a killed run left in its stage (which is ours now)."""
    for entry in stage.iterdir():
        if _PARTIAL_FILE.fullmatch(entry.name) and entry.is_file():
            entry.unlink()


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
