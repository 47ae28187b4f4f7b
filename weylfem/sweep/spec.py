"""What a sweep varies: ``--set KEY=VALUES`` assignments, read and checked here.

VALUES is a comma-separated list (``1,2,5``, ``TaAs,Cd3As2``, ``true,false``) or a range
``START:STOP:N``: N evenly spaced numbers from START to STOP, both included (like
numpy.linspace; ``0:90:7`` is 0, 15, ..., 90).  KEY is any dotted key of the device file
(``contacts.source.voltage_V``, ``materials.m.valley_relaxation_time_s``,
``geometry.width``, ...) under a table the device has, or one of the spherical field keys
``fields.B_T`` (magnitude, T), ``fields.B_theta_deg`` (polar angle from z) and
``fields.B_phi_deg`` (azimuth from x in the xy plane), which set
``fields.magnetic_field_T = B (sin th cos ph, sin th sin ph, cos th)``; the ones not set
keep the device's own magnitude and angles.  Several assignments make a grid (outer
product, the last key varying fastest) or, zipped, one point per position.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tomllib

from weylfem.config import device_from_mapping
from weylfem.device import Device
from weylfem.errors import ConfigError

SPHERICAL = ("fields.B_T", "fields.B_theta_deg", "fields.B_phi_deg")
"""Keys that set fields.magnetic_field_T in spherical coordinates."""
NAMED_SECTIONS = ("regions", "materials", "contacts", "interfaces", "walls", "four_probe")
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Assignment:
    """One --set: a dotted key and its values."""

    key: str
    values: tuple[Any, ...]

    def describe(self) -> str:
        return f"{self.key}={','.join(map(str, self.values))}"


def _scalar(text: str) -> Any:
    """A TOML value (number, boolean, quoted string), else the bare text as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_assignment(text: str, source: str = "--set") -> Assignment:
    """Read ``KEY=VALUES`` (see the module); ConfigError for anything else."""
    key, equals, values = text.partition("=")
    key = key.strip()
    if not equals or not key or not values.strip():
        raise ConfigError(source, "--set", f"expected KEY=VALUES, got {text!r}")
    if not all(
        part.isidentifier() or part.replace("-", "_").isidentifier() for part in key.split(".")
    ):
        raise ConfigError(source, f"--set {key}", "expected a dotted device key such as fields.B_T")
    parts = values.split(":")
    if len(parts) == 3:
        start, stop, count = (_scalar(p.strip()) for p in parts)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (start, stop))
        if not numbers or not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigError(
                source,
                f"--set {key}",
                f"expected a range START:STOP:N (numbers, N an integer >= 1), got {values!r}",
            )
        if count == 1:
            return Assignment(key, (start,))
        step = (stop - start) / (count - 1)
        return Assignment(key, tuple(start + i * step for i in range(count - 1)) + (stop,))
    items = [item.strip() for item in values.split(",")]
    if any(not item for item in items):
        raise ConfigError(
            source, f"--set {key}", f"expected a comma-separated list, got {values!r}"
        )
    return Assignment(key, tuple(_scalar(item) for item in items))


@dataclass(frozen=True)
class SweepSpec:
    """The assignments of a sweep; `zipped` pairs their values instead of a grid."""

    assignments: tuple[Assignment, ...]
    zipped: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(a.key for a in self.assignments)

    def points(self, source: str) -> list[dict[str, Any]]:
        """Every point as {key: value}, in order."""
        keys = self.keys
        if len(set(keys)) != len(keys):
            raise ConfigError(source, "--set", f"expected each key once, got {', '.join(keys)}")
        columns = [a.values for a in self.assignments]
        if self.zipped:
            lengths = {len(c) for c in columns}
            if len(lengths) > 1:
                raise ConfigError(
                    source,
                    "--zip",
                    "expected the same number of values for every --set, got "
                    + ", ".join(f"{a.key}: {len(a.values)}" for a in self.assignments),
                )
            rows = list(zip(*columns, strict=True))
        else:
            count = math.prod(len(c) for c in columns)
            if count > MAX_POINTS:
                raise ConfigError(
                    source, "--set", f"expected at most {MAX_POINTS} points, got {count}"
                )
            rows = list(itertools.product(*columns))
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def describe(self) -> dict:
        return {"set": [a.describe() for a in self.assignments], "zipped": self.zipped}


