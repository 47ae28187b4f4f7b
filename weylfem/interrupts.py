"""Ctrl-C and SIGTERM as one exception, `Interrupted`, raised where the program is.

`install` (called by the command line) makes SIGINT and SIGTERM raise `Interrupted`, so
that the run unwinds through its `with` blocks (which remove or keep its files) and the
command line prints one line and exits with 128 + the signal number.  `deferred()` holds a
signal back until a block that must not be cut in half (a rename of the results into
place, a removal) has ended.

Under MPI (`hold_for_agreement`) a signal is held back until every rank reaches the same
point of the run loop (`agree`, once per step), so that all ranks unwind together instead
of leaving some waiting in a collective call for one that has stopped, which no signal can
wake (Open MPI 4's mpirun ends the ranks 1 s after passing them the signal: rank 0 must
say what it kept by then).  This holds inside a `deferred` block too: its end does not
raise a signal that waits for the agreement.  A signal not agreed on within `HOLD_S` is
raised where the rank is, as in a serial run.
"""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals turned into `Interrupted`."""

HOLD_S = 0.5
"""How long a rank holds a signal back for the ranks to agree on it (`agree`)."""

_deferring = 0
_pending: int | None = None
_installed = False
_holding = False
_held: int | None = None
_release: threading.Timer | None = None


class Interrupted(KeyboardInterrupt):
    """The process received SIGINT (Ctrl-C) or SIGTERM."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        """128 + the signal number, as a shell reports a process the signal ended."""
        return 128 + self.signum


def _handler(signum: int, frame: FrameType | None) -> None:
    global _pending, _held, _release
    if _holding and _held is None:
        # raised at the next `agree` on every rank, or here after HOLD_S; also when the
        # signal comes inside a `deferred` block (rank 0 writing a checkpoint while the
        # others wait for it): raising it at the block's end would leave this rank alone
        _held = signum
        _release = threading.Timer(HOLD_S, _thread.interrupt_main, args=(signum,))
        _release.daemon = True
        _release.start()
        return
    if _deferring:
        _pending = signum
        return
    raise Interrupted(signum)


def hold_for_agreement() -> None:
    """Hold signals back for `agree` (under MPI, after `install`)."""
    global _holding
    _holding = True


def agree(comm) -> None:
    """Raise `Interrupted` on every rank of `comm` if any rank holds a signal (collective;
    call it at the same point of every rank's loop)."""
    global _held, _release
    if not _holding or comm.size == 1:
        return
    from mpi4py import MPI

    signum = comm.allreduce(_held or 0, op=MPI.MAX)
    if signum:
        if _release is not None:
            _release.cancel()
        _held, _release = None, None
        raise Interrupted(signum)


def install() -> None:
    """Make SIGINT and SIGTERM raise `Interrupted` (main thread only; elsewhere a no-op)."""
    global _installed
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        signal.signal(signum, _handler)
    _installed = True


def restore() -> None:
    """Install the handlers again if `install` did: for after a library (gmsh) has put
    its own, or the default, in their place behind Python's back."""
    if _installed:
        install()


def ignore() -> None:
    """Ignore SIGINT and SIGTERM from now on (while a failure is being reported)."""
    if _release is not None:
        _release.cancel()
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block ends, then raise `Interrupted`."""
    global _deferring, _pending
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if _deferring == 0 and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)
