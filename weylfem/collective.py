"""Failures that every MPI rank learns of, so that no rank is left waiting in a collective
call for one that has failed: work done on rank 0 alone (meshing with gmsh, file-system
checks) whose error is raised on every rank (`on_rank0`), and, for a failure on some ranks
only, a timed agreement on whether every rank failed (`FailureAgreement`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from mpi4py import MPI

from weylfem.errors import ConfigError, PathError, WeylfemError

T = TypeVar("T")


def on_rank0(comm: MPI.Comm, action: Callable[[], T], failing: str = "") -> T:
    """`action()` run on rank 0; its result on every rank, or the error it raised raised
    on every rank (collective): a ConfigError (PathError) as such, any other Exception as
    a WeylfemError ``FAILING: message`` (`failing` says what failed)."""
    outcome: tuple | None = None
    original: Exception | None = None
    if comm.rank == 0:
        try:
            outcome = ("ok", action())
        except PathError as error:
            outcome, original = ("path", error.path, error.expected), error
        except ConfigError as error:
            outcome, original = ("config", error.source, error.key, error.expected), error
        except Exception as error:
            message = " ".join(str(error).split()) or f"{type(error).__name__}, no message"
            outcome, original = ("other", f"{failing}: {message}" if failing else message), error
    outcome = comm.bcast(outcome, root=0)
    kind, *values = outcome
    if kind == "ok":
        return values[0]
    error_type = {"path": PathError, "config": ConfigError}.get(kind, WeylfemError)
    raise error_type(*values) from original


AGREEMENT_S = 3.0
"""How long a failing rank waits for every other rank to fail too."""


class FailureAgreement:
    """Lets the ranks that failed learn, within `AGREEMENT_S`, whether every rank failed
    (then they may still call collective operations, such as closing files, and end
    normally) or some did not (which may be waiting in a collective call: the job must
    then be ended with MPI Abort).  Create it collectively, before anything can fail."""

    def __init__(self, comm: MPI.Comm):
        self.comm = comm.Dup() if comm.size > 1 else None

    def all_failed(self, seconds: float = AGREEMENT_S) -> bool:
        """Whether every rank called this within `seconds` (True on one rank)."""
        if self.comm is None:
            return True
        request = self.comm.Ibarrier()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if request.Test():
                return True
            time.sleep(0.01)
        return False

    def free(self) -> None:
        """Release the communicator (collective: after success on every rank)."""
        if self.comm is not None:
            self.comm.Free()
            self.comm = None
