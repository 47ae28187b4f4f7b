"""`weylfem plot OUT`: redraw the plots of a finished run or sweep from its files, without
solving: a sweep's curves (table.json), a run's field pictures (phi_c.png, phi_v.png from
fields.xdmf), four-probe bar chart (results.json) and series (series.csv: contact
voltages and currents of a transient, <m> and energies of a magnetization run), and the
mesh picture of `weylfem mesh` (mesh.png from mesh.xdmf).  Rank 0 draws; returns the
files drawn.  Imports no DOLFINx: the HDF5 files are read with h5py
(`weylfem.output.field_reader`), whose HDF5 library must not meet DOLFINx's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from mpi4py import MPI

from weylfem.errors import PathError
from weylfem.output.maps import FIELD_STYLES


def redraw(out: str | Path) -> list[str]:
    """Redraw every plot of the finished output `out` (PathError if it is none)."""
    directory = Path(out)
    drawn: list[str] = []
    if (directory / "table.json").is_file() and (directory / "sweep.json").is_file():
        from weylfem.sweep.plots import plot_sweep

        plot_sweep(directory / "sweep.png", json.loads((directory / "table.json").read_text()))
        return ["sweep.png"]
    if (directory / "mesh.json").is_file() and not (directory / "results.json").is_file():
        return _redraw_mesh(directory)
    try:
        results = json.loads((directory / "results.json").read_text())
    except (OSError, ValueError):
        raise PathError(
            str(out), "expected the output of a finished `weylfem run` or `weylfem sweep`"
        ) from None
    from weylfem.output.plots import plot_four_probe, plot_magnetization_series, plot_series
    from weylfem.output.series import read_series

    units = results.get("units") or {}
    drawn += _redraw_fields(directory, results)
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


def _redraw_fields(directory: Path, results: dict) -> list[str]:
    """The field pictures of a run whose fields.xdmf holds the fields drawn."""
    outputs = results.get("outputs") or {}
    names = [k.removesuffix("_png") for k in outputs if k.removesuffix("_png") in FIELD_STYLES]
    field_file = directory / outputs.get("fields", "fields.xdmf")
    if not names or not field_file.is_file():
        return []
    from weylfem.output.device_arrays import contact_roles
    from weylfem.output.field_reader import read_device_arrays
    from weylfem.output.maps import draw_field, field_title

    device = json.loads((directory / "device.json").read_text())
    geometry = device["geometry"]
    boundaries = directory / outputs.get("boundaries", f"{field_file.stem}_boundaries.xdmf")
    arrays, grid = read_device_arrays(
        field_file, boundaries, results["mesh"]["dimension"], geometry["length_unit"]
    )
    groups = results.get("groups") or {}
    arrays.region_names = groups.get("regions", {})
    arrays.facet_names = groups.get("boundaries", {})
    arrays.contact_roles = contact_roles(device)
    drawn = []
    for name in names:
        if name in grid.point_data:
            title = field_title(results["device"], name)
            draw_field(directory / f"{name}.png", arrays, grid.point_data[name], name, title)
            drawn.append(f"{name}.png")
    return drawn


def _redraw_mesh(directory: Path) -> list[str]:
    """mesh.png of the output of `weylfem mesh`."""
    from weylfem.output.field_reader import read_device_arrays
    from weylfem.output.maps import draw_mesh, mesh_title

    report = json.loads((directory / "mesh.json").read_text())
    if "length_unit" not in report or not (directory / "mesh.xdmf").is_file():
        return []
    arrays, _ = read_device_arrays(
        directory / "mesh.xdmf",
        directory / "mesh_boundaries.xdmf",
        report["mesh"]["dimension"],
        report["length_unit"],
    )
    arrays.region_names, arrays.facet_names = report["regions"], report["boundaries"]
    arrays.contact_roles = report.get("contact_roles", {})
    draw_mesh(directory / "mesh.png", arrays, mesh_title(report["device"], report["mesh"]["cells"]))
    return ["mesh.png"]


class _Transient:
    """The contact columns of a transient's series.csv as plot_series reads them (already
    scaled to the run's units)."""

    def __init__(self, series: dict[str, np.ndarray], order: list[str]):
        self.contact_order = order
        self.times_s = series["time_s"]
        self.voltages_V = np.column_stack([series[f"{n}_voltage_V"] for n in order])
        self.currents_A = np.column_stack([series[f"{n}_current_A"] for n in order])
