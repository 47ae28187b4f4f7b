"""The device description: plain dataclasses, SI units stated in the key names.

A `Device` is what a TOML file (see `weylfem init`) or Python code describes:
geometry, regions with materials, contacts, interfaces and valley-relaxing walls,
applied fields, physics model, solver options and outputs.  It holds no DOLFINx
objects; `weylfem.transport` turns it into them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from weylfem.geometry import Geometry
from weylfem.materials import Material
from weylfem.schema import check, non_negative, positive

PetscOptionValue = str | int | float | bool


Vector = tuple[float, float, float]


def _unit_or_none(value: Vector | None) -> str | None:
    if value is None or any(value):
        return None
    return "expected a nonzero direction"


@dataclass(frozen=True)
class Region:
    """A conducting region (a cell group of the mesh), its material and local fields.

    `magnetization_direction` (normalised on use) switches on the anomalous Hall term
    theta m x grad(phi_c) of a magnetic material; None means no net magnetization.
    `magnetic_field_T` overrides the device-wide field inside this region.
    """

    material: str
    magnetization_direction: Vector | None = check(_unit_or_none, default=None)
    magnetic_field_T: Vector | None = None


@dataclass(frozen=True)
class Contact:
    """An ohmic contact (a facet group): voltage-driven, current-driven or a floating probe.

    Give exactly one of `voltage_V`, `current_A` (into the device) or `floating = true`
    (a voltmeter: zero net current, uniform unknown potential).  The valley potential
    is held at 0 (metals relax valley) unless `valley_conductance_S_per_m2` is given,
    which makes the contact a Robin valley boundary J_v.n = G_v phi_v.
    """

    voltage_V: float | None = None
    current_A: float | None = None
    floating: bool = False
    valley_conductance_S_per_m2: float | None = check(non_negative, default=None)

    @property
    def drive(self) -> Literal["voltage", "current"]:
        """'voltage' for a voltage-driven contact, 'current' for current-driven and floating."""
        return "voltage" if self.voltage_V is not None else "current"

    @property
    def set_current_A(self) -> float:
        """The imposed net current into the device (0 for a floating probe)."""
        return 0.0 if self.floating else float(self.current_A or 0.0)

    def validate(self):
        """Exactly one drive (yields key, message)."""
        given = [self.voltage_V is not None, self.current_A is not None, self.floating]
        if sum(given) != 1:
            yield "voltage_V", "expected exactly one of voltage_V, current_A or floating = true"


@dataclass(frozen=True)
class FourProbe:
    """A four-terminal resistance R = (V_plus - V_minus) / I, the current I entering
    through `current[0]` and leaving through `current[1]`, voltages read at `voltage`."""

    current: tuple[str, str]
    voltage: tuple[str, str]


@dataclass(frozen=True)
class Interface:
    """An internal interface (a facet group between regions) that relaxes valley imbalance."""

    valley_conductance_S_per_m2: float = check(non_negative, default=0.0)


@dataclass(frozen=True)
class Wall:
    """An outer surface (a facet group) that relaxes valley imbalance (Robin condition)."""

    valley_conductance_S_per_m2: float = check(non_negative, default=0.0)


@dataclass(frozen=True)
class Fields:
    """Applied fields: uniform, overridden per region, or sampled from files.

    A field file is a NumPy ``.npz`` with the grid axes ``x``, ``y`` (and ``z`` in 3D)
    in metres and the samples ``values`` of shape (len(x), len(y)[, len(z)], 3);
    weylfem interpolates it (multilinear) at the mesh nodes.  Relative paths are read
    from the directory of the device file.  A file replaces the uniform and per-region
    values of its field.
    """

    magnetic_field_T: Vector = (0.0, 0.0, 0.0)
    magnetic_field_file: str | None = None
    magnetization_file: str | None = None


@dataclass(frozen=True)
class Physics:
    """Which transport model to solve."""

    transport: Literal["ohmic", "charge_valley"] = "ohmic"
    """ohmic: phi_c with ohmic and anomalous Hall currents; charge_valley: phi_c and
    phi_v coupled by the chiral anomaly and the chiral magnetic effect (model.md Sec. 2)"""
    element_degree: Literal[1, 2, 3] = 1


@dataclass(frozen=True)
class SolverOptions:
    """Linear solver choice; `petsc_options` override the defaults (without prefix)."""

    kind: Literal["auto", "direct", "iterative"] = "auto"
    direct_max_dofs: int = 200_000
    rtol: float = 1e-10
    petsc_options: dict[str, PetscOptionValue] = field(default_factory=dict)

    def validate(self):
        """Cross-field checks (yields key, message)."""
        if not 0 < self.rtol < 1:
            yield "rtol", "expected a number in (0, 1)"
        if self.direct_max_dofs < 0:
            yield "direct_max_dofs", "expected an integer >= 0"


@dataclass(frozen=True)
class OutputOptions:
    """What `weylfem run` writes besides results.json."""

    fields_xdmf: bool = True
    png: bool = True


@dataclass(frozen=True)
class Transient:
    """Time stepping of the valley balance, e^2 N d(phi_v)/dt, under a time-dependent drive.

    Every driven contact's set value (voltage_V or current_A) is multiplied by the
    waveform w(t): ``step`` (1 for t >= 0), ``sine`` (sin 2 pi f t), ``pulse`` (1 for
    0 <= t <= pulse_width_s, then 0).  The device starts from phi_v = 0 with the charge
    balance satisfied for the drive switched on at t = 0 (a consistent start).  The
    theta-scheme weights the valley balance (theta = 1: backward Euler, first order and
    L-stable, the safe choice for steps and pulses; theta = 1/2: Crank-Nicolson, second
    order, for smooth drives); the quasi-neutral charge balance is imposed at every step.
    """

    end_time_s: float = check(positive)
    time_step_s: float = check(positive)
    theta: float = 1.0
    waveform: Literal["step", "sine", "pulse"] = "step"
    frequency_Hz: float | None = check(positive, default=None)
    pulse_width_s: float | None = check(positive, default=None)
    snapshot_every: int = check(positive, default=10)
    """write the fields every this many steps (and at the end)"""

    def drive_scale(self, time: float) -> float:
        """w(t), the factor on every contact drive at `time`."""
        if self.waveform == "sine":
            return math.sin(2 * math.pi * self.frequency_Hz * time)
        if self.waveform == "pulse":
            return 1.0 if time <= self.pulse_width_s else 0.0
        return 1.0

    def steps(self) -> int:
        """Number of time steps of time_step_s to reach end_time_s (or just pass it)."""
        return max(1, math.ceil(self.end_time_s / self.time_step_s - 1e-9))

    def validate(self):
        """Cross-field checks (yields key, message)."""
        if not 0.5 <= self.theta <= 1.0:
            yield "theta", "expected a number in [0.5, 1]"
        if self.waveform == "sine" and self.frequency_Hz is None:
            yield "frequency_Hz", "expected a value for the sine waveform"
        if self.waveform == "pulse" and self.pulse_width_s is None:
            yield "pulse_width_s", "expected a value for the pulse waveform"
        if self.time_step_s > self.end_time_s:
            yield "time_step_s", f"expected at most end_time_s ({self.end_time_s})"


@dataclass(frozen=True)
class Device:
    """A complete device description."""

    geometry: Geometry
    regions: dict[str, Region]
    contacts: dict[str, Contact]
    name: str = "device"
    description: str = ""
    materials: dict[str, Material] = field(default_factory=dict)
    """Materials by name: the library ones used by regions plus user-defined ones."""
    interfaces: dict[str, Interface] = field(default_factory=dict)
    walls: dict[str, Wall] = field(default_factory=dict)
    four_probe: dict[str, FourProbe] = field(default_factory=dict)
    """Named four-terminal (nonlocal) resistances to report"""
    fields: Fields = field(default_factory=Fields)
    physics: Physics = field(default_factory=Physics)
    solver: SolverOptions = field(default_factory=SolverOptions)
    output: OutputOptions = field(default_factory=OutputOptions)
    transient: Transient | None = None
    """time-dependent run (None: steady state)"""

    def material_of(self, region: str) -> Material:
        """The material of a region."""
        return self.materials[self.regions[region].material]
