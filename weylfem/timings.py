"""Wall time per phase of a run, with the numerical work of each phase split out.

The numerical code times its work with named DOLFINx timers (`WORK_TIMERS`: assembly,
preconditioner set-ups, Krylov solves; `weylfem.compat.timer`).  Those timers are
process-wide and cumulative, so `Timings` reads them at the start and end of each phase
it times and moves the difference out of the phase into phases of the work's names:
two runs in one process each report their own time.  Every number is the slowest
rank's, reduced once, in `report`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from mpi4py import MPI

from weylfem import compat

WORK_TIMERS = {
    "assemble": "weylfem: assemble",
    "preconditioner": "weylfem: preconditioner",
    "solve": "weylfem: solve",
}
"""Phase name -> DOLFINx timer name of the work the numerical code times."""


def work_seconds() -> dict[str, float]:
    """This process's total wall time so far in each kind of work (by phase name)."""
    return {phase: compat.timer_seconds(timer) for phase, timer in WORK_TIMERS.items()}


class Timings:
    """Wall time per phase (`phase`) since construction, reported as the slowest rank's
    seconds by `report` (collective), with the total."""

    def __init__(self, comm: MPI.Comm):
        self.comm = comm
        self.start = time.perf_counter()
        self.local: dict[str, float] = defaultdict(float)
        """this rank's seconds per phase, work split out"""

    @contextmanager
    def phase(self, name: str, work_prefix: str = "") -> Iterator[None]:
        """Time the enclosed block as phase `name`; the work done inside it counts in the
        phases `work_prefix` + work name instead (in `name` itself if that is the name)."""
        before = work_seconds()
        start = time.perf_counter()
        try:
            yield
        finally:
            self.local[name] += time.perf_counter() - start
            for work, seconds in work_seconds().items():
                target = work_prefix + work
                self.local[target] += 0.0  # every work phase appears, if only as 0
                if target != name:
                    spent = seconds - before[work]
                    self.local[name] -= spent
                    self.local[target] += spent

    def record(self, name: str, seconds: float) -> None:
        """Add `seconds` measured elsewhere (this rank's) to phase `name`."""
        self.local[name] += seconds

    def report(self) -> dict[str, float]:
        """Seconds per phase and the total since construction, each the slowest rank's
        (collective)."""
        local = {**self.local, "total": time.perf_counter() - self.start}
        names = sorted(set().union(*self.comm.allgather(set(local))))
        return {
            name: max(self.comm.allreduce(local.get(name, 0.0), op=MPI.MAX), 0.0) for name in names
        }
