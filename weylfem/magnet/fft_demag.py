"""Demagnetization by the Newell tensor on a regular grid of cells, convolved by FFT
(docs/theory.md §3, "Demagnetization on a cell grid").

The magnet's bounding box is cut into `cells` = (nx, ny, nz) equal cuboids c.  The P1
magnetization is projected onto them as the cell averages

    M_c = (1/|c|) int_(c ∩ magnet) M_s m dx = sum_i P_ci m_i,   P_ci = (1/|c|) int_c M_s phi_i dx,

the cell-averaged field of cells uniformly magnetized with M_c is H_c = -sum_c' N(c - c') M_c'
with the tensor N of Newell, Williams and Dunlop (J. Geophys. Res. 98, 9551 (1993);
`weylfem.magnet.newell`), a discrete convolution done by zero-padded FFTs, and the energy
E = (mu_0/2) sum_c |c| M_c . (N M)_c gives the weak field of every P1 basis function

    f_i = -dE/dm_i = mu_0 |c| sum_c P_ci H_c,

so that the field is the exact variation of the energy the method computes.  For a box
magnetized uniformly, M_c is exact and the sum of Newell's tensors over all pairs of
cells is the box's demagnetizing tensor: the energy, and the demagnetizing factors, are
exact.  This is the finite-difference codes' method (OOMMF, mumax3, magnum.np) with the
FEM's exchange and nodes.  Every element must lie in one cell (a film meshed in layers
on the grid, `geometry.in_plane_mesh = "grid"`, checked by `config.check_mesh` through
`CellGrid.crossing_elements`): P is then exact, int_c M_s phi_i dx being the sum of
M_s |T|/4 over the cell's elements T at node i.  Elements crossing cell faces would need
their intersections with the cells; sampling them instead (64 points a tetrahedron)
spoils a uniform magnetization's cell averages by several per cent (N_x of the SP4 film
on a free mesh: +7.8%), so such meshes are refused.

Parallel: each rank projects its own elements (P over its local nodes, ghosts included),
one allreduce sums the cell averages, every rank convolves the whole grid (the FFTs are
repeated on every rank: their cost, not a communication, grows with the ranks), and the
ghost nodes' shares of the weak field are added to their owners.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.sparse
import ufl
from dolfinx import fem
from mpi4py import MPI
from petsc4py import PETSc

from weylfem import compat
from weylfem.constants import VACUUM_PERMEABILITY
from weylfem.geometry import DeviceMesh
from weylfem.magnet.coefficients import MagnetCoefficients
from weylfem.magnet.energy import SolvedDemagnetization
from weylfem.magnet.newell import demag_tensor

KERNEL_TIMER = "weylfem: Newell tensor build"
"""DOLFINx timer of the tensor's computation and transform"""
APPLY_TIMER = "weylfem: cell-grid demagnetization apply"
"""DOLFINx timer of one evaluation: projection, allreduce, FFT convolution, weak field"""
INSIDE_TOLERANCE = 1e-6
"""An element lies in one cell when its vertices, moved this fraction of the way to its
centroid, fall in the same cell (vertices on a cell face are then placed correctly)."""
TENSOR_COMPONENTS = ((0, 3, 4), (3, 1, 5), (4, 5, 2))
"""Row a of N as indices into demag_tensor's (xx, yy, zz, xy, xz, yz)."""


