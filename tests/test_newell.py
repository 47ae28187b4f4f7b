"""The Newell demagnetizing tensor of a cell grid (weylfem.magnet.newell): self terms and
box sums against Aharoni's prisms, the point-dipole limit and Newell's formulas meeting
the far-field series, symmetry, and the FFT wrap-around layout.

Summing N(t - s) over all source cells s and target cells t of a box telescopes Newell's
second differences to the box's own tensor, so the sum over a box divided by its cell
count is the box's demagnetizing factors (Aharoni), and the sum between two boxes is the
tensor between them; far pairs enter the sums through the series.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_demag import aharoni_factors

from weylfem.magnet import newell
from weylfem.magnet.newell import COMPONENT_AXES, demag_tensor

SKEWED_CELL = (1.0, 1.3, 0.7)
"""A cell with three different edges, so that no axis stands for another."""


def signed_offsets(shape: tuple[int, int, int]) -> list[np.ndarray]:
    """The offset held at each index of the padded axes (i for i < n, i - 2n for i > n;
    index n, which holds no offset, gets 2n, beyond every pair of cells)."""
    offsets = []
    for n in shape:
        if n == 1:
            offsets.append(np.zeros(1, dtype=int))
            continue
        index = np.arange(2 * n)
        offsets.append(np.where(index < n, index, np.where(index > n, index - 2 * n, 2 * n)))
    return offsets


def pair_counts(offsets: np.ndarray, source: tuple[int, int], target: tuple[int, int]):
    """How many (source, target) index pairs along one axis, the source in [s0, s1) and
    the target in [t0, t1), differ by each offset target - source."""
    (s0, s1), (t0, t1) = source, target
    low = np.maximum(s0, t0 - offsets)
    high = np.minimum(s1, t1 - offsets)
    return np.clip(high - low, 0, None).astype(float)


def pair_sum(tensor: np.ndarray, shape, source, target) -> np.ndarray:
    """sum over the source cells and target cells (ranges per axis) of N(target - source),
    divided by the number of target cells: the six components."""
    counts = [
        pair_counts(o, s, t) for o, s, t in zip(signed_offsets(shape), source, target, strict=True)
    ]
    targets = math.prod(t1 - t0 for t0, t1 in target)
    return np.einsum("cxyz,x,y,z->c", tensor, *counts) / targets


def point_dipole(points: np.ndarray, volume: float) -> np.ndarray:
    """-(V / 4 pi) (3 r_a r_b - r^2 delta_ab) / r^5 at `points` (3, m): (6, m)."""
    r2 = np.einsum("cm,cm->m", points, points)
    return np.stack(
        [
            -volume / (4 * math.pi) * (3 * points[a] * points[b] - (a == b) * r2) / r2**2.5
            for a, b in COMPONENT_AXES
        ]
    )


def newell_at(offset: tuple[int, int, int], cell: tuple[float, float, float]) -> np.ndarray:
    """N at one offset straight from Newell's 27-term sums of f and g."""
    weights = {-1: -1.0, 0: 2.0, 1: -1.0}
    total = np.zeros(6)
    for step in np.ndindex(3, 3, 3):
        shift = [s - 1 for s in step]
        r = [(d + s) * h for d, s, h in zip(offset, shift, cell, strict=True)]
        x, y, z = (np.array(v) for v in r)
        values = [
            newell.newell_f(x, y, z),
            newell.newell_f(y, x, z),
            newell.newell_f(z, y, x),
            newell.newell_g(x, y, z),
            newell.newell_g(x, z, y),
            newell.newell_g(y, z, x),
        ]
        total += math.prod(weights[s] for s in shift) * np.array(values)
    return total / (4 * math.pi * math.prod(cell))


def far_offsets(tensor, shape, cell, low: float, high: float):
    """The offsets' distance vectors (3, m) and the tensor there (6, m), for the offsets
    between `low` and `high` cell diagonals."""
    grids = np.meshgrid(*signed_offsets(shape), indexing="ij")
    points = np.stack([g.ravel() * h for g, h in zip(grids, cell, strict=True)])
    distance = np.sqrt(np.einsum("cm,cm->m", points, points)) / math.hypot(*cell)
    reached = np.all([np.abs(g.ravel()) < n for g, n in zip(grids, shape, strict=True)], axis=0)
    chosen = reached & (distance >= low) & (distance < high)
    return points[:, chosen], tensor.reshape(6, -1)[:, chosen]


