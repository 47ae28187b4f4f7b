"""Demagnetizing tensor between the cells of a regular grid (pure numpy).

Two cells of size h = (dx, dy, dz) whose indices differ by d, at r = d * h: the field
averaged over the target cell from a source cell uniformly magnetized with M is
H = -N(d) M.  Near, N comes from Newell, Williams and Dunlop, J. Geophys. Res. 98, 9551
(1993): with the second difference -F(s - h) + 2 F(s) - F(s + h) taken along each axis
(27 values, weights -1, 2, -1 per axis),

    N_xx(r) = (1 / (4 pi dx dy dz)) sum_(i,j,k) w_i w_j w_k f(x + i dx, y + j dy, z + k dz)

and likewise N_xy from g; N_yy, N_zz, N_xz and N_yz are f and g with the axes permuted.
The sixth difference of a function of size r^3 loses about (r / h)^6 of the 16 digits,
so far away N is the point dipole averaged over both cells instead, as its multipole
series: the two averages make a hat of half-width h_c along each axis, and

    N_ab = -(V / 4 pi) sum_j prod_c [2 h_c^(2 j_c) / (2 j_c + 2)!] D^(2j) d_a d_b (1 / r),

whose j = 0 term is the point dipole, taken until the terms fall below the rounding
(`series_terms`).  The tensor is built for d >= 0 and mirrored: the diagonal is even in
every component of d, N_xy is odd in d_x and in d_y, and so on.

Measured: summed over all pairs of cells of the SP4 film (100 x 25 x 1 cells of 5 x 5 x 3
nm), N per cell is Aharoni's prism (evaluated in 50 digits) to 1.2e-12, and to 3.5e-11 with
Newell's formulas at every distance.  Building takes 0.03 s for 100 x 25 x 1 cells and 1.1 s for
1000 x 1000 x 1 (4e6 offsets), plus 0.1 s for the series' tables on the first call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache, lru_cache
from itertools import product

import numpy as np

COMPONENTS = ("xx", "yy", "zz", "xy", "xz", "yz")
"""The order of the six components along the first axis of `demag_tensor`."""
COMPONENT_AXES = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
"""The axes (a, b) of each component of N_ab, in the order of `COMPONENTS`."""

FAR_FIELD_DIAGONALS = 2.0
"""Offsets |r| of at least this many cell diagonals take the series, nearer ones Newell's
formulas.  Measured against Newell's formulas in 60 digits (mpmath), as the largest error
relative to the largest component at the offset: Newell's formulas in double lose 2e-12
inside 2 diagonals for cells of aspect up to 2 (1 x 1 x 1, 5 x 5 x 3, 1 x 1.3 x 0.7), 3e-11
for aspect 5 (1 x 1 x 0.2, 1 x 1 x 4), 3e-10 for 1 x 1 x 0.05 and 8e-10 for 1 x 1 x 10 and
1 x 0.1 x 0.1, and the cube's would lose 1e-10 at 4 and 6e-9 at 8 diagonals; the series is
within 5e-15 from 2 diagonals on (1.4e-13 for the needles 1 x 1 x 10 and 1 x 0.1 x 0.1) but
only 1.2e-8 at 1.5 diagonals (1 x 1 x 0.2): it diverges within one diagonal."""
SERIES_RATE_DIAGONALS = 0.8
"""The series' error after the terms of total order |j| = K falls like
(SERIES_RATE_DIAGONALS * diagonal / |r|)^(2K + 2): fitted 0.65 (cube) to 0.78 (1 x 1 x 0.2)
diagonals, rounded up."""
SERIES_TOLERANCE = 2.0**-52
"""Relative size of the first series term left out."""
SERIES_CHUNK = 2**18
"""Taylor coefficients (offsets times multi-indices) computed at a time."""


def _ratio_function(
    numerator: np.ndarray, denominator: np.ndarray, function: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """function(numerator / denominator), and 0 where the denominator is 0 (every term of
    f and g that has such a ratio has a prefactor vanishing there at least as fast)."""
    quotient = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=quotient, where=denominator != 0)
    return function(quotient)


def newell_f(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Newell's f(x, y, z), whose second differences give the diagonal N_xx; even in x, y
    and z, and exact where any of them is 0."""
    x2, y2, z2 = x * x, y * y, z * z
    r = np.sqrt(x2 + y2 + z2)
    return (
        y * (z2 - x2) * _ratio_function(y, np.sqrt(x2 + z2), np.arcsinh) / 2
        + z * (y2 - x2) * _ratio_function(z, np.sqrt(x2 + y2), np.arcsinh) / 2
        - x * y * z * _ratio_function(y * z, x * r, np.arctan)
        + (2 * x2 - y2 - z2) * r / 6
    )


