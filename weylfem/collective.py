"""Failures that every MPI rank learns of: work done on rank 0 alone (meshing with gmsh,
file-system checks) whose error is raised on every rank, so that no rank is left waiting
in a collective call for one that has failed."""

from __future__ import annotations

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