def _spherical(base: Sequence[float]) -> tuple[float, float, float]:
    """(|B|, theta, phi) in T and degrees of a field vector."""
    x, y, z = (float(v) for v in base)
    magnitude = math.sqrt(x * x + y * y + z * z)
    if magnitude == 0:
        return 0.0, 90.0, 0.0
    return (
        magnitude,
        math.degrees(math.acos(max(-1.0, min(1.0, z / magnitude)))),
        math.degrees(math.atan2(y, x)),
    )


def field_vector(magnitude: float, theta_deg: float, phi_deg: float) -> list[float]:
    """B (sin th cos ph, sin th sin ph, cos th), components below 1e-15 |B| set to 0."""
    theta, phi = math.radians(theta_deg), math.radians(phi_deg)
    vector = [
        magnitude * math.sin(theta) * math.cos(phi),
        magnitude * math.sin(theta) * math.sin(phi),
        magnitude * math.cos(theta),
    ]
    return [0.0 if abs(v) < 1e-15 * abs(magnitude) else v for v in vector]


def point_table(base: Mapping[str, Any], point: Mapping[str, Any], source: str) -> dict:
    """The device table `base` with the values of `point` set (ConfigError for a key
    that is no key of the device)."""
    table = copy.deepcopy(dict(base))
    spherical = {k: v for k, v in point.items() if k in SPHERICAL}
    for key, value in point.items():
        if key in spherical:
            continue
        _set(table, key, value, source)
    if spherical:
        for key, value in spherical.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(source, f"--set {key}", f"expected numbers, got {value!r}")
        fields = table.setdefault("fields", {})
        if not isinstance(fields, dict) or "magnetic_field_file" in fields:
            raise ConfigError(
                source,
                f"--set {next(iter(spherical))}",
                "expected a device with a uniform fields.magnetic_field_T, not a field file",
            )
        magnitude, theta, phi = _spherical(fields.get("magnetic_field_T", (0.0, 0.0, 0.0)))
        fields["magnetic_field_T"] = field_vector(
            float(spherical.get("fields.B_T", magnitude)),
            float(spherical.get("fields.B_theta_deg", theta)),
            float(spherical.get("fields.B_phi_deg", phi)),
        )
    return table


def _set(table: dict, key: str, value: Any, source: str) -> None:
    parts = key.split(".")
    node = table
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if part not in node:
            if depth == 1 and parts[0] in NAMED_SECTIONS:
                raise ConfigError(
                    source,
                    f"--set {key}",
                    f"expected a name of the device's {parts[0]}"
                    f" ({', '.join(node) or 'none'}), got {part!r}",
                )
            node[part] = {}
        if not isinstance(node[part], dict):
            raise ConfigError(source, f"--set {key}", f"expected {where} to be a table")
        node = node[part]
    node[parts[-1]] = value


def sweep_devices(
    base: Mapping[str, Any], source: str, spec: SweepSpec
) -> tuple[list[dict[str, Any]], list[Device]]:
    """Every point and its validated Device (ConfigError naming the point otherwise): a
    steady transport device is required."""
    points = spec.points(source)
    devices = []
    for index, point in enumerate(points):
        table = point_table(base, point, source)
        try:
            device = device_from_mapping(table, source)
        except ConfigError as error:
            where = ", ".join(f"{k}={v}" for k, v in point.items())
            raise ConfigError(
                source, f"{error.key} (sweep point {index}: {where})", error.expected
            ) from None
        devices.append(device)
    first = devices[0]
    for name in ("transient", "dynamics"):
        if getattr(first, name) is not None:
            raise ConfigError(
                source,
                name,
                "expected no [" + name + "] in a swept device (a sweep solves steady transport)",
            )
    if first.physics.transport == "none":
        raise ConfigError(
            source, "physics.transport", 'expected "ohmic" or "charge_valley" for a sweep'
        )
    return points, devices
