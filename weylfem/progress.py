"""Progress of long time-stepping runs (no dependencies).

On a terminal, a one-line bar drawn by rank 0 on stderr, redrawn in place at most every
`interval_s`; otherwise (a batch log, a pipe) one line on stdout, flushed, every tenth
of the steps.  It shows the fraction done, the simulated time, the step and the
estimated wall time remaining.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from mpi4py import MPI

WIDTH = 24
"""Characters of the bar itself."""


def format_duration(seconds: float) -> str:
    """A wall-clock duration as 'h:mm:ss' or 'm:ss'."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_time(seconds: float) -> str:
    """A simulated time with an SI prefix (fs to s)."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"), (1e-12, "ps")):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-15:.3g} fs"


class ProgressBar:
    """Progress of steps `first_step` .. `last_step` towards `end_time_s`."""

    def __init__(
        self,
        first_step: int,
        last_step: int,
        end_time_s: float,
        comm: MPI.Comm,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval_s: float = 0.5,
        log: TextIO | None = None,
    ):
        self.stream = stream or sys.stderr
        self.active = enabled and comm.rank == 0 and self.stream.isatty()
        self.log = log or sys.stdout
        self.logging = enabled and comm.rank == 0 and not self.active and last_step > first_step
        self.logged_tenths = 0
        self.first_step, self.last_step = first_step, last_step
        self.end_time_s = end_time_s
        self.interval_s = interval_s
        self.start = time.perf_counter()
        self.shown = -float("inf")

    def line(self, step: int, time_s: float, elapsed_s: float) -> str:
        """The text of the bar after `step` (at simulated `time_s`), `elapsed_s` into it."""
        total = max(self.last_step - self.first_step, 1)
        done = (step - self.first_step) / total
        filled = int(WIDTH * done)
        bar = "#" * filled + "." * (WIDTH - filled)
        eta = format_duration(elapsed_s / done * (1 - done)) if done > 0 else "?"
        return (
            f"[{bar}] {100 * done:3.0f}%  t = {format_time(time_s)} /"
            f" {format_time(self.end_time_s)}  step {step}/{self.last_step}  ETA {eta}"
        )

    def update(self, step: int, time_s: float) -> None:
        """Redraw after `step` if the last drawing is old enough (and at the last step); in a
        log, a line when another tenth of the steps is done."""
        if self.logging:
            self._log_line(step, time_s)
        if not self.active:
            return
        now = time.perf_counter()
        if now - self.shown < self.interval_s and step < self.last_step:
            return
        self.shown = now
        self.stream.write("\r" + self.line(step, time_s, now - self.start) + "\033[K")
        self.stream.flush()

    def _log_line(self, step: int, time_s: float) -> None:
        total = max(self.last_step - self.first_step, 1)
        tenths = int(10 * (step - self.first_step) / total)
        if tenths <= self.logged_tenths:
            return
        self.logged_tenths = tenths
        text = self.line(step, time_s, time.perf_counter() - self.start)
        self.log.write("progress: " + text.split("] ", 1)[1].strip() + "\n")
        self.log.flush()

    def close(self) -> None:
        """End the line."""
        if self.active:
            self.stream.write("\n")
            self.stream.flush()