@pytest.mark.parametrize("edge", [1.0, 5e-9, 3.0])
def test_cube_self_term(edge):
    np.testing.assert_allclose(
        demag_tensor((2, 2, 2), (edge,) * 3)[:, 0, 0, 0], [1 / 3] * 3 + [0] * 3, atol=1e-15
    )


@pytest.mark.parametrize("cell", [(5.0, 5.0, 3.0), SKEWED_CELL, (1.0, 1.0, 0.05)])
def test_cell_self_term_is_aharoni_prism(cell):
    self_term = demag_tensor((1, 1, 1), cell)[:, 0, 0, 0]
    np.testing.assert_allclose(self_term[:3], aharoni_factors(*cell), rtol=1e-13)
    np.testing.assert_array_equal(self_term[3:], 0)


def test_lengths_scale_out():
    """N is dimensionless: the film's 5 x 5 x 3 nm cells in metres or in nanometres."""
    in_metres = demag_tensor((12, 8, 3), (5e-9, 5e-9, 3e-9))
    np.testing.assert_allclose(in_metres, demag_tensor((12, 8, 3), (5.0, 5.0, 3.0)), atol=1e-17)


@pytest.mark.parametrize(
    ("shape", "cell"),
    [((4, 3, 2), SKEWED_CELL), ((100, 25, 1), (5.0, 5.0, 3.0)), ((10, 9, 8), (1.0, 1.0, 1.0))],
)
def test_box_sum_is_aharoni_prism(shape, cell):
    """Measured: 2e-15 (4 x 3 x 2), 6e-12 against this double-precision Aharoni formula
    (1.2e-12 against 50 digits; 3.5e-11 with Newell's formulas at every distance) for the
    SP4 film, 4e-15 for 10 x 9 x 8 cubes."""
    box = pair_sum(demag_tensor(shape, cell), shape, *[[(0, n) for n in shape]] * 2)
    size = [n * h for n, h in zip(shape, cell, strict=True)]
    np.testing.assert_allclose(box[:3], aharoni_factors(*size), rtol=1e-9)
    np.testing.assert_allclose(box[3:], 0, atol=1e-15)


