"""Checkpoints of a magnetization-dynamics run: written atomically, read back exactly.

A checkpoint is one NumPy .npz file, written by rank 0: m at every magnetic node (keyed
by the node's index in the mesh as read, with its coordinates), the BDF2 history, the
time, step count and step size, the demagnetizing potential (the initial guess of the
next iterative solve), the number of MPI ranks, the global node count and the device
description (JSON).  It is
written to a temporary file in the same directory, flushed to disk (fsync) and renamed
over the previous one (os.replace), so the checkpoint on disk is always a complete one.

Reading it back restores every bit of the state the next step depends on, so a resumed
run repeats the uninterrupted one: exactly when the mesh is partitioned as before (which
a new process does), to round-off otherwise.  It needs the same number of ranks and the
same mesh (checked on the node coordinates); `read_checkpoint` refuses anything else, and
a changed device, with a ConfigError naming the checkpoint.
"""

from __future__ import annotations

import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat, interrupts
from weylfem.device import Device
from weylfem.errors import ConfigError
from weylfem.field_files import read_npz
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.tangent_plane import TangentPlaneIntegrator
from weylfem.output.staging import replace_atomically

FORMAT = 1
"""Version of the checkpoint layout."""
COORDINATE_TOLERANCE = 1e-9
"""Largest node displacement, relative to the mesh extent, of an unchanged mesh."""
MAY_CHANGE_ON_RESUME = ("dynamics.end_time_s", "dynamics.checkpoint_every", "output.")
"""Device keys (or key prefixes) a resumed run may change."""


@dataclass
class Checkpoint:
    """A run's state at the end of a step (m and history at this rank's magnetic nodes)."""

    step: int
    time_s: float
    step_s: float
    max_change: float
    """largest nodal |dm| since the last series row"""
    m: np.ndarray
    history: tuple[np.ndarray, float] | None
    potentials: dict[str, np.ndarray]
    """owned values of each term's scalar potential, by term name"""
    device: dict
    extras: dict[str, object] = dataclasses.field(default_factory=dict)
    """global (not per-node) numbers and arrays of a coupled run, by name"""


def write_checkpoint(
    path: Path, problem: MicromagneticProblem, state: Checkpoint, comm: MPI.Comm
) -> None:
    """Gather `state` (this rank's part) and write it atomically to `path` (collective)."""
    nodes = problem.magnetic_nodes
    local = {"coordinates": problem.space.tabulate_dof_coordinates()[nodes], "m": state.m}
    if state.history is not None:
        local["previous"] = state.history[0]
    pieces = {"": (compat.input_node_indices(problem.space)[nodes], local)}
    for name, field in _states(problem):
        pieces[f"potential_{name}"] = (_owned_keys(field), {"values": state.potentials[name]})
    gathered = comm.gather(pieces, root=0)
    arrays = None
    if comm.rank == 0:
        arrays = {}
        for prefix in pieces:
            index, values = _by_key([rank_pieces[prefix] for rank_pieces in gathered])
            if prefix:
                arrays[f"{prefix}_index"], arrays[prefix] = index, values["values"]
            else:
                arrays.update(index=index, **values)
        arrays.update(
            format=FORMAT,
            ranks=comm.size,
            global_nodes=problem.space.dofmap.index_map.size_global,
            step=state.step,
            time_s=state.time_s,
            step_s=state.step_s,
            max_change=state.max_change,
            previous_step_s=np.nan if state.history is None else state.history[1],
            device=json.dumps(state.device),
            **{f"extra_{name}": value for name, value in state.extras.items()},
        )
    write_archive(path, arrays, comm)


def write_archive(path: Path, arrays: dict | None, comm: MPI.Comm) -> None:
    """Write rank 0's `arrays` (None elsewhere) atomically as the npz file `path`; a
    failure is raised on every rank as an OSError (collective).  The archive is built in
    memory with signals held back (a signal inside np.savez leaves its ZipFile half
    closed, which complains when collected); the file is then written in one call that a
    signal cannot cut in half."""
    failure = None
    if comm.rank == 0:
        archive = io.BytesIO()
        with interrupts.deferred():
            np.savez(archive, **arrays)
        try:
            replace_atomically(path, lambda file: file.write(archive.getbuffer()))
        except OSError as error:
            failure = str(error)
    failure = comm.bcast(failure, root=0)
    if failure is not None:
        raise OSError(f"writing the checkpoint {path} failed: {failure}")


