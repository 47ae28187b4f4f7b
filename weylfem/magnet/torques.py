"""Spin torques that are not derivatives of an energy (docs/theory.md Sec. 3, "Spin torques").

Each term gives T(m) (1/s), added to the Gilbert equation

    dm/dt = -gamma m x B_eff + alpha m x dm/dt + T.

The driving current density J (A/m^2) or electric field E (V/m) is a constant 3-vector,
a UFL expression or a Function (for instance from a transport solution), optionally
scaled in time by a waveform f(t).  Torques are taken at the start of each step.

Sign conventions (e > 0 is the elementary charge, J the charge current density):

- Zhang-Li (KLLS Eq. 6):  T = -(u.grad)m + beta_nad m x (u.grad)m,
  u = P g mu_B J / (2 e M_s).  A rigid wall profile m(x - v t) then moves with v = u
  when beta_nad = alpha, so for P > 0 walls move along J.  Electrons carry the spin
  current against J, so a metal whose current is carried by majority electrons has P < 0.
- Electric-field intrinsic torque (KLLS Eq. 6, last term):  T = -c_E m x (E.grad)m.
- Spin-orbit torques (DIS Sec. 2.1):  T = -gamma B_FL m x p - gamma B_DL m x (m x p),
  linear in the signed current: B p = xi s with s = (J.j) p for a fixed unit spin direction p
  that belongs to current along the unit axis j, or s = n x J for a heavy-metal interface of
  normal n (p = n x J/|J| follows the current).  Reversing J reverses both torques, and a sine
  drive gives a torque that alternates with it.

A torque is one class: registered in `TORQUES` (`@TORQUES.register`), it declares its
device-file table [torques.NAME] as its nested dataclass `Input` (keys, types, defaults,
checks, read and checked by the config layer) and is built from it and the magnet's
coefficients by `from_input`, whose default passes the table's keys as keyword
arguments (a `DriveWaveform` table's waveform as `waveform`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import ufl
from dolfinx import fem

from weylfem.constants import BOHR_MAGNETON, ELEMENTARY_CHARGE
from weylfem.device import TORQUES, DriveWaveform, Vector
from weylfem.magnet.coefficients import MagnetCoefficients
from weylfem.magnet.energy import gradient3, vector_input
from weylfem.schema import check, nonzero_direction


class TorqueTerm:
    """A torque T(m) (1/s) that is not the derivative of an energy.  A registered
    subclass also sets `Input`, the dataclass of its [torques.NAME] table."""

    name: str = ""
    Input: ClassVar[type]

    def torque(self, m) -> ufl.core.expr.Expr:
        """T(m) in 1/s."""
        raise NotImplementedError

    def set_time(self, time_s: float) -> None:
        """Evaluate time-dependent drives at `time_s`; undriven torques: nothing."""

    @classmethod
    def from_input(cls, given: Any, coefficients: MagnetCoefficients) -> TorqueTerm:
        """The torque of its table `given` (an `Input`) on the magnet's `coefficients`."""
        return cls(coefficients, **_arguments(given))


def _arguments(given: Any) -> dict[str, Any]:
    """The keys of a table as keyword arguments; a drive's waveform fields as `waveform`."""
    drive = isinstance(given, DriveWaveform)
    skipped = {f.name for f in dataclasses.fields(DriveWaveform)} if drive else set()
    fields = [f.name for f in dataclasses.fields(given) if f.name not in skipped]
    values = {name: getattr(given, name) for name in fields}
    return {**values, "waveform": given.drive_scale} if drive else values


class DrivenTorque(TorqueTerm):
    """A torque driven by a current density or field that may vary in time."""

    def __init__(self, mesh, drive, waveform: Callable[[float], float] | None = None):
        self.scale = fem.Constant(mesh, 1.0)
        self.drive = self.scale * vector_input(mesh, drive)
        self.waveform = waveform

    def set_time(self, time_s: float) -> None:
        """Scale the drive by the waveform at `time_s`."""
        if self.waveform is not None:
            self.scale.value = float(self.waveform(time_s))


def _directional(m, direction) -> ufl.core.expr.Expr:
    """(direction . grad) m as a 3-vector."""
    return ufl.dot(gradient3(m), direction)


def _polarization(value: float) -> str | None:
    return None if -1.0 <= value <= 1.0 else "expected a number in [-1, 1]"


@TORQUES.register
class ZhangLiTorque(DrivenTorque):
    """Adiabatic and non-adiabatic spin-transfer torque of a current density J."""

    name = "zhang_li"

    @dataclass(frozen=True)
    class Input(DriveWaveform):
        """[torques.zhang_li]: Zhang-Li spin-transfer torque of a uniform current density
        J w(t): adiabatic -(u.grad)m and non-adiabatic beta m x (u.grad)m,
        u = P g mu_B J / (2 e M_s)."""

        current_density_A_per_m2: Vector
        polarization: float = check(_polarization)
        """P (> 0: walls move along J)"""
        nonadiabatic_beta: float = 0.0

    def __init__(
        self,
        coefficients: MagnetCoefficients,
        current_density_A_per_m2,
        polarization: float,
        nonadiabatic_beta: float,
        g_factor: float = 2.0,
        waveform: Callable[[float], float] | None = None,
    ):
        saturation = coefficients.saturation_magnetization
        super().__init__(saturation.function_space.mesh, current_density_A_per_m2, waveform)
        prefactor = polarization * g_factor * BOHR_MAGNETON / (2 * ELEMENTARY_CHARGE)
        self.velocity = prefactor * self.drive * coefficients.inverse_saturation()
        self.beta = nonadiabatic_beta

    def torque(self, m):
        advection = _directional(m, self.velocity)
        return -advection + self.beta * ufl.cross(m, advection)


