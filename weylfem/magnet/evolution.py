"""The time-stepping driver of a magnetization-dynamics run (long runs, resumable).

`evolve` takes a MicromagneticProblem either from its initial state, relaxed first if
[dynamics] asks (at a negative time, drives off), or from the checkpoint in the run
directory, and steps it in equal steps to end_time_s.  Into the run directory it writes,
as it goes:

- series.csv: a row at the start and every `series_every` steps (`weylfem.magnet.series`);
- magnetization.xdmf: m and B_eff at the start and every `snapshot_every` steps;
- checkpoint.npz: the state at the start and every `checkpoint_every` steps
  (`weylfem.magnet.checkpoint`), after the series rows are forced to disk and the
  snapshot file is closed and reopened (which flushes it);

and all three after the last step.  A resumed run cuts the series back to the checkpoint
and skips the snapshots the interrupted run had already written (they hold the same m),
so its files are those of an uninterrupted run.  Progress (simulated time, ETA) is shown
on rank 0's terminal.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mpi4py import MPI

from weylfem.device import Device
from weylfem.magnet.checkpoint import (
    capture,
    device_record,
    read_checkpoint,
    restore,
    write_checkpoint,
)
from weylfem.magnet.minimize import minimize
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.relaxation import RelaxationResult, relax
from weylfem.magnet.series import SeriesFile, series_columns
from weylfem.magnet.simulation import Simulation
from weylfem.magnet.tangent_plane import TangentPlaneIntegrator
from weylfem.output.staging import RunDirectory
from weylfem.output.writers import FieldFile, xdmf_times
from weylfem.progress import ProgressBar
from weylfem.solvers import work_since

RELAXATION_TIME_S = -math.inf
"""When a relaxation runs: before t = 0, so that every drive's waveform is 0."""
SERIES = "series.csv"
SNAPSHOTS = "magnetization.xdmf"
CHECKPOINT = RunDirectory.CHECKPOINT

StepObserver = Callable[[int, MicromagneticProblem], None]
"""Called after every step (and its outputs) with the step number and the problem."""


@dataclass
class EvolutionResult:
    """What an evolution did."""

    steps: int
    """steps from t = 0 (a resumed run's included)"""
    final_time_s: float
    resumed_from_step: int | None
    relaxation: RelaxationResult | None
    integrator: TangentPlaneIntegrator
    timings_s: dict[str, float]
    """wall time of relaxation, steps and outputs (the slowest rank's)"""
    work_s: dict[str, float]
    """assembly, preconditioner set-up and Krylov time inside the steps (this rank's)"""


def evolve(
    simulation: Simulation,
    device: Device,
    directory: Path,
    *,
    resume: bool = False,
    quiet: bool = False,
    on_step: StepObserver | None = None,
) -> EvolutionResult:
    """Run device.dynamics on `simulation` (its magnet, and what is coupled to it, whose
    columns and fields join the outputs), writing into `directory` (collective).
    `resume` continues from directory/checkpoint.npz; `quiet` hides the progress bar."""
    dynamics = device.dynamics
    problem, integrator = simulation.magnet, simulation.integrator
    comm = problem.device_mesh.comm
    record = device_record(device)
    wall: dict[str, float] = defaultdict(float)
    relaxation, start, max_change = None, 0, 0.0
    if resume:
        state = read_checkpoint(directory / CHECKPOINT, problem, record)
        restore(problem, integrator, state)
        start, max_change = state.step, state.max_change
        simulation.resume(state.extras)
    else:
        if dynamics.relax_first:
            with _timed(wall, "relax"):
                problem.set_time(RELAXATION_TIME_S)
                simulation.synchronize()  # the drives off (no valley torque, for one)
                relaxation = _relax(problem, device)
        problem.set_time(0.0)
        simulation.synchronize()
    files = _RunFiles(directory, simulation, device, record, start if resume else None)
    work_before = simulation.work_s()
    last, step_s = dynamics.steps(), dynamics.time_step_s
    bar = ProgressBar(start, last, dynamics.end_time_s, comm, enabled=not quiet)
    try:
        if not resume:
            with _timed(wall, "output"):
                files.write(0, 0.0, 0.0, row=True, snapshot=True, checkpoint=True)
        for step in range(start + 1, last + 1):
            with _timed(wall, "steps"):
                max_change = max(max_change, simulation.step(step_s))
            final = step == last
            row = step % dynamics.series_every == 0 or final
            with _timed(wall, "output"):
                files.write(
                    step,
                    step_s,
                    max_change,
                    row=row,
                    snapshot=step % dynamics.snapshot_every == 0 or final,
                    checkpoint=step % dynamics.checkpoint_every == 0 or final,
                )
            if row:
                max_change = 0.0
            bar.update(step, problem.time_s)
            if on_step is not None:
                on_step(step, problem)
    finally:
        bar.close()
        files.close()
    timings = {name: comm.allreduce(value, op=MPI.MAX) for name, value in wall.items()}
    return EvolutionResult(
        work_s=work_since(simulation.work_s(), work_before),
        steps=max(last, start),
        final_time_s=problem.time_s,
        resumed_from_step=start if resume else None,
        relaxation=relaxation,
        integrator=integrator,
        timings_s=timings,
    )