def read_checkpoint(
    path: Path, problem: MicromagneticProblem, device: dict | None = None
) -> Checkpoint:
    """This rank's part of the checkpoint at `path` (collective).  Refuses, with a
    ConfigError, another number of ranks, another mesh and, when `device` is given, a
    device that differs from the checkpoint's in more than MAY_CHANGE_ON_RESUME."""
    comm = problem.device_mesh.comm
    source = str(path)
    arrays = check_checkpoint_file(source, source, "(file)")
    if int(arrays["ranks"]) != comm.size:
        raise ConfigError(
            source,
            "ranks",
            f"expected {int(arrays['ranks'])} MPI rank(s), as in the run that wrote it;"
            f" got {comm.size} (restart on the same number of ranks)",
        )
    expected = (int(arrays["global_nodes"]), len(arrays["index"]))
    actual = (problem.space.dofmap.index_map.size_global, problem.magnetic_node_count)
    if expected != actual:
        raise ConfigError(
            source,
            "mesh",
            f"expected the mesh of the run that wrote it ({expected[0]} nodes, {expected[1]}"
            f" magnetic); this one has {actual[0]} nodes, {actual[1]} magnetic",
        )
    nodes = problem.magnetic_nodes
    rows = matched_rows(arrays, problem.space, nodes, source)
    saved_device = json.loads(str(arrays["device"]))
    if device is not None:
        _check_device(source, saved_device, device)
    history = None
    if "previous" in arrays:
        history = (arrays["previous"][rows], float(arrays["previous_step_s"]))
    potentials = {}
    for name, field in _states(problem):
        key = f"potential_{name}"
        at = _rows(arrays[f"{key}_index"], _owned_keys(field)) if key in arrays else None
        if comm.allreduce(at is None, op=MPI.LOR):
            continue  # another mesh or device's state file: no initial guess from it
        potentials[name] = arrays[key][at]
    return Checkpoint(
        step=int(arrays["step"]),
        time_s=float(arrays["time_s"]),
        step_s=float(arrays["step_s"]),
        max_change=float(arrays["max_change"]),
        m=arrays["m"][rows],
        history=history,
        potentials=potentials,
        device=saved_device,
        extras={key[6:]: arrays[key] for key in arrays if key.startswith("extra_")},
    )


_LAYOUT = {
    "format": 0,
    "ranks": 0,
    "global_nodes": 0,
    "step": 0,
    "time_s": 0,
    "step_s": 0,
    "index": 1,
    "m": 2,
    "coordinates": 2,
    "device": 0,
}
"""Arrays every checkpoint has, with their number of dimensions."""


def check_checkpoint_file(path: str, source: str, key: str) -> dict[str, np.ndarray]:
    """The arrays of the checkpoint `path`, checked without a mesh: a weylfem checkpoint
    of this FORMAT with m and coordinates of shape (n, 3), one index per node, finite
    numbers and nonzero m.  ConfigError at `source`: `key` (naming `path`) otherwise."""

    def fail(expected: str) -> ConfigError:
        return ConfigError(source, key, expected + ("" if path == source else f" in {path}"))

    arrays = read_npz(path, source, key, f"the checkpoint.npz of an earlier run: {path}")
    missing = [name for name in _LAYOUT if name not in arrays]
    if missing:
        raise fail(f"expected a weylfem checkpoint; missing arrays {', '.join(missing)}")
    for name, ndim in _LAYOUT.items():
        kind = "U" if name == "device" else "iuf"
        if arrays[name].ndim != ndim or arrays[name].dtype.kind not in kind:
            raise fail(f"expected a weylfem checkpoint; {name!r} has the wrong type or shape")
    if int(arrays["format"]) != FORMAT:
        raise fail(f"expected a weylfem checkpoint of format {FORMAT}, got {int(arrays['format'])}")
    nodes = len(arrays["index"])
    for name in ("m", "coordinates"):
        if arrays[name].shape != (nodes, 3):
            raise fail(f"expected {name!r} of shape ({nodes}, 3), got {arrays[name].shape}")
        if not np.all(np.isfinite(arrays[name])):
            raise fail(f"expected finite {name!r}")
    if np.any(np.linalg.norm(arrays["m"], axis=1) == 0):
        raise fail("expected a nonzero magnetization 'm' at every node")
    if int(arrays["ranks"]) < 1 or nodes > int(arrays["global_nodes"]):
        raise fail("expected a weylfem checkpoint; its node and rank counts disagree")
    try:
        json.loads(str(arrays["device"]))
    except ValueError:
        raise fail("expected a weylfem checkpoint; its 'device' is not JSON") from None
    return arrays


def _by_key(pieces: list[tuple[np.ndarray, dict]]) -> tuple[np.ndarray, dict]:
    """Concatenate the ranks' (keys, {name: values}) and sort them by key."""
    keys = np.concatenate([k for k, _ in pieces])
    order = np.argsort(keys)
    names = pieces[0][1].keys()
    return keys[order], {n: np.concatenate([part[n] for _, part in pieces])[order] for n in names}


