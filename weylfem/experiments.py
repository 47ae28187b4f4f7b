"""Ready-made device descriptions of standard experiments, as plain data, and sweep helpers.

The tables are what a TOML device file reads to, so they can be edited before
`device_from_mapping`; sweeps reuse one mesh across field values with
`four_probe_resistances(table, device_mesh)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.geometry import DeviceMesh
from weylfem.meshing import mesh_device
from weylfem.transport import TransportProblem


def nonlocal_strip_table(
    distances: Sequence[float],
    field_T: Sequence[float] = (0.0, 0.0, 0.0),
    *,
    material: str = "TaAs",
    dimension: int = 2,
    length: float = 40.0,
    width: float = 1.0,
    injector_position: float = 3.0,
    mesh_size: float = 0.1,
    current_A: float = 1.0e-3,
) -> dict:
    """The nonlocal chiral-anomaly experiment on a `nonlocal_strip` (lengths in um).

    `current_A` enters through `injector_bottom` and leaves through the grounded
    `injector_top`; each detector pair at the given distances from the injector is a
    pair of floating probes that do not relax valley (ideal voltmeters), reported as the
    four-probe resistance ``R_NL_<distance>um``.  Contacts are 0.2 `width` long.
    """
    contacts: dict = {
        "injector_bottom": {"current_A": current_A},
        "injector_top": {"voltage_V": 0.0},
    }
    four_probe = {}
    for i, distance in enumerate(distances, start=1):
        for side in ("bottom", "top"):
            contacts[f"detector_{i}_{side}"] = {
                "floating": True,
                "valley_conductance_S_per_m2": 0.0,
            }
        four_probe[f"R_NL_{distance:g}um"] = {
            "current": ["injector_bottom", "injector_top"],
            "voltage": [f"detector_{i}_bottom", f"detector_{i}_top"],
        }
    return {
        "name": "nonlocal strip",
        "geometry": {
            "kind": "nonlocal_strip",
            "dimension": dimension,
            "length": length,
            "width": width,
            "injector_position": injector_position,
            "detector_distances": list(distances),
            "contact_length": 0.2 * width,
            "mesh_size": mesh_size,
        },
        "regions": {"channel": {"material": material}},
        "contacts": contacts,
        "four_probe": four_probe,
        "fields": {"magnetic_field_T": list(field_T)},
        "physics": {"transport": "charge_valley"},
    }


def four_probe_resistances(
    table: dict, device_mesh: DeviceMesh | None = None, comm: MPI.Comm = MPI.COMM_WORLD
) -> tuple[np.ndarray, DeviceMesh]:
    """The `four_probe` resistances (ohm; ohm m for a 2D sheet of unit thickness) of the
    device `table`, in table order, and the mesh (pass it back to reuse it)."""
    device = device_from_mapping(table, table.get("name", "<table>"))
    if device_mesh is None:
        device_mesh = mesh_device(device, comm)
    solution = TransportProblem(device, device_mesh).solve()
    resistance = solution.resistance_matrix_ohm
    values = [solution.response.four_probe(p, resistance) for p in device.four_probe.values()]
    return np.array(values), device_mesh


def two_terminal_bar_table(
    *,
    material: str = "Co3Sn2S2",
    dimension: int = 3,
    length: float = 10.0,
    width: float = 2.0,
    thickness: float = 0.5,
    mesh_size: float = 0.25,
    voltage_V: float = 1.0e-3,
) -> dict:
    """A bar (lengths in um) between whole-face contacts `source` (at `voltage_V`) and
    the grounded `drain`, ohmic model: R = L/(sigma A)."""
    return {
        "name": "two-terminal bar",
        "geometry": {
            "kind": "bar",
            "dimension": dimension,
            "length_unit": "um",
            "length": length,
            "width": width,
            "thickness": thickness,
            "mesh_size": mesh_size,
        },
        "regions": {"channel": {"material": material}},
        "contacts": {"source": {"voltage_V": voltage_V}, "drain": {"voltage_V": 0.0}},
        "physics": {"transport": "ohmic"},
    }