def newell_g(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Newell's g(x, y, z), whose second differences give N_xy; odd in x and in y, even
    in z, and exact where any of them is 0."""
    x2, y2, z2 = x * x, y * y, z * z
    r = np.sqrt(x2 + y2 + z2)
    return (
        x * y * z * _ratio_function(z, np.sqrt(x2 + y2), np.arcsinh)
        + y * (3 * z2 - y2) * _ratio_function(x, np.sqrt(y2 + z2), np.arcsinh) / 6
        + x * (3 * z2 - x2) * _ratio_function(y, np.sqrt(x2 + z2), np.arcsinh) / 6
        - z * z2 * _ratio_function(x * y, z * r, np.arctan) / 6
        - z * y2 * _ratio_function(x * z, y * r, np.arctan) / 2
        - z * x2 * _ratio_function(y * z, x * r, np.arctan) / 2
        - x * y * r / 3
    )


def _odd_axes(a: int, b: int) -> tuple[int, ...]:
    """The axes along which N_ab is odd: none on the diagonal, a and b off it."""
    return () if a == b else (a, b)


def _newell_component(
    a: int, b: int, nodes: tuple[np.ndarray, np.ndarray, np.ndarray], volume: float
) -> np.ndarray:
    """N_ab at the offsets 0..n-1 along each axis from f or g on the nodes 0..n (sparse
    meshgrid), extended to node -1 by parity."""
    if a == b:
        others = [c for c in range(3) if c != a]
        values = newell_f(nodes[a], nodes[others[0]], nodes[others[1]])
    else:
        (third,) = [c for c in range(3) if c not in (a, b)]
        values = newell_g(nodes[a], nodes[b], nodes[third])
    values = np.broadcast_to(values, np.broadcast_shapes(*(n.shape for n in nodes)))
    odd = _odd_axes(a, b)
    for axis in range(3):
        size = values.shape[axis]
        mirror = np.take(values, [1], axis=axis)
        extended = np.concatenate([-mirror if axis in odd else mirror, values], axis=axis)
        left = np.take(extended, range(0, size - 1), axis=axis)
        centre = np.take(extended, range(1, size), axis=axis)
        right = np.take(extended, range(2, size + 1), axis=axis)
        values = 2 * centre - left - right
    return values / (4 * math.pi * volume)


@cache
def _multi_indices(max_order: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The multi-indices k (p, 3) with |k| <= max_order, in order of |k|, and for each
    order n >= 1 the rows (2, 3, count_n) of k - e_c and k - 2 e_c along each axis c
    (p, one past the last row, where that is no multi-index)."""
    indices = np.array(
        [
            (i, j, n - i - j)
            for n in range(max_order + 1)
            for i in range(n + 1)
            for j in range(n - i + 1)
        ]
    ).reshape(-1, 3)
    row = np.full((max_order + 3,) * 3, len(indices))
    row[tuple(indices.T)] = np.arange(len(indices))
    order = indices.sum(axis=1)
    lower_rows = []
    for n in range(1, max_order + 1):
        k = indices[order == n]
        lower = np.empty((2, 3, len(k)), dtype=int)
        for step in (1, 2):
            for axis in range(3):
                shifted = k.copy()
                shifted[:, axis] -= step
                found = row[tuple(np.maximum(shifted, 0).T)]
                lower[step - 1, axis] = np.where(shifted[:, axis] >= 0, found, len(indices))
        lower_rows.append(lower)
    return indices, lower_rows


def _taylor_coefficients(points: np.ndarray, max_order: int) -> np.ndarray:
    """a_k = D^k (1/r) / k! (p, m) at `points` (3, m) for the multi-indices
    `_multi_indices(max_order)`, by the recurrence
    n r^2 a_k = -(2n - 1) sum_c r_c a_(k - e_c) - (n - 1) sum_c a_(k - 2 e_c),  n = |k|."""
    indices, lower_rows = _multi_indices(max_order)
    r2 = np.einsum("cm,cm->m", points, points)
    coefficients = np.zeros((len(indices) + 1, points.shape[1]))  # the last row stays 0
    coefficients[0] = 1 / np.sqrt(r2)
    start = 1
    for n, lower in enumerate(lower_rows, start=1):
        first = sum(points[c] * coefficients[lower[0, c]] for c in range(3))
        second = sum(coefficients[lower[1, c]] for c in range(3))
        stop = start + lower.shape[2]
        coefficients[start:stop] = -((2 * n - 1) * first + (n - 1) * second) / (n * r2)
        start = stop
    return coefficients[:-1]


@lru_cache(maxsize=64)
def _series_weights(cell: tuple[float, float, float], terms: int) -> np.ndarray:
    """The weights (6, p) that turn the Taylor coefficients of order <= 2 terms + 2 into
    the series' six components (without the factor -V / 4 pi)."""
    indices, _ = _multi_indices(2 * terms + 2)
    row = {tuple(k): i for i, k in enumerate(indices.tolist())}
    factorial = np.array([math.factorial(n) for n in range(2 * terms + 5)], dtype=float)
    j = indices[indices.sum(axis=1) <= terms]
    average = np.prod(2 * np.array(cell) ** (2 * j) / factorial[2 * j + 2], axis=1)
    weights = np.zeros((6, len(indices)))
    for component, (a, b) in enumerate(COMPONENT_AXES):
        k = 2 * j
        k[:, a] += 1
        k[:, b] += 1
        rows = [row[tuple(kk)] for kk in k.tolist()]
        weights[component, rows] = average * np.prod(factorial[k], axis=1)
    return weights


def series_terms(distance_in_diagonals: np.ndarray | float) -> np.ndarray:
    """The highest total order |j| of the series kept at distances of so many cell
    diagonals, so that the first term left out is below SERIES_TOLERANCE."""
    rate = SERIES_RATE_DIAGONALS / np.asarray(distance_in_diagonals, dtype=float)
    needed = np.ceil(math.log(SERIES_TOLERANCE) / (2 * np.log(rate)) - 1)
    return np.maximum(needed, 0).astype(int)


def dipole_series(offsets: np.ndarray, cell: tuple[float, float, float], terms: int) -> np.ndarray:
    """The cell-averaged dipole tensor (6, m) at the distance vectors `offsets` (3, m),
    from the multipole series up to total order |j| = terms (0: the point dipole)."""
    coefficients = _taylor_coefficients(offsets, 2 * terms + 2)
    volume = cell[0] * cell[1] * cell[2]
    return -volume / (4 * math.pi) * (_series_weights(tuple(cell), terms) @ coefficients)


def _octant(shape: tuple[int, int, int], cell: tuple[float, float, float]) -> np.ndarray:
    """N (6, nx, ny, nz) at the offsets d >= 0: Newell's formulas nearer than
    FAR_FIELD_DIAGONALS cell diagonals, the series (as many terms as each distance needs,
    in chunks of SERIES_CHUNK values) from there on."""
    diagonal = math.sqrt(sum(c * c for c in cell))
    octant = np.zeros((6, *shape))
    near_shape = [
        math.ceil(min(FAR_FIELD_DIAGONALS * diagonal / c, n))
        for n, c in zip(shape, cell, strict=True)
    ]
    nodes = np.meshgrid(
        *(np.arange(n + 1) * c for n, c in zip(near_shape, cell, strict=True)),
        indexing="ij",
        sparse=True,
    )
    near = tuple(slice(0, n) for n in near_shape)
    volume = math.prod(cell)
    for component, (a, b) in enumerate(COMPONENT_AXES):
        octant[(component, *near)] = _newell_component(a, b, nodes, volume)
    grids = np.meshgrid(
        *(np.arange(n) * c for n, c in zip(shape, cell, strict=True)), indexing="ij"
    )
    points = np.stack([g.ravel() for g in grids])
    distance = np.sqrt(np.einsum("cm,cm->m", points, points)) / diagonal
    far = np.flatnonzero(distance >= FAR_FIELD_DIAGONALS)
    terms = series_terms(distance[far])
    flat = octant.reshape(6, -1)
    for count in np.unique(terms).tolist():
        group = far[terms == count]
        per_chunk = max(1, SERIES_CHUNK // math.comb(2 * count + 5, 3))
        for begin in range(0, group.size, per_chunk):
            chunk = group[begin : begin + per_chunk]
            flat[:, chunk] = dipole_series(points[:, chunk], cell, count)
    return octant


def _wrap_around(octant: np.ndarray) -> np.ndarray:
    """The full tensor (6, P...) in FFT order from its octant of offsets d >= 0: the
    offsets -1, -2, ..., 1 - n at the indices P - 1, ..., n + 1, with the parity signs."""
    shape = octant.shape[1:]
    padded = [2 * n if n > 1 else 1 for n in shape]
    full = np.zeros((6, *padded))
    halves = [(1, -1) if n > 1 else (1,) for n in shape]
    for signs in product(*halves):
        target = [
            slice(0, n) if s > 0 else slice(n + 1, 2 * n) for n, s in zip(shape, signs, strict=True)
        ]
        source = [
            slice(0, n) if s > 0 else slice(n - 1, 0, -1) for n, s in zip(shape, signs, strict=True)
        ]
        for component, (a, b) in enumerate(COMPONENT_AXES):
            parity = math.prod(signs[axis] for axis in _odd_axes(a, b))
            full[(component, *target)] = parity * octant[(component, *source)]
    return full


def demag_tensor(shape: tuple[int, int, int], cell: tuple[float, float, float]) -> np.ndarray:
    """The demagnetizing tensor N(d) between cells of a regular grid of `shape` cells
    (nx, ny, nz) of size `cell` (dx, dy, dz): the field averaged over a target cell
    from a source cell uniformly magnetized with M, H_target = -N(d) M, where d = target
    index - source index.  Returns an array (6, Px, Py, Pz) with the components
    (xx, yy, zz, xy, xz, yz) for every offset in FFT wrap-around order on the
    zero-padded grid P = 2n for n > 1 and P = 1 for n = 1 (offset i at index i mod P;
    the index n, which no pair of cells reaches, holds 0)."""
    if len(shape) != 3 or any(int(n) != n or n < 1 for n in shape):
        raise ValueError(f"shape must be three positive integers, not {shape}")
    if len(cell) != 3 or not all(math.isfinite(c) and c > 0 for c in cell):
        raise ValueError(f"cell must be three positive lengths, not {cell}")
    unit = max(cell)  # N is dimensionless: lengths in units of the longest edge
    scaled = (cell[0] / unit, cell[1] / unit, cell[2] / unit)
    return _wrap_around(_octant((int(shape[0]), int(shape[1]), int(shape[2])), scaled))
