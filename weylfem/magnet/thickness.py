"""m uniform through a film's thickness (docs/theory.md §3, "Films uniform through their
thickness").

A film thinner than the exchange length has m independent of the coordinate across it;
finite-difference codes take one cell through such a film.  On a film meshed as layers
of prisms (`geometry.layers`), the magnetic nodes stand in columns along the normal, and
the functions uniform through the thickness are those equal on each column.  The LLG
equation restricted to them (Galerkin, with the lumped M_s-weighted mass of the nodal
field) replaces each node's field by its column's weighted mean

    B_c = sum_(i in c) w_i B_i / sum_(i in c) w_i,   w_i = int M_s phi_i dx,

which is the field of the column's variation: a uniform m keeps uniform, and the
exchange modes across the thickness, the fastest of a thin film's mesh, are gone (they
bound an explicit integrator's step).  The energy, the demagnetizing field and every
other term stay those of the full 3D mesh.

`ThicknessAverage` is that mean as one sparse matrix over the magnetic nodes of every
rank (a column may have nodes on several ranks), built once; applying it is one
parallel product per component.
"""

from __future__ import annotations

import numpy as np
from mpi4py import MPI
from petsc4py import PETSc

COORDINATE_DIGITS = 9
"""Nodes whose in-plane coordinates agree to this many digits of the film's extent form a
column (an extruded mesh copies them exactly)."""


class ThicknessAverage:
    """The M_s-weighted mean over each column of magnetic nodes along `normal_axis`."""

    def __init__(
        self,
        points: np.ndarray,
        weights: np.ndarray,
        comm: MPI.Comm,
        normal_axis: int = 2,
    ):
        """`points` (n, 3) and `weights` (n,) of this rank's owned magnetic nodes, in the
        order of the nodal arrays `apply` takes.  Collective."""
        count = len(points)
        offset = comm.exscan(count) or 0  # this rank's first node in the global order
        in_plane = np.delete(np.asarray(points, dtype=float), normal_axis, axis=1)
        all_points = np.vstack(comm.allgather(in_plane))
        all_weights = np.concatenate(comm.allgather(np.asarray(weights, dtype=float)))
        extent = float(np.ptp(all_points, axis=0).max()) if len(all_points) else 1.0
        keys = np.round(all_points / (extent or 1.0), COORDINATE_DIGITS)
        _, column, sizes = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
        column = column.reshape(-1)
        if sizes.min(initial=2) < 2:
            raise ValueError(
                "uniform through the thickness needs the magnet meshed in layers (each node"
                " with a partner across the film); a node stands alone"
            )
        self.columns = len(sizes)
        """number of columns (the in-plane nodes of the film)"""
        self.nodes_per_column = (int(sizes.min()), int(sizes.max()))
        order = np.argsort(column, kind="stable")  # global node ids, column by column
        starts = np.concatenate([[0], np.cumsum(sizes)])
        totals = np.add.reduceat(all_weights[order], starts[:-1])
        # row i (this rank's node offset + i): every node j of its column, w_j / W_c
        own_columns = column[offset : offset + count]
        row_sizes = sizes[own_columns]
        pointer = np.concatenate([[0], np.cumsum(row_sizes)])
        within = np.arange(pointer[-1]) - np.repeat(pointer[:-1], row_sizes)
        members = order[np.repeat(starts[own_columns], row_sizes) + within]
        values = all_weights[members] / np.repeat(totals[own_columns], row_sizes)
        self.matrix = PETSc.Mat().createAIJ(
            ((count, len(all_weights)), (count, len(all_weights))),
            csr=(
                pointer.astype(PETSc.IntType),
                members.astype(PETSc.IntType),
                values.astype(PETSc.ScalarType),
            ),
            comm=comm,
        )
        self.matrix.assemble()
        self._in, self._out = self.matrix.createVecs()

    def apply(self, values: np.ndarray) -> np.ndarray:
        """The column means (n, 3) of the nodal `values` (n, 3), component by component.
        Collective."""
        values = np.asarray(values)
        means = np.empty(values.shape)
        for component in range(3):
            self._in.array[:] = values[:, component]
            self.matrix.mult(self._in, self._out)
            means[:, component] = self._out.array
        return means

    def describe(self) -> dict[str, object]:
        """Columns and nodes per column."""
        low, high = self.nodes_per_column
        return {"columns": self.columns, "nodes_per_column": low if low == high else [low, high]}