def test_sum_between_two_boxes_is_their_tensor():
    """Source box 4 x 3 x 2 cells at the origin, target box the same moved by one box
    along each axis: the pair sum is the tensor between the boxes as two cells, with every
    off-diagonal component, from offsets near and far (up to 5 diagonals)."""
    cells, shape = (4, 3, 2), (8, 6, 4)
    source = [(0, n) for n in cells]
    target = [(n, 2 * n) for n in cells]
    pairs = pair_sum(demag_tensor(shape, SKEWED_CELL), shape, source, target)
    box_cell = tuple(n * h for n, h in zip(cells, SKEWED_CELL, strict=True))
    between = newell_at((1, 1, 1), box_cell)
    assert np.all(np.abs(between[3:]) > 0.005)
    np.testing.assert_allclose(pairs, between, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("newell_only", [False, True])
def test_far_field_tends_to_point_dipole(newell_only, monkeypatch):
    """|N - dipole| / |dipole| is 0.3 (diagonal / r)^2 for these cells (the leading term
    of the cell averages), from 2 to 30 diagonals, with Newell's formulas everywhere
    (newell_only) as well as with the series."""
    if newell_only:
        monkeypatch.setattr(newell, "FAR_FIELD_DIAGONALS", math.inf)
    shape = (24, 20, 16)
    points, tensor = far_offsets(demag_tensor(shape, SKEWED_CELL), shape, SKEWED_CELL, 2, 30)
    dipole = point_dipole(points, math.prod(SKEWED_CELL))
    deviation = np.abs(tensor - dipole).max(axis=0) / np.abs(dipole).max(axis=0)
    distance = np.sqrt(np.einsum("cm,cm->m", points, points)) / math.hypot(*SKEWED_CELL)
    assert np.all(deviation < 0.35 / distance**2)
    assert np.max(deviation * distance**2) > 0.25  # the correction is there


def test_point_dipole_far_across_a_film():
    """The SP4 film's cells 300 diagonals (460 cells) and more apart: the point dipole to
    2e-6 (the h^2 term)."""
    shape, cell = (500, 400, 1), (5.0, 5.0, 3.0)
    points, tensor = far_offsets(demag_tensor(shape, cell), shape, cell, 300, math.inf)
    dipole = point_dipole(points, math.prod(cell))
    deviation = np.abs(tensor - dipole).max(axis=0) / np.abs(dipole).max(axis=0)
    assert points.shape[1] > 1000
    assert deviation.max() < 1e-5


@pytest.mark.parametrize("cell", [SKEWED_CELL, (5.0, 5.0, 3.0), (1.0, 1.0, 4.0)])
def test_newell_meets_the_series_at_the_switch(cell, monkeypatch):
    """Between 2 and 3 diagonals Newell's formulas and the series agree to Newell's
    rounding: measured 1.6e-11 (1 x 1.3 x 0.7), 1.1e-11 (5 x 5 x 3) and 1.5e-10 (1 x 1 x 4)
    of the largest component."""
    shape = tuple(math.ceil(3 * math.hypot(*cell) / h) + 1 for h in cell)
    _, switched = far_offsets(demag_tensor(shape, cell), shape, cell, 2, 3)
    monkeypatch.setattr(newell, "FAR_FIELD_DIAGONALS", math.inf)
    _, newell_only = far_offsets(demag_tensor(shape, cell), shape, cell, 2, 3)
    difference = np.abs(switched - newell_only).max(axis=0) / np.abs(newell_only).max(axis=0)
    assert difference.max() < 1e-9


def test_symmetry_and_trace():
    """N(-d) = N(d); the diagonal is even in each component of d, N_ab odd in d_a and
    d_b; the trace is 1 for the cell itself and 0 between different cells."""
    shape = (9, 7, 5)
    tensor = demag_tensor(shape, SKEWED_CELL)
    flip = [(-np.arange(p)) % p for p in tensor.shape[1:]]
    np.testing.assert_array_equal(tensor[:, flip[0]][:, :, flip[1]][:, :, :, flip[2]], tensor)
    for axis in range(3):
        mirrored = np.take(tensor, flip[axis], axis=axis + 1)
        for component, (a, b) in enumerate(COMPONENT_AXES):
            parity = -1 if a != b and axis in (a, b) else 1
            np.testing.assert_array_equal(mirrored[component], parity * tensor[component])
    trace = tensor[:3].sum(axis=0)
    assert trace[0, 0, 0] == pytest.approx(1, abs=1e-15)
    trace[0, 0, 0] = 0
    assert np.abs(trace).max() < 1e-13


def test_wrap_around_layout():
    """Offset i along an axis at index i mod P, P = 2n (n > 1) or 1; index n is 0."""
    shape = (3, 1, 2)
    tensor = demag_tensor(shape, SKEWED_CELL)
    assert tensor.shape == (6, 6, 1, 4)
    np.testing.assert_array_equal(tensor[:, 3], 0)
    np.testing.assert_array_equal(tensor[:, :, :, 2], 0)
    for offset in np.ndindex(5, 1, 3):
        d = (offset[0] - 2, 0, offset[2] - 1)
        np.testing.assert_allclose(
            tensor[:, d[0] % 6, 0, d[2] % 4], newell_at(d, SKEWED_CELL), rtol=0, atol=1e-14
        )
    assert demag_tensor((1, 1, 1), SKEWED_CELL).shape == (6, 1, 1, 1)
    assert demag_tensor((1, 5, 1), SKEWED_CELL).shape == (6, 1, 10, 1)


@pytest.mark.parametrize(
    ("shape", "cell"),
    [((0, 2, 2), (1.0, 1.0, 1.0)), ((2, 2), (1.0, 1.0, 1.0)), ((2, 2, 2), (1.0, 0.0, 1.0))],
)
def test_bad_grid(shape, cell):
    with pytest.raises(ValueError, match="shape|cell"):
        demag_tensor(shape, cell)
