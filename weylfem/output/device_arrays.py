"""A device's mesh, tags and contacts as plain numpy arrays: what the pictures are drawn
from, made either from the DOLFINx objects of a run (`weylfem.output.gather`) or from a
finished run's files (`weylfem.output.field_reader`), so that both draw the same
pictures through one function.  Imports no DOLFINx."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from weylfem.constants import METRES_PER_UNIT


@dataclass
class DeviceArrays:
    """A device's mesh (one piece, rank 0) in its geometry's length unit."""

    points: np.ndarray
    """(n, 3) point coordinates, in `length_unit`"""
    cells: np.ndarray
    """(m, k) point indices of every cell (triangles, quadrilaterals or tetrahedra)"""
    regions: np.ndarray
    """(m,) region tag of every cell"""
    facets: np.ndarray
    """(f, k') point indices of every tagged facet (segments in 2D, triangles in 3D)"""
    facet_tags: np.ndarray
    """(f,) tag of every tagged facet"""
    dimension: int
    length_unit: str = "um"
    region_names: dict[str, int] = field(default_factory=dict)
    """region name -> cell tag"""
    facet_names: dict[str, int] = field(default_factory=dict)
    """boundary name -> facet tag"""
    contact_roles: dict[str, str] = field(default_factory=dict)
    """contact name -> 'current', 'voltage' or 'probe' (floating)"""


def contact_roles(device: dict) -> dict[str, str]:
    """The role of every contact of a device given as plain data (device.json, or
    `dataclasses.asdict` of a Device): 'voltage' (voltage-driven), 'current' (current-
    driven) or 'probe' (floating)."""
    roles = {}
    for name, contact in (device.get("contacts") or {}).items():
        if contact.get("floating"):
            roles[name] = "probe"
        elif contact.get("voltage_V") is not None:
            roles[name] = "voltage"
        else:
            roles[name] = "current"
    return roles


def metres_per_unit(length_unit: str) -> float:
    """Metres in one `length_unit` (m, mm, um or nm)."""
    return METRES_PER_UNIT[length_unit]


def canonical(cells: np.ndarray, tags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cells (rows of point indices) without repeats, in an order that depends only
    on their points (so that any partition, and the files, give the same arrays)."""
    if len(cells) == 0:
        return cells, tags
    keys = np.sort(cells, axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    return cells[first], tags[first]
