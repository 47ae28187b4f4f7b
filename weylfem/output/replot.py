"""`weylfem plot OUT`: redraw the plots of a finished run or sweep from its files, without
solving: a sweep's curves (table.json), a run's four-probe bar chart (results.json) and
its series (series.csv: contact voltages and currents of a transient, <m> and energies
of a magnetization run).  Rank 0 draws; returns the files drawn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from mpi4py import MPI

from weylfem.errors import PathError


def redraw(out: str | Path) -> list[str]:
    """Redraw every plot of the finished output `out` (PathError if it is none)."""
    directory = Path(out)
    drawn: list[str] = []
    if (directory / "table.json").is_file() and (directory / "sweep.json").is_file():
        from weylfem.sweep.plots import plot_sweep

        plot_sweep(directory / "sweep.png", json.loads((directory / "table.json").read_text()))
        return ["sweep.png"]
    try:
        results = json.loads((directory / "results.json").read_text())
    except (OSError, ValueError):
        raise PathError(
            str(out), "expected the output of a finished `weylfem run` or `weylfem sweep`"
        ) from None
    from weylfem.output.plots import plot_four_probe, plot_magnetization_series, plot_series
    from weylfem.output.series import read_series

    units = results.get("units") or {}
    if results.get("nonlocal_resistances_ohm"):
        unit = units.get("resistance", "ohm")
        plot_four_probe(directory / "four_probe.png", results, MPI.COMM_SELF, unit)
        drawn.append("four_probe.png")
    if (directory / "series.csv").is_file():
        series = read_series(directory / "series.csv")
        if "dynamics" in results:
            unit = units.get("energy", "J")
            plot_magnetization_series(directory / "series.png", series, results["device"], unit)
        else:
            order = results["contact_order"]
            plot_series(
                directory / "series.png",
                _Transient(series, order),
                results["device"],
                MPI.COMM_SELF,
                current_unit=units.get("current", "A"),
            )
        drawn.append("series.png")
    return drawn


class _Transient:
    """The contact columns of a transient's series.csv as plot_series reads them (already
    scaled to the run's units)."""

    def __init__(self, series: dict[str, np.ndarray], order: list[str]):
        self.contact_order = order
        self.times_s = series["time_s"]
        self.voltages_V = np.column_stack([series[f"{n}_voltage_V"] for n in order])
        self.currents_A = np.column_stack([series[f"{n}_current_A"] for n in order])