@TORQUES.register
class SpinOrbitTorque(DrivenTorque):
    """Field-like and damping-like spin-orbit torques, linear in the signed current."""

    name = "spin_orbit"

    @dataclass(frozen=True)
    class Input(DriveWaveform):
        """[torques.spin_orbit]: spin-orbit torques of a current density J w(t),
        -gamma xi_FL m x s - gamma xi_DL m x (m x s), with s = (J.j) p for a fixed spin
        direction p (j: `current_axis`, by default the direction of the given J) or
        s = n x J for a heavy-metal interface of normal n (then p = n x J/|J| follows the
        current).  Linear in J: reversing the current reverses both torques."""

        current_density_A_per_m2: Vector
        spin_direction: Vector | None = check(nonzero_direction, default=None)
        """p, the spin direction for current along `current_axis`"""
        interface_normal: Vector | None = check(nonzero_direction, default=None)
        """n, the normal of a heavy-metal interface: p = n x J/|J|"""
        current_axis: Vector | None = check(nonzero_direction, default=None)
        """j, the current direction p belongs to (default: that of current_density_A_per_m2)"""
        field_like_T_per_A_m2: float = 0.0
        """xi_FL (T per A/m^2)"""
        damping_like_T_per_A_m2: float = 0.0
        """xi_DL (T per A/m^2)"""

        def validate(self):
            """The waveform's keys; exactly one of spin_direction and interface_normal."""
            yield from super().validate()
            if (self.spin_direction is None) == (self.interface_normal is None):
                yield (
                    "spin_direction",
                    "expected exactly one of spin_direction and interface_normal",
                )
            if self.current_axis is not None and self.spin_direction is None:
                yield (
                    "current_axis",
                    "expected only with spin_direction (with interface_normal p follows J)",
                )

    def __init__(
        self,
        coefficients: MagnetCoefficients,
        current_density_A_per_m2,
        spin_direction=None,
        field_like_T_per_A_m2: float = 0.0,
        damping_like_T_per_A_m2: float = 0.0,
        *,
        interface_normal=None,
        current_axis=None,
        waveform: Callable[[float], float] | None = None,
    ):
        mesh = coefficients.saturation_magnetization.function_space.mesh
        super().__init__(mesh, current_density_A_per_m2, waveform)
        self.gamma = coefficients.gyromagnetic_ratio
        self.field_like = field_like_T_per_A_m2
        self.damping_like = damping_like_T_per_A_m2
        self.spin_current = _spin_current(
            mesh,
            self.drive,
            current_density_A_per_m2,
            spin_direction,
            interface_normal,
            current_axis,
        )
        """s (A/m^2): B_FL,DL p = xi_FL,DL s, linear in the signed drive"""

    def torque(self, m):
        m_x_s = ufl.cross(m, self.spin_current)
        return -self.gamma * (self.field_like * m_x_s + self.damping_like * ufl.cross(m, m_x_s))


def _unit(mesh, direction) -> ufl.core.expr.Expr:
    vector = vector_input(mesh, direction)
    return vector / ufl.sqrt(ufl.dot(vector, vector))


def _spin_current(mesh, drive, given_current, spin_direction, interface_normal, current_axis):
    """s with B p = xi s: (J.j) p for a fixed p, n x J for an interface normal n."""
    if (spin_direction is None) == (interface_normal is None):
        raise ValueError("expected exactly one of spin_direction and interface_normal")
    if interface_normal is not None:
        if current_axis is not None:
            raise ValueError(
                "current_axis goes with spin_direction; with interface_normal p = n x J"
            )
        return ufl.cross(_unit(mesh, interface_normal), drive)
    if current_axis is None:
        if not isinstance(given_current, tuple | list) or not any(given_current):
            raise ValueError(
                "a spin_direction needs current_axis unless the current density is a nonzero"
                " constant vector (whose direction is then the axis)"
            )
        current_axis = given_current
    return ufl.dot(drive, _unit(mesh, current_axis)) * _unit(mesh, spin_direction)


@TORQUES.register
class FieldInducedTorque(DrivenTorque):
    """KLLS intrinsic non-adiabatic torque -c_E m x (E.grad)m of an electric field E."""

    name = "field_induced"

    @dataclass(frozen=True)
    class Input(DriveWaveform):
        """[torques.field_induced]: intrinsic torque -c_E m x (E.grad)m of a uniform
        electric field E w(t)."""

        electric_field_V_per_m: Vector
        coefficient_m2_per_V_s: float
        """c_E (m^2/(V s))"""

    def __init__(
        self,
        coefficients: MagnetCoefficients,
        electric_field_V_per_m,
        coefficient_m2_per_V_s: float,
        waveform: Callable[[float], float] | None = None,
    ):
        mesh = coefficients.saturation_magnetization.function_space.mesh
        super().__init__(mesh, electric_field_V_per_m, waveform)
        self.coefficient = coefficient_m2_per_V_s

    def torque(self, m):
        return -self.coefficient * ufl.cross(m, _directional(m, self.drive))
