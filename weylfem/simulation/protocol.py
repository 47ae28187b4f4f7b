"""What every simulation gives the run loop: steady transport (no time steps), transient
transport, magnetization dynamics and the coupled charge-valley-magnet run.

A simulation says when it steps and writes (`Schedule`) and into which files
(`OutputFiles`); it brings itself to t = 0 (`start`), advances by a step, gives the row
of series.csv and the fields of a snapshot, draws its pictures and reports what
results.json holds beyond the common header.  A `Resumable` one also writes its state
to a checkpoint and restores it.  The loop (`weylfem.simulation.loop`) knows no more
than this, so a new kind of simulation touches no branch of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from dolfinx import fem

from weylfem.geometry import DeviceMesh
from weylfem.timings import Timings


@dataclass(frozen=True)
class Schedule:
    """When a run steps and writes: `steps` steps of `step_s` to `end_time_s`; a series
    row every `series_every` steps, a snapshot every `snapshot_every`, a checkpoint every
    `checkpoint_every` (None: none), each also at the start and after the last step."""

    step_s: float
    steps: int
    end_time_s: float
    series_every: int = 1
    snapshot_every: int | None = None
    checkpoint_every: int | None = None


@dataclass(frozen=True)
class OutputFiles:
    """File names (in the run directory) of the series, the snapshots and the checkpoint
    (None: not written); `snapshot_key` names the field whose times a resumed run reads
    from the snapshot file."""

    series: str | None = None
    snapshots: str | None = None
    snapshot_key: str = ""
    checkpoint: str | None = None


class Simulation(Protocol):
    """What `weylfem.simulation.loop.run_loop` and `weylfem.run.run_device` need of a
    simulation (all methods collective)."""

    device_mesh: DeviceMesh
    schedule: Schedule
    files: OutputFiles
    model: str
    """the model's name in results.json"""

    @property
    def time_s(self) -> float:
        """The simulated time of the current state."""

    def start(self, timings: Timings) -> None:
        """Bring the state to t = 0 (a relaxation, the consistent start, the steady solve),
        timing what it does in `timings`."""

    def step(self, step_s: float) -> None:
        """Advance the state by `step_s`."""

    def series_columns(self) -> list[str]:
        """The header of series.csv."""

    def series_row(self, step: int) -> list[float]:
        """The row of series.csv after `step` (it may start the next row's interval)."""

    def snapshot_fields(self) -> list[fem.Function]:
        """The (named, P1 or DG0) fields of a snapshot of the current state."""

    def write_pictures(self, directory: Path) -> dict[str, str]:
        """Draw the run's PNG pictures into `directory`; returns them by output key."""

    def describe_mesh(self) -> dict:
        """The `mesh` table of results.json."""

    def describe_solver(self) -> dict:
        """The `solver` table of results.json (`weylfem.solvers.solver_description`)."""

    def report(self) -> dict:
        """What results.json holds beyond the header, mesh, solver, outputs and timings."""


@runtime_checkable
class Resumable(Protocol):
    """A simulation that checkpoints its state and resumes from it."""

    def write_state(self, path: Path, step: int) -> None:
        """Write the state after `step` to the checkpoint `path` (atomically)."""

    def restore(self, path: Path) -> int:
        """Restore the state of the checkpoint `path`; returns its step."""