def _rows(index: np.ndarray, keys: np.ndarray) -> np.ndarray | None:
    """Positions of `keys` in the sorted `index` (None if some are missing)."""
    if len(index) == 0:
        return None if len(keys) else np.zeros(0, dtype=np.int64)
    rows = np.minimum(np.searchsorted(index, keys), len(index) - 1)
    return None if np.any(index[rows] != keys) else rows


def capture(
    problem: MicromagneticProblem,
    integrator: TangentPlaneIntegrator,
    step: int,
    step_s: float,
    max_change: float,
    device: dict,
    extras: dict[str, object] | None = None,
) -> Checkpoint:
    """This rank's part of the state after `step` (`extras`: global data to keep)."""
    return Checkpoint(
        step=step,
        time_s=problem.time_s,
        step_s=step_s,
        max_change=max_change,
        m=problem.owned_magnetization(),
        history=integrator.history,
        potentials=potentials_of(problem),
        device=device,
        extras=dict(extras or {}),
    )


def restore(
    problem: MicromagneticProblem, integrator: TangentPlaneIntegrator, state: Checkpoint
) -> None:
    """Put `problem` and `integrator` back into `state` (m bit for bit, not renormalised)."""
    values = problem.m.x.array.reshape(-1, 3)
    values[problem.magnetic_nodes] = state.m
    problem.m.x.scatter_forward()
    problem.mark_changed()
    restore_potentials(problem, state.potentials)
    integrator.set_history(state.history)
    problem.set_time(state.time_s)


def device_record(device: Device) -> dict:
    """The device as JSON data (what device.json holds and a checkpoint compares)."""
    return json.loads(json.dumps(dataclasses.asdict(device)))


def potentials_of(problem: MicromagneticProblem) -> dict[str, np.ndarray]:
    """Owned values of the state field of every term that has one, by term name."""
    return {name: field.x.array[: _owned_count(field)].copy() for name, field in _states(problem)}


def restore_potentials(problem: MicromagneticProblem, potentials: dict[str, np.ndarray]) -> None:
    """Set the terms' state fields to values from `potentials_of` (collective)."""
    for name, field in _states(problem):
        if name in potentials:
            field.x.array[: _owned_count(field)] = potentials[name]
            field.x.scatter_forward()


def _states(problem: MicromagneticProblem) -> list[tuple[str, fem.Function]]:
    """(term name, state field) of the terms that carry state (`EnergyTerm.state`)."""
    return [(term.name, field) for term in problem.terms if (field := term.state()) is not None]


def _owned_count(field: fem.Function) -> int:
    return field.function_space.dofmap.index_map.size_local


def _owned_keys(field: fem.Function) -> np.ndarray:
    """Input indices of the owned nodes of a P1 state field."""
    return compat.input_node_indices(field.function_space)[: _owned_count(field)]


def _check_device(source: str, saved: dict, device: dict) -> None:
    """The device must be the checkpoint's, up to the keys in MAY_CHANGE_ON_RESUME."""
    before, after = _flatten(saved), _flatten(device)
    changed = [
        key
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
        and not any(key.startswith(prefix) for prefix in MAY_CHANGE_ON_RESUME)
    ]
    if changed:
        key = changed[0]
        raise ConfigError(
            source,
            key,
            f"expected the device of the run that wrote it ({before.get(key)!r}, now"
            f" {after.get(key)!r}); changed: {', '.join(changed)}",
        )


def _flatten(table: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def matched_rows(arrays, space, nodes: np.ndarray, source: str) -> np.ndarray:
    """The checkpoint rows of this rank's magnetic `nodes` (owned P1 nodes of `space`),
    matched by input node index; a ConfigError on every rank if a node is missing or
    has moved by more than COORDINATE_TOLERANCE of the mesh size (collective)."""
    comm = space.mesh.comm
    rows = _rows(arrays["index"], compat.input_node_indices(space)[nodes])
    coordinates = space.tabulate_dof_coordinates()[nodes]
    low = np.min(comm.allgather(coordinates.min(axis=0, initial=np.inf)), axis=0)
    high = np.max(comm.allgather(coordinates.max(axis=0, initial=-np.inf)), axis=0)
    tolerance = COORDINATE_TOLERANCE * float(np.max(high - low))
    moved = rows is None or np.any(np.abs(arrays["coordinates"][rows] - coordinates) > tolerance)
    if comm.allreduce(bool(moved), op=MPI.LOR):
        raise ConfigError(
            source, "mesh", "expected the mesh of the run that wrote it; its nodes differ"
        )
    return rows
