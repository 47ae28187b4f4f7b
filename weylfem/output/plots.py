"""Plots of a run's numbers with matplotlib (rank 0): four-probe resistances, contact
series of transient transport, magnetization series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from mpi4py import MPI


def plot_four_probe(path: Path, results: dict, comm: MPI.Comm, unit: str = "ohm") -> None:
    """Bar chart (rank 0) of the named four-probe resistances of a run (in `unit`: ohm m
    for a 2D device per metre of depth), log scale."""
    if comm.rank != 0:
        return
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = list(results["nonlocal_resistances_ohm"])
    values = np.array([results["nonlocal_resistances_ohm"][n] for n in names])
    figure, axes = pyplot.subplots(figsize=(1.2 * len(names) + 3, 4))
    colours = ["#4c72b0" if v >= 0 else "#c44e52" for v in values]
    axes.bar(names, np.abs(values), color=colours)
    axes.set_yscale("log")
    axes.set_ylabel(f"|R| ({unit}); red: negative")
    axes.set_title(f"{results['device']}: four-probe resistances")
    axes.tick_params(axis="x", labelrotation=30)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def plot_series(
    path: Path,
    series,
    title: str,
    comm: MPI.Comm,
    current_scale: float = 1.0,
    current_unit: str = "A",
) -> None:
    """Contact voltages and currents (times `current_scale`, in `current_unit`: A/m for a
    2D device per metre of depth) against time (rank 0)."""
    if comm.rank != 0:
        return
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (top, bottom) = pyplot.subplots(2, 1, sharex=True, figsize=(7, 6))
    for i, name in enumerate(series.contact_order):
        top.plot(series.times_s, series.voltages_V[:, i], label=name)
        bottom.plot(series.times_s, current_scale * series.currents_A[:, i], label=name)
    top.set_ylabel("voltage (V)")
    bottom.set_ylabel(f"current into device ({current_unit})")
    bottom.set_xlabel("time (s)")
    top.legend(fontsize=8)
    top.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def plot_magnetization_series(
    path: Path, series: dict[str, np.ndarray], title: str, energy_unit: str = "J"
) -> None:
    """<m>(t) and the energy of every term (in `energy_unit`: J/m for a 2D device per metre
    of depth) against time, from a magnet series (rank 0)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    time_ns = series["time_s"] * 1e9
    figure, (top, bottom) = pyplot.subplots(2, 1, sharex=True, figsize=(7, 6))
    for component in ("m_x", "m_y", "m_z"):
        top.plot(time_ns, series[component], label=f"<{component}>")
    for name, values in series.items():
        if name.startswith("E_"):
            label = name.removeprefix("E_").removesuffix("_J")
            bottom.plot(time_ns, values, label=label, linewidth=2 if label == "total" else 1)
    top.set_ylabel("average magnetization")
    bottom.set_ylabel(f"energy ({energy_unit})")
    bottom.set_xlabel("time (ns)")
    top.legend(fontsize=8)
    bottom.legend(fontsize=8)
    top.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