class CellGrid:
    """`shape` = (nx, ny, nz) equal cuboids filling the bounding box of the magnetic
    elements `cells` of a 3D mesh (collective)."""

    def __init__(self, mesh, cells: np.ndarray, shape: tuple[int, int, int]):
        comm = mesh.comm
        owned = cells[cells < mesh.topology.index_map(mesh.topology.dim).size_local]
        space = compat.function_space(mesh, "Lagrange", 1)
        self.points = space.tabulate_dof_coordinates()[:, :3]
        """coordinates of the local P1 nodes"""
        self.vertices = compat.cell_dofs(space)[owned]
        """(owned magnetic elements, 4) local nodes"""
        self.elements = owned
        corners = self.points[np.unique(self.vertices)]
        low = corners.min(axis=0) if len(corners) else np.full(3, np.inf)
        high = corners.max(axis=0) if len(corners) else np.full(3, -np.inf)
        self.low, upper = np.empty(3), np.empty(3)
        comm.Allreduce(low, self.low, op=MPI.MIN)
        comm.Allreduce(high, upper, op=MPI.MAX)
        self.shape = tuple(int(n) for n in shape)
        self.cell_size = (upper - self.low) / self.shape
        self.cell_volume = float(np.prod(self.cell_size))
        self.comm = comm

    def cell_index(self, x: np.ndarray) -> np.ndarray:
        """The flat (C-order) index of the cell holding each point (clipped to the grid)."""
        position = np.floor((x - self.low) / self.cell_size).astype(np.int64)
        position = np.clip(position, 0, np.array(self.shape) - 1)
        return np.ravel_multi_index(tuple(position.T), self.shape)

    def element_cells(self) -> np.ndarray:
        """The cell of each owned magnetic element, or -1 where it crosses a cell face: its
        vertices, moved INSIDE_TOLERANCE of the way to its centroid, fall in different cells."""
        corners = self.points[self.vertices]
        centroid = corners.mean(axis=1, keepdims=True)
        nudged = corners + INSIDE_TOLERANCE * (centroid - corners)
        index = self.cell_index(nudged.reshape(-1, 3)).reshape(-1, 4)
        return np.where(np.all(index == index[:, :1], axis=1), index[:, 0], -1)

    def crossing_elements(self) -> tuple[int, int]:
        """(elements crossing cell faces, magnetic elements), over all ranks."""
        crossing = int(np.count_nonzero(self.element_cells() < 0))
        return (
            self.comm.allreduce(crossing, op=MPI.SUM),
            self.comm.allreduce(len(self.elements), op=MPI.SUM),
        )


