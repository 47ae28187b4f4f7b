"""Ctrl-C and SIGTERM as one exception, `Interrupted`, raised where the program is.

`install` (called by the command line) makes SIGINT and SIGTERM raise `Interrupted`, so
that the run unwinds through its `with` blocks (which remove or keep its files) and the
command line prints one line and exits with 128 + the signal number.  `deferred()` holds a
signal back until a block that must not be cut in half (a rename of the results into
place, a removal) has ended.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals turned into `Interrupted`."""

_deferring = 0
_pending: int | None = None
_installed = False


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
    global _pending
    if _deferring:
        _pending = signum
        return
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
