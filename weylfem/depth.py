"""Extensive quantities of a 2D device: per metre of depth, or of a device `depth` thick.

A 2D device is the cross-section of a device uniform along z.  Its solution gives
currents, conductances, powers, energies and torques per metre of depth (A/m, S/m, W/m,
J/m) and resistances times a metre (Ω·m).  Without `geometry.depth` weylfem reports
them so, with honest units (`per_unit_depth`); with it (in the geometry's length unit)
they are those of the real device: currents, conductances, powers, energies, torques and
areas multiplied by the depth, resistances divided by it, and a contact's `current_A` is
the real device's current (divided by the depth for the solve).  Intensive quantities
(voltages, fields, densities per area or volume, magnetization) do not change.  3D
devices are unaffected.

Keys of results.json and series.csv name the SI unit of a 3D device; `scale_report` and
`scale_row` apply the depth to them by that suffix, and results.json records `depth_m`,
`per_unit_depth` and the `units` of the extensive quantities.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from weylfem.device import Device
from weylfem.geometry.units import METRES_PER_UNIT

TIMES_DEPTH = ("_A", "_S", "_W", "_J", "_m2")
"""Key suffixes of quantities proportional to the depth (current, conductance, power,
energy or torque, area)."""
OVER_DEPTH = ("_ohm",)
"""Key suffixes of quantities inversely proportional to the depth (resistance)."""


@dataclass(frozen=True)
class Depth:
    """How a device's extensive quantities relate to its real size."""

    dimension: int
    depth_m: float | None
    """the 2D device's depth in metres (None: per metre of depth, or a 3D device)"""

    @classmethod
    def of(cls, device: Device) -> Depth:
        """The depth of `device` (geometry.depth, converted to metres)."""
        geometry = device.geometry
        depth = getattr(geometry, "depth", None)
        if geometry.dimension == 3 or depth is None:
            return cls(geometry.dimension, None)
        return cls(2, depth * METRES_PER_UNIT[geometry.length_unit])

    @property
    def per_unit_depth(self) -> bool:
        """Whether extensive quantities are per metre of depth (a 2D device without depth)."""
        return self.dimension == 2 and self.depth_m is None

    @property
    def factor(self) -> float:
        """What per-metre currents, powers and energies are multiplied by (1: unchanged)."""
        return 1.0 if self.depth_m is None else self.depth_m

    @property
    def units(self) -> dict[str, str]:
        """The units of the extensive quantities as reported."""
        if self.per_unit_depth:
            return {
                "current": "A/m",
                "conductance": "S/m",
                "resistance": "ohm m",
                "power": "W/m",
                "energy": "J/m",
                "area": "m",
            }
        return {
            "current": "A",
            "conductance": "S",
            "resistance": "ohm",
            "power": "W",
            "energy": "J",
            "area": "m^2",
        }

    def describe(self) -> dict[str, Any]:
        """The results.json keys: depth_m, per_unit_depth and units."""
        return {"depth_m": self.depth_m, "per_unit_depth": self.per_unit_depth, "units": self.units}

    def label(self) -> str:
        """How the summary names the device's extent."""
        if self.dimension == 3:
            return "3D"
        if self.per_unit_depth:
            return "2D, per metre of depth"
        return f"2D, depth {self.depth_m:.6g} m"

    def key_factor(self, key: str) -> float:
        """The factor on a value whose key names its 3D SI unit."""
        if self.depth_m is None or "_per_" in key:
            return 1.0
        if key.endswith(TIMES_DEPTH):
            return self.depth_m
        if key.endswith(OVER_DEPTH):
            return 1.0 / self.depth_m
        return 1.0

    def scale_report(self, report: dict) -> dict:
        """A copy of `report` with every value scaled by its key's unit."""
        if self.depth_m is None:
            return report
        return {key: self._scale(value, key, 1.0) for key, value in report.items()}

    def _scale(self, value: Any, key: str, inherited: float) -> Any:
        factor = self.key_factor(key) if inherited == 1.0 else inherited
        if isinstance(value, dict):
            return {k: self._scale(v, k, factor) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._scale(v, key, factor) for v in value]
        if factor != 1.0 and hasattr(value, "__mul__") and not isinstance(value, (bool, str)):
            return value * factor
        return value

    def scale_row(self, columns: Sequence[str], row: Sequence[float]) -> list[float]:
        """A series row with each value scaled by its column's unit."""
        return [value * self.key_factor(name) for name, value in zip(columns, row, strict=True)]

    def solver_device(self, device: Device) -> Device:
        """`device` as the 2D solve takes it: contact currents per metre of depth."""
        if self.depth_m is None:
            return device
        contacts = {
            name: contact
            if contact.current_A is None
            else dataclasses.replace(contact, current_A=contact.current_A / self.depth_m)
            for name, contact in device.contacts.items()
        }
        return dataclasses.replace(device, contacts=contacts)
