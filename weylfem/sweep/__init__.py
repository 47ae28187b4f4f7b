"""Parameter sweeps of a steady transport device (`weylfem sweep`).

`spec`: the --set assignments (lists, ranges, grids), B in spherical angles, checked in
the config layer before anything is meshed; `runner`: the points solved on one mesh per
geometry, in parallel groups of ranks, resumably; `table`: the table of every point
(CSV, JSON) and its plots.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "run_sweep": "weylfem.sweep.runner",
    "SweepSpec": "weylfem.sweep.spec",
    "parse_assignment": "weylfem.sweep.spec",
}

__all__ = ["SweepSpec", "parse_assignment", "run_sweep"]


def __getattr__(name: str):
    """The public names, imported on first use (`weylfem plot` draws a sweep's curves
    through `weylfem.sweep.plots` without importing DOLFINx)."""
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'weylfem.sweep' has no attribute {name!r}")
