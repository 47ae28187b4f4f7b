"""Values of a scalar field at given points, on every rank (ideal point probes)."""

from __future__ import annotations

import numpy as np
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat


def point_values(function: fem.Function, points: np.ndarray) -> np.ndarray:
    """The scalar `function` at `points` ((n, 3) array, mesh coordinates: m), on every rank; each
    value comes from the lowest rank whose cells contain the point.  ValueError if a
    point lies outside the mesh."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    mesh = function.function_space.mesh
    comm = mesh.comm
    cells = compat.colliding_cells(mesh, points)
    found = cells >= 0
    values = np.zeros(len(points))
    if found.any():
        values[found] = function.eval(points[found], cells[found]).reshape(-1)
    owner = np.where(found, comm.rank, comm.size).astype(np.int64)
    first = np.empty_like(owner)
    comm.Allreduce(owner, first, op=MPI.MIN)
    if np.any(first == comm.size):
        missing = points[first == comm.size]
        raise ValueError(f"points outside the mesh: {missing.tolist()}")
    mine = np.where(first == comm.rank, values, 0.0)
    result = np.empty_like(mine)
    comm.Allreduce(mine, result, op=MPI.SUM)
    return result