def _relax(problem: MicromagneticProblem, device: Device) -> RelaxationResult:
    dynamics = device.dynamics
    if dynamics.relax_method == "barzilai_borwein":
        return minimize(
            problem, dynamics.relax_torque_tolerance_T, max_iterations=dynamics.relax_max_steps
        )
    return relax(
        problem,
        dynamics.relax_torque_tolerance_T,
        max_steps=dynamics.relax_max_steps,
        damping=dynamics.relax_damping,
        solver=device.solver.kind,
        petsc_options=device.solver.petsc_options,
    )


@contextmanager
def _timed(wall: dict[str, float], phase: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    wall[phase] += time.perf_counter() - start


class _RunFiles:
    """The series, snapshot and checkpoint files of one run directory (collective)."""

    def __init__(
        self,
        directory: Path,
        simulation: Simulation,
        device: Device,
        record: dict,
        resume_step: int | None,
    ):
        self.simulation, self.record = simulation, record
        self.problem = problem = simulation.magnet
        self.checkpoint_path = directory / CHECKPOINT
        self.term_names = [term.name for term in problem.terms]
        columns = series_columns(self.term_names) + simulation.series_columns()
        comm = problem.device_mesh.comm
        self.series = SeriesFile(directory / SERIES, columns, comm, keep_until=resume_step)
        self.snapshot_path = directory / SNAPSHOTS
        self.snapshots = None
        self.written_until = -math.inf
        if device.output.fields_xdmf:
            append = resume_step is not None and self.snapshot_path.is_file()
            if append:
                times = xdmf_times(self.snapshot_path, "m") if comm.rank == 0 else None
                self.written_until = max(comm.bcast(times, root=0), default=-math.inf)
            self.snapshots = FieldFile(self.snapshot_path, problem.device_mesh, append=append)

    def write(
        self,
        step: int,
        step_s: float,
        max_change: float,
        *,
        row: bool,
        snapshot: bool,
        checkpoint: bool,
    ) -> None:
        """The outputs due after `step`; max_change is the largest |dm| since the last row."""
        problem, simulation = self.problem, self.simulation
        if row:
            energies = problem.energies()
            self.series.write(
                step,
                [
                    problem.time_s,
                    step_s,
                    *problem.average_magnetization(),
                    *(energies[name] for name in (*self.term_names, "total")),
                    problem.max_torque_T(),
                    max_change,
                    *simulation.series_values(),
                ],
            )
        if snapshot and self.snapshots is not None and problem.time_s > self.written_until:
            problem.update()
            fields = [problem.m, problem.effective_field, *simulation.snapshot_fields()]
            self.snapshots.write(fields, problem.time_s)
        if checkpoint:
            self.series.sync()
            if self.snapshots is not None:
                self.snapshots.close()
                self.snapshots = FieldFile(self.snapshot_path, problem.device_mesh, append=True)
            kept = 0.0 if row else max_change
            extras = simulation.running_totals()
            state = capture(problem, simulation.integrator, step, step_s, kept, self.record, extras)
            write_checkpoint(self.checkpoint_path, problem, state, problem.device_mesh.comm)
            # a resumed run starts with the terms out of date (its demagnetizing potential
            # a restored initial guess); so does this one, so that both compute the same
            problem.mark_changed()

    def close(self) -> None:
        """Close the series and snapshot files."""
        self.series.close()
        if self.snapshots is not None:
            self.snapshots.close()
