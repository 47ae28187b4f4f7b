"""Vector fields sampled on a regular grid, read from NumPy ``.npz`` files.

A field file holds the grid axes ``x``, ``y`` (and ``z`` for a 3D device), each a
strictly increasing 1D array in metres, and ``values`` of shape
(len(x), len(y)[, len(z)], 3): the field vector at every grid point.  Mesh nodes are
given multilinearly interpolated values; a node outside the grid is an error.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable

import numpy as np

from weylfem.errors import ConfigError

AXES = ("x", "y", "z")


def read_npz(path: str, source: str, key: str, what: str) -> dict[str, np.ndarray]:
    """Every array of the NumPy .npz file `path` (no pickled objects); ConfigError at
    `source`: `key`, "expected `what` (...)", for anything else."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ConfigError(source, key, f"expected {what} ({_reason(error)})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ConfigError(
            source, key, f"expected {what}, got a single array (.npy, not an .npz archive)"
        )
    try:
        with data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise ConfigError(source, key, f"expected {what} ({_reason(error)})") from None


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    if "pickled" in text:  # what NumPy says of a file with neither .npz nor .npy magic
        return "not a NumPy file"
    return text.splitlines()[0][:200]


def read_grid(path: str, dimension: int, key: str) -> tuple[list[np.ndarray], np.ndarray]:
    """The grid axes and the values of the field file `path`, checked: strictly increasing
    axes of >= 2 points, finite values of shape (len(x), len(y)[, len(z)], 3).
    ConfigError naming `path` and `key` otherwise."""

    def fail(expected: str):
        return ConfigError(path, key, expected)

    arrays = read_npz(path, path, key, "a NumPy .npz field file")
    axes = AXES[:dimension]
    missing = [name for name in (*axes, "values") if name not in arrays]
    if missing:
        raise fail(f"expected arrays {', '.join((*axes, 'values'))}; missing {', '.join(missing)}")
    for name in (*axes, "values"):
        if arrays[name].dtype.kind not in "iuf":
            raise fail(f"expected real numbers in {name!r}, got dtype {arrays[name].dtype}")
    grid = [np.asarray(arrays[name], dtype=float) for name in axes]
    for name, axis in zip(axes, grid, strict=True):
        if axis.ndim != 1 or axis.size < 2 or not np.all(np.diff(axis) > 0):
            raise fail(f"expected axis {name!r} to be a strictly increasing list of >= 2 numbers")
    shape = (*(axis.size for axis in grid), 3)
    values = np.asarray(arrays["values"], dtype=float)
    if values.shape != shape:
        raise fail(f"expected 'values' of shape {shape}, got {values.shape}")
    if not np.all(np.isfinite(values)):
        bad = np.count_nonzero(~np.isfinite(values))
        raise fail(f"expected finite 'values', got {bad} NaN or infinite ones")
    return grid, values


def grid_field(path: str, dimension: int, key: str) -> Callable[[np.ndarray], np.ndarray]:
    """Read `path`; return f(points (3, n)) -> values (3, n).  `key` names it in errors."""
    from scipy.interpolate import RegularGridInterpolator

    def fail(expected: str):
        return ConfigError(path, key, expected)

    grid, values = read_grid(path, dimension, key)
    interpolator = RegularGridInterpolator(grid, values, bounds_error=False, fill_value=np.nan)

    def evaluate(points: np.ndarray) -> np.ndarray:
        sampled = interpolator(points[:dimension].T)
        if np.isnan(sampled).any():
            outside = points[:dimension, np.isnan(sampled).any(axis=1)][:, 0]
            raise fail(f"expected a grid covering the device; the point {outside} is outside it")
        return sampled.T

    return evaluate
