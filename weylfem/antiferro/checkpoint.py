"""Checkpoints of a sublattice run: the ferromagnet's checkpoint file
(`weylfem.magnet.checkpoint`: one .npz written atomically by rank 0, refused for another
rank count, mesh or device) with every sublattice's directions.

Beyond the common layout (m is m_1, so that the file checks as any checkpoint) it holds
`sublattices` (nodes, 3k): every m_k at every magnetic node; `previous` (nodes, 3k): the
directions before the last step (a coupled run's dl/dt, which the transport at the
restored time reads); the next internal step of the adaptive Runge-Kutta stepper and its
step counts.  With them a resumed run takes the same internal steps as the uninterrupted
one and repeats it bit for bit (in serial; to round-off when the mesh is partitioned
differently).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from weylfem import compat
from weylfem.antiferro.problem import SublatticeProblem
from weylfem.errors import ConfigError
from weylfem.magnet.checkpoint import (
    FORMAT,
    _by_key,
    _check_device,
    check_checkpoint_file,
    matched_rows,
    write_archive,
)


@dataclass
class SublatticeCheckpoint:
    """A sublattice run's state after a step (this rank's magnetic nodes)."""

    step: int
    time_s: float
    step_s: float
    max_change: float
    directions: np.ndarray
    """(nodes, k, 3)"""
    previous: np.ndarray | None
    """(nodes, k, 3) before the last step, or None"""
    internal_step_s: float | None
    accepted: int
    rejected: int
    device: dict
    extras: dict[str, object] = field(default_factory=dict)
    """global numbers and arrays of a coupled run, by name"""


def write_sublattice_checkpoint(
    path: Path, problem: SublatticeProblem, state: SublatticeCheckpoint
) -> None:
    """Gather `state` and write it atomically to `path` (collective)."""
    comm = problem.device_mesh.comm
    nodes = problem.magnetic_nodes
    count = problem.count
    local = {
        "coordinates": problem.space.tabulate_dof_coordinates()[nodes],
        "m": state.directions[:, 0],
        "sublattices": state.directions.reshape(len(nodes), 3 * count),
    }
    if state.previous is not None:
        local["previous"] = state.previous.reshape(len(nodes), 3 * count)
    gathered = comm.gather((compat.input_node_indices(problem.space)[nodes], local), root=0)
    arrays = None
    if comm.rank == 0:
        index, arrays = _by_key(gathered)
        arrays.update(
            index=index,
            format=FORMAT,
            ranks=comm.size,
            global_nodes=problem.space.dofmap.index_map.size_global,
            sublattice_count=count,
            step=state.step,
            time_s=state.time_s,
            step_s=state.step_s,
            max_change=state.max_change,
            internal_step_s=np.nan if state.internal_step_s is None else state.internal_step_s,
            accepted=state.accepted,
            rejected=state.rejected,
            device=json.dumps(state.device),
            **{f"extra_{name}": value for name, value in state.extras.items()},
        )
    write_archive(path, arrays, comm)


def read_sublattice_checkpoint(
    path: Path, problem: SublatticeProblem, device: dict
) -> SublatticeCheckpoint:
    """This rank's part of the checkpoint at `path` (collective); a ConfigError for another
    number of ranks, mesh, sublattice count or device (beyond what a resume may change)."""
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
    if "sublattices" not in arrays or int(arrays["sublattice_count"]) != problem.count:
        raise ConfigError(
            source, "sublattices", f"expected the checkpoint of a {problem.count}-sublattice run"
        )
    nodes = problem.magnetic_nodes
    rows = matched_rows(arrays, problem.space, nodes, source)
    saved = json.loads(str(arrays["device"]))
    _check_device(source, saved, device)
    shape = (len(nodes), problem.count, 3)
    internal = float(arrays["internal_step_s"])
    return SublatticeCheckpoint(
        step=int(arrays["step"]),
        time_s=float(arrays["time_s"]),
        step_s=float(arrays["step_s"]),
        max_change=float(arrays["max_change"]),
        directions=arrays["sublattices"][rows].reshape(shape),
        previous=arrays["previous"][rows].reshape(shape) if "previous" in arrays else None,
        internal_step_s=None if np.isnan(internal) else internal,
        accepted=int(arrays["accepted"]),
        rejected=int(arrays["rejected"]),
        device=saved,
        extras={key[6:]: arrays[key] for key in arrays if key.startswith("extra_")},
    )