class GridDemagnetization(SolvedDemagnetization):
    """Demagnetizing field B_d = mu_0 H_d from the Newell tensor on `cells` = (nx, ny, nz)
    equal cuboids filling the bounding box of the magnetic elements of a 3D mesh, each of
    which lies in one cell (`CellGrid.crossing_elements` is 0)."""

    stray_field = False

    def __init__(
        self,
        coefficients: MagnetCoefficients,
        device_mesh: DeviceMesh,
        cells: tuple[int, int, int],
    ):
        mesh = device_mesh.mesh
        if mesh.topology.dim != 3:
            raise ValueError("the cell-grid demagnetization needs a 3D mesh")
        self.comm = mesh.comm
        self.saturation = coefficients.saturation_magnetization
        self.indicator = coefficients.indicator()
        self.grid = grid = CellGrid(mesh, coefficients.cells, cells)
        self.shape, self.cell_size, self.cell_volume = grid.shape, grid.cell_size, grid.cell_volume
        self.elements = self.comm.allreduce(len(grid.elements), op=MPI.SUM)
        self.projection = self._projection(self.saturation.x.array[grid.elements])

        before = compat.timer_seconds(KERNEL_TIMER)
        with compat.timer(KERNEL_TIMER):
            tensor = demag_tensor(self.shape, tuple(self.cell_size))
            self.padded = tensor.shape[1:]
            self._axes = tuple(1 + a for a in range(3) if self.padded[a] > 1)
            """the transformed axes (a grid one cell deep along an axis needs no FFT there)"""
            spectra = self._forward(tensor)
            self._kernel = np.ascontiguousarray(spectra.real)
            self._rows = [
                [(j, b) for b, j in enumerate(row) if np.any(tensor[j])]
                for row in TENSOR_COMPONENTS
            ]
            """for each component a of H, the (tensor component, component of M) that are
            not zero (a grid one cell deep has no xz and yz couplings)"""
        self.build_s = self.comm.allreduce(compat.timer_seconds(KERNEL_TIMER) - before, MPI.MAX)
        """slowest rank's wall time to compute and transform the tensor"""

        vector_space = compat.function_space(mesh, "Lagrange", 1, (3,))
        self._weak = fem.Function(vector_space)
        self._owned_entries = 3 * vector_space.dofmap.index_map.size_local
        lumped = fem.Function(vector_space)
        lumped.x.array.reshape(-1, 3)[:] = (
            self.cell_volume * np.asarray(self.projection.sum(axis=0)).ravel()[:, None]
        )
        self._add_ghosts(lumped)
        owned = lumped.x.array[: self._owned_entries]
        self._inverse_lumped = np.divide(1.0, owned, out=np.zeros_like(owned), where=owned > 0)
        self._induction = fem.Function(vector_space, name="demag_induction")
        self._averages = np.empty((3, *self.shape))
        self.evaluations = 0

    def _projection(self, saturation: np.ndarray) -> scipy.sparse.csr_matrix:
        """P (cells of the grid x local nodes): M_s |T| / 4 / |c| from each owned magnetic
        element T to its cell c at each of its vertices."""
        grid = self.grid
        cell = grid.element_cells()
        if np.any(cell < 0):
            raise ValueError("the cell-grid demagnetization needs every element in one cell")
        corners = grid.points[grid.vertices]
        volume = np.abs(np.linalg.det(corners[:, 1:] - corners[:, :1])) / 6.0
        values = np.repeat(saturation * volume / (4.0 * grid.cell_volume), 4)
        return scipy.sparse.coo_matrix(
            (values, (np.repeat(cell, 4), grid.vertices.ravel())),
            shape=(int(np.prod(self.shape)), len(grid.points)),
        ).tocsr()

    def _add_ghosts(self, function: fem.Function) -> None:
        """Add the values a rank holds at ghost nodes to their owners' (collective)."""
        vector = compat.petsc_vector(function)
        vector.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)

    @property
    def kernel_bytes(self) -> int:
        """Memory of the transformed tensor on each rank."""
        return self._kernel.nbytes

    def describe(self) -> dict[str, object]:
        """Method, grid and build time, for results.json."""
        return {
            "method": "cell_grid (Newell tensor, zero-padded FFT convolution)",
            "cells": list(self.shape),
            "cell_size": [float(h) for h in self.cell_size],
            "fft_size": [int(n) for n in self.padded],
            "kernel_bytes_per_rank": self.kernel_bytes,
            "kernel_build_s": self.build_s,
            "elements": self.elements,
            "evaluations": self.evaluations,
        }

    def cell_averages(self, m_local: np.ndarray) -> np.ndarray:
        """M_c (3, nx, ny, nz) for m at the local nodes (owned and ghost, (n, 3)).
        Collective."""
        partial = np.ascontiguousarray((self.projection @ m_local).T)
        self.comm.Allreduce(partial, self._averages.reshape(3, -1), op=MPI.SUM)
        return self._averages

    def _forward(self, values: np.ndarray) -> np.ndarray:
        """The zero-padded discrete Fourier transform over the grid axes of `values`
        (k, nx, ny, nz): a real transform along the last transformed axis, then complex
        ones, each only over the rows the padding has not yet filled."""
        if not self._axes:
            return values
        *others, last = self._axes
        spectrum = scipy.fft.rfft(values, n=self.padded[last - 1], axis=last)
        for axis in others:
            spectrum = scipy.fft.fft(spectrum, n=self.padded[axis - 1], axis=axis)
        return spectrum

    def _inverse(self, spectrum: np.ndarray) -> np.ndarray:
        """The inverse of `_forward`, cropped to the grid."""
        if not self._axes:
            return spectrum
        *others, last = self._axes
        for axis in reversed(others):
            spectrum = scipy.fft.ifft(spectrum, axis=axis)
            spectrum = spectrum.take(np.arange(self.shape[axis - 1]), axis=axis)
        values = scipy.fft.irfft(spectrum, n=self.padded[last - 1], axis=last)
        return values.take(np.arange(self.shape[last - 1]), axis=last)

    def cell_fields(self, averages: np.ndarray) -> np.ndarray:
        """H_c = -sum_c' N(c - c') M_c' (3, nx, ny, nz), A/m."""
        spectrum = self._forward(averages)
        field = np.zeros_like(spectrum)
        for a, row in enumerate(self._rows):
            for j, b in row:
                field[a] -= self._kernel[j] * spectrum[b]
        return self._inverse(field)

    def _weak_field(self, m_local: np.ndarray) -> np.ndarray:
        """f_i = mu_0 |c| sum_c P_ci H_c at the owned entries (a view of the work vector)."""
        with compat.timer(APPLY_TIMER):
            fields = self.cell_fields(self.cell_averages(m_local)).reshape(3, -1).T
            local = self._weak.x.array.reshape(-1, 3)
            local[:] = (VACUUM_PERMEABILITY * self.cell_volume) * (self.projection.T @ fields)
            self._add_ghosts(self._weak)
        self.evaluations += 1
        return self._weak.x.array[: self._owned_entries]

    def add_weak_field(self, m: PETSc.Vec, out: PETSc.Vec) -> None:
        """out += int M_s B_d(m) . phi_i dx (as this method defines it) for every P1 vector
        basis function phi_i; m's ghost values must be current.  Collective."""
        with m.localForm() as local:
            weak = self._weak_field(local.array_r.reshape(-1, 3))
        out.array[:] += weak

    def update(self, m: fem.Function) -> None:
        """The nodal B_d of m (the weak field over the lumped M_s-weighted mass)."""
        weak = self._weak_field(m.x.array.reshape(-1, 3))
        self._induction.x.array[: self._owned_entries] = weak * self._inverse_lumped
        self._induction.x.scatter_forward()

    def field(self) -> ufl.core.expr.Expr:
        """B_d (T, 3-vector, P1) from the last update."""
        return self._induction
