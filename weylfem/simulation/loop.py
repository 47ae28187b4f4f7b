"""The one loop of every run: start (or resume) a simulation, step it to the end of its
schedule and write, into the run directory, as it goes:

- the series (`OutputFiles.series`): a row at the start and every `series_every` steps;
- the snapshots (`OutputFiles.snapshots`): the fields at the start and every
  `snapshot_every` steps;
- the checkpoint (`OutputFiles.checkpoint`, a `Resumable` simulation): the state at the
  start and every `checkpoint_every` steps, after the series rows are forced to disk and
  the snapshot file is closed and reopened (which flushes it);

and all three after the last step.  A resumed run cuts the series back to the
checkpoint and skips the snapshots the interrupted run had already written (they hold
the same state), so its files are those of an uninterrupted run.  Progress (simulated
time, ETA) is shown on rank 0's terminal.  A steady simulation (no steps) gets its
start and one snapshot.  When some ranks fail, the files are closed only if every
rank failed (`weylfem.collective.FailureAgreement`): no rank waits for one that steps on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from weylfem import interrupts
from weylfem.collective import FailureAgreement
from weylfem.depth import Depth
from weylfem.output.series import SeriesFile
from weylfem.output.writers import FieldFile, boundaries_path, xdmf_times
from weylfem.progress import ProgressBar
from weylfem.simulation.protocol import Resumable, Simulation
from weylfem.timings import Timings

StepObserver = Callable[[int, Simulation], None]
"""Called after every step (and its outputs) with the step number and the simulation."""


def run_loop(
    simulation: Simulation,
    directory: Path,
    timings: Timings,
    *,
    resume: bool = False,
    quiet: bool = False,
    on_step: StepObserver | None = None,
    depth: Depth | None = None,
) -> dict[str, str]:
    """Run `simulation` to the end of its schedule, writing into `directory` (collective);
    returns the files written, by output key.  `resume` continues from the checkpoint;
    `quiet` hides the progress bar; `depth` scales the series of a 2D device with a depth
    (`weylfem.depth`).  Phases timed: the start's own, `steps`, `output`."""
    schedule, comm = simulation.schedule, simulation.device_mesh.comm
    first = 0
    if resume:
        if not isinstance(simulation, Resumable) or simulation.files.checkpoint is None:
            raise ValueError(f"a {simulation.model} run cannot be resumed")
        first = simulation.restore(directory / simulation.files.checkpoint)
    else:
        simulation.start(timings)
    files = _RunFiles(directory, simulation, first if resume else None, depth)
    bar = ProgressBar(first, schedule.steps, schedule.end_time_s, comm, enabled=not quiet)
    failures = FailureAgreement(comm)
    try:
        if not resume:
            with timings.phase("output"):
                files.write(0, final=schedule.steps == 0)
        for step in range(first + 1, schedule.steps + 1):
            with timings.phase("steps"):
                simulation.step(schedule.step_s)
            with timings.phase("output"):
                files.write(step, final=step == schedule.steps)
            bar.update(step, simulation.time_s)
            interrupts.agree(comm)
            if on_step is not None:
                on_step(step, simulation)
    except BaseException:
        bar.close()
        # closing the snapshot file is collective: only when no rank is left stepping on
        if failures.all_failed():
            files.close()
        raise
    bar.close()
    files.close()
    failures.free()
    return files.written


def _due(step: int, every: int | None, final: bool) -> bool:
    """Whether an output written every `every` steps (None: never) is due after `step`."""
    return every is not None and (step % every == 0 or final)


class _RunFiles:
    """The series, snapshot and checkpoint files of one run directory (collective)."""

    def __init__(
        self,
        directory: Path,
        simulation: Simulation,
        resume_step: int | None,
        depth: Depth | None = None,
    ):
        self.simulation = simulation
        self.depth = depth
        self.schedule, names = simulation.schedule, simulation.files
        device_mesh = simulation.device_mesh
        comm = device_mesh.comm
        self.written: dict[str, str] = {}
        self.series = None
        if names.series is not None:
            self.columns = simulation.series_columns()
            self.series = SeriesFile(
                directory / names.series,
                self.columns,
                comm,
                keep_until=resume_step,
            )
            self.written["series"] = names.series
        self.snapshots = None
        self.written_until = -math.inf
        if names.snapshots is not None and self.schedule.snapshot_every is not None:
            self.snapshot_path = directory / names.snapshots
            append = resume_step is not None and self.snapshot_path.is_file()
            if append:
                key = names.snapshot_key
                times = xdmf_times(self.snapshot_path, key) if comm.rank == 0 else None
                self.written_until = max(comm.bcast(times, root=0), default=-math.inf)
            self.snapshots = FieldFile(self.snapshot_path, device_mesh, append=append)
            self.written["fields"] = names.snapshots
            self.written["boundaries"] = boundaries_path(self.snapshot_path).name
        self.checkpoint_path = None
        if names.checkpoint is not None and isinstance(simulation, Resumable):
            self.checkpoint_path = directory / names.checkpoint
            self.written["checkpoint"] = names.checkpoint

    def write(self, step: int, final: bool) -> None:
        """The outputs due after `step` (`final`: the last step)."""
        simulation, schedule = self.simulation, self.schedule
        if self.series is not None and _due(step, schedule.series_every, final):
            row = simulation.series_row(step)
            if self.depth is not None:
                row = self.depth.scale_row(self.columns, row)
            self.series.write(row)
        time_s = simulation.time_s
        snapshot = _due(step, schedule.snapshot_every, final)
        if self.snapshots is not None and snapshot and time_s > self.written_until:
            self.snapshots.write(simulation.snapshot_fields(), time_s)
        if self.checkpoint_path is not None and _due(step, schedule.checkpoint_every, final):
            if self.series is not None:
                self.series.sync()
            if self.snapshots is not None:
                self.snapshots.close()
                mesh = simulation.device_mesh
                self.snapshots = FieldFile(self.snapshot_path, mesh, append=True)
            simulation.write_state(self.checkpoint_path, step)

    def close(self) -> None:
        """Close the series and snapshot files."""
        if self.series is not None:
            self.series.close()
        if self.snapshots is not None:
            self.snapshots.close()
