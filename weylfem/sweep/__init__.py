"""Parameter sweeps of a steady transport device (`weylfem sweep`).

`spec`: the --set assignments (lists, ranges, grids), B in spherical angles, checked in
the config layer before anything is meshed; `runner`: the points solved on one mesh per
geometry, in parallel groups of ranks, resumably; `table`: the table of every point
(CSV, JSON) and its plots.
"""

from weylfem.sweep.runner import run_sweep
from weylfem.sweep.spec import SweepSpec, parse_assignment

__all__ = ["SweepSpec", "parse_assignment", "run_sweep"]
