"""Vector fields sampled on a regular grid, read from NumPy ``.npz`` files.

A field file holds the grid axes ``x``, ``y`` (and ``z`` for a 3D device), each a
strictly increasing 1D array in metres, and ``values`` of shape
(len(x), len(y)[, len(z)], 3): the field vector at every grid point.  Mesh nodes are
given multilinearly interpolated values; a node outside the grid is an error.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable

import numpy as np

from weylfem.errors import ConfigError

AXES = ("x", "y", "z")


def grid_field(path: str, dimension: int, key: str) -> Callable[[np.ndarray], np.ndarray]:
    """Read `path`; return f(points (3, n)) -> values (3, n).  `key` names it in errors."""
    from scipy.interpolate import RegularGridInterpolator

    def fail(expected: str):
        return ConfigError(path, key, expected)

    try:
        with np.load(path) as data:
            arrays = {name: np.asarray(data[name], dtype=float) for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise fail(f"expected a NumPy .npz field file ({error})") from None
    axes = AXES[:dimension]
    missing = [name for name in (*axes, "values") if name not in arrays]
    if missing:
        raise fail(f"expected arrays {', '.join((*axes, 'values'))}; missing {', '.join(missing)}")
    grid = [arrays[name] for name in axes]
    for name, axis in zip(axes, grid, strict=True):
        if axis.ndim != 1 or axis.size < 2 or np.any(np.diff(axis) <= 0):
            raise fail(f"expected axis {name!r} to be a strictly increasing list of >= 2 numbers")
    shape = (*(axis.size for axis in grid), 3)
    values = arrays["values"]
    if values.shape != shape or not np.all(np.isfinite(values)):
        raise fail(f"expected finite 'values' of shape {shape}, got {values.shape}")
    interpolator = RegularGridInterpolator(grid, values, bounds_error=False, fill_value=np.nan)

    def evaluate(points: np.ndarray) -> np.ndarray:
        sampled = interpolator(points[:dimension].T)
        if np.isnan(sampled).any():
            outside = points[:dimension, np.isnan(sampled).any(axis=1)][:, 0]
            raise fail(f"expected a grid covering the device; the point {outside} is outside it")
        return sampled.T

    return evaluate
