"""Micromagnetic energy terms (docs/theory.md Sec. 3, "Energy terms and fields"), each a
small class owning its density.

The magnetic energy is E[m] = sum over terms of the integral of a density over the
magnetic cells.  A term gives its density (J/m^3) as UFL; its first variation dE[m; v]
and, for terms stepped implicitly, its second variation come from `ufl.derivative`, so
the natural boundary condition of every term (2A dm/dn = D (n x z) x m for interfacial
DMI next to exchange, ...) is part of the weak form without being written out.  The
effective field is B_eff = -(1/M_s) dE/dm.  Terms whose field is not the derivative of a
local density (demagnetization) override `variation`.

m is a 3-vector in every mesh dimension; derivatives along axes the mesh lacks are zero
(a 1D or 2D mesh is a magnet uniform along the missing axes).

A term that a material parameter switches on declares it with `@switched_on_by(PARAMETER)`
(a `Material` field): the device's problem has the term when some magnetic material has a
nonzero value (`OPTIONAL_TERMS`, read by `weylfem.magnet.setup`), and its coefficient is
`MagnetCoefficients.parameter(PARAMETER)`, the DG0 function built from the regions'
materials.  A new term is that class plus its `Material` field (tests/test_term_registry.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

import ufl
from dolfinx import fem

from weylfem import compat
from weylfem.constants import VACUUM_PERMEABILITY
from weylfem.magnet.coefficients import MagnetCoefficients


def gradient3(field) -> ufl.core.expr.Expr:
    """The 3x3 (vector field) or 3-vector (scalar) gradient, zero along missing axes."""
    gdim = compat.geometric_dimension(ufl.domain.extract_unique_domain(field))
    if len(field.ufl_shape) == 0:
        return ufl.as_vector([field.dx(j) if j < gdim else 0 for j in range(3)])
    return ufl.as_matrix([[field[i].dx(j) if j < gdim else 0 for j in range(3)] for i in range(3)])


class EnergyTerm:
    """One contribution to the magnetic energy; subclasses give `density`."""

    name: str = ""
    material_parameter: ClassVar[str | None] = None
    """the Material field whose nonzero value switches the term on (`switched_on_by`)"""
    implicit: bool = False
    """True: the tangent-plane step takes this term's field at m + theta k v (its second
    variation enters the matrix); False: at m (explicit)."""
    field_dependence: ClassVar[str] = "general"
    """How the energy depends on m, for `weylfem.magnet.field_operator`: "quadratic" (the
    weak field -dE[m; .] is a constant matrix times m), "linear" (the weak field does not
    depend on m; it is affine in the `time_scales` constants and constant otherwise) or
    "general" (assembled at every evaluation).  A term with `add_weak_field` (nonlocal)
    provides its weak field itself, whatever this says."""

    def density(self, m) -> ufl.core.expr.Expr:
        """Energy density (J/m^3) at magnetization direction m."""
        raise NotImplementedError

    def variation(self, m, test, dx: ufl.Measure) -> ufl.Form:
        """dE[m; test]: the first variation, whose negative is the weak M_s B_eff."""
        return ufl.derivative(self.density(m) * dx, m, test)

    def update(self, m: fem.Function) -> None:
        """Bring state that depends on m up to date (a potential solve); local terms: nothing."""

    def set_time(self, time_s: float) -> None:
        """Evaluate time-dependent inputs at `time_s`; static terms: nothing."""

    def time_scales(self) -> tuple[fem.Constant, ...]:
        """The constants through which `set_time` changes a "linear" term's weak field
        (which is affine in each of them); static terms: none."""
        return ()

    def induction(self, m) -> ufl.core.expr.Expr | None:
        """The magnetic induction (T) this term's field adds where the carriers are, beside
        the magnetization's own mu_0 M_s m (the demagnetizing mu_0 H_d), or None."""
        return None

    def state(self) -> fem.Function | None:
        """The field a checkpoint keeps for this term (a P1 scalar, such as a potential
        whose last value starts the next solve), or None: a term without state."""
        return None


class SolvedDemagnetization(EnergyTerm):
    """A demagnetizing field B_d that `update` computes from m (a potential solve, an FFT
    convolution) and `field` returns; subclasses set `saturation` (and `indicator`, the
    DG0 magnet indicator, when `stray_field` is False).  The energy -(mu_0/2) int M_s m . H_d
    is quadratic in m, so its first variation is -int M_s B_d . v, twice the derivative of
    the density with B_d held fixed: `variation` is overridden."""

    name = "demagnetization"
    implicit = False
    stray_field: ClassVar[bool] = True
    """False: the method gives B_d in the magnet only (`induction` is zero outside it)"""

    def field(self) -> ufl.core.expr.Expr:
        """B_d = mu_0 H_d (T, 3-vector) from the last update."""
        raise NotImplementedError

    def induction(self, m):
        """mu_0 H_d: in the magnet and around it, or in the magnet alone."""
        return self.field() if self.stray_field else self.indicator * self.field()

    def density(self, m):
        return 0.5 * self.saturation * ufl.dot(m, -self.field())

    def variation(self, m, test, dx):
        return -self.saturation * ufl.dot(self.field(), test) * dx


Term = TypeVar("Term", bound=type[EnergyTerm])

OPTIONAL_TERMS: list[type[EnergyTerm]] = []
"""Terms switched on by a material parameter, in the order they join the energy."""


def switched_on_by(parameter: str) -> Callable[[Term], Term]:
    """Class decorator: the term joins a device's energy where some magnetic material has
    a nonzero `parameter`; it is built from the magnet's coefficients alone."""

    def register(term: Term) -> Term:
        term.material_parameter = parameter
        OPTIONAL_TERMS.append(term)
        return term

    return register


class Exchange(EnergyTerm):
    """A |grad m|^2."""

    name = "exchange"
    field_dependence = "quadratic"
    implicit = True

    def __init__(self, coefficients: MagnetCoefficients):
        self.stiffness = coefficients.exchange

    def density(self, m):
        g = gradient3(m)
        return self.stiffness * ufl.inner(g, g)


@switched_on_by("uniaxial_anisotropy_J_per_m3")
class UniaxialAnisotropy(EnergyTerm):
    """-K_u (m.u)^2 with a unit easy axis u per region (K_u > 0: easy axis)."""

    name = "uniaxial_anisotropy"
    field_dependence = "quadratic"

    def __init__(self, coefficients: MagnetCoefficients):
        self.constant = coefficients.parameter(self.material_parameter)
        self.axis = coefficients.anisotropy_axis

    def density(self, m):
        return -self.constant * ufl.dot(m, self.axis) ** 2


@switched_on_by("cubic_anisotropy_J_per_m3")
class CubicAnisotropy(EnergyTerm):
    """K_c (m_x^2 m_y^2 + m_y^2 m_z^2 + m_z^2 m_x^2) in the crystal (= mesh) axes."""

    name = "cubic_anisotropy"

    def __init__(self, coefficients: MagnetCoefficients):
        self.constant = coefficients.parameter(self.material_parameter)

    def density(self, m):
        x2, y2, z2 = m[0] ** 2, m[1] ** 2, m[2] ** 2
        return self.constant * (x2 * y2 + y2 * z2 + z2 * x2)


class Zeeman(EnergyTerm):
    """-M_s B_ext.m with B_ext(t) = B_static + waveform(t) B_amplitude."""

    name = "zeeman"
    field_dependence = "linear"

    def __init__(
        self,
        coefficients: MagnetCoefficients,
        static_field_T,
        amplitude_T=None,
        waveform=None,
    ):
        mesh = coefficients.saturation_magnetization.function_space.mesh
        self.saturation = coefficients.saturation_magnetization
        self.static = vector_input(mesh, static_field_T)
        self.amplitude = None if amplitude_T is None else vector_input(mesh, amplitude_T)
        self.waveform = waveform
        self.scale = fem.Constant(mesh, 0.0)
        if (amplitude_T is None) != (waveform is None):
            raise ValueError("a time-dependent field needs both amplitude_T and waveform")

    def field(self) -> ufl.core.expr.Expr:
        """B_ext (T) at the time last set."""
        pulse = self.pulse()
        return self.static if pulse is None else self.static + pulse

    def pulse(self) -> ufl.core.expr.Expr | None:
        """The time-dependent part waveform(t) B_amplitude (T) at the time last set, or None."""
        return None if self.amplitude is None else self.scale * self.amplitude

    def density(self, m):
        return -self.saturation * ufl.dot(self.field(), m)

    def set_time(self, time_s: float) -> None:
        if self.waveform is not None:
            self.scale.value = float(self.waveform(time_s))

    def time_scales(self) -> tuple[fem.Constant, ...]:
        """waveform(t), the scale of the time-dependent part (none without one)."""
        return () if self.amplitude is None else (self.scale,)


class WeylOrbitalZeeman(EnergyTerm):
    """-M_W B_ext.m, M_W = sigma_AH mu_F / e: the energy of the Weyl electrons' orbital
    magnetization M_W m in the applied field (TS Eqs. 10, 11, 18), whose field is the
    equilibrium field B_eq = (sigma_AH mu_F / (e M_s)) B_ext (docs/theory.md §3).  It shares
    the Zeeman term's field, static and time-dependent."""

    name = "weyl_orbital_zeeman"
    material_parameter = "orbital_magnetization_A_per_m"
    field_dependence = "linear"

    def __init__(self, coefficients: MagnetCoefficients, zeeman: Zeeman):
        self.orbital = coefficients.parameter(self.material_parameter)
        self.zeeman = zeeman

    def density(self, m):
        return -self.orbital * ufl.dot(self.zeeman.field(), m)

    def time_scales(self) -> tuple[fem.Constant, ...]:
        """The Zeeman term's: the same applied field."""
        return self.zeeman.time_scales()


@switched_on_by("interfacial_dmi_J_per_m2")
class InterfacialDMI(EnergyTerm):
    """D_i [m_z div m - (m.grad) m_z], the interface normal along z."""

    name = "interfacial_dmi"
    field_dependence = "quadratic"

    def __init__(self, coefficients: MagnetCoefficients):
        self.constant = coefficients.parameter(self.material_parameter)

    def density(self, m):
        g = gradient3(m)
        divergence = g[0, 0] + g[1, 1] + g[2, 2]
        along_m = m[0] * g[2, 0] + m[1] * g[2, 1] + m[2] * g[2, 2]
        return self.constant * (m[2] * divergence - along_m)


@switched_on_by("bulk_dmi_J_per_m2")
class BulkDMI(EnergyTerm):
    """D_b m.(curl m)."""

    name = "bulk_dmi"
    field_dependence = "quadratic"

    def __init__(self, coefficients: MagnetCoefficients):
        self.constant = coefficients.parameter(self.material_parameter)

    def density(self, m):
        g = gradient3(m)
        curl = ufl.as_vector([g[2, 1] - g[1, 2], g[0, 2] - g[2, 0], g[1, 0] - g[0, 1]])
        return self.constant * ufl.dot(m, curl)


class ThinFilmDemagnetization(EnergyTerm):
    """Local thin-film demagnetization (mu_0 M_s^2 / 2)(m.n)^2, n the film normal: the
    exact demagnetizing energy of an infinite film, a cheap approximation for thin ones."""

    name = "demagnetization"
    field_dependence = "quadratic"

    def __init__(self, coefficients: MagnetCoefficients, normal=(0.0, 0.0, 1.0)):
        mesh = coefficients.saturation_magnetization.function_space.mesh
        self.saturation = coefficients.saturation_magnetization
        self.normal = vector_input(mesh, normal)

    def density(self, m):
        return 0.5 * VACUUM_PERMEABILITY * self.saturation**2 * ufl.dot(m, self.normal) ** 2

    def induction(self, m):
        """mu_0 H_d = -mu_0 M_s (m.n) n inside the film (zero outside, where M_s = 0)."""
        return -VACUUM_PERMEABILITY * self.saturation * ufl.dot(m, self.normal) * self.normal


def vector_input(mesh, value) -> ufl.core.expr.Expr:
    """A constant 3-vector, or a given UFL expression / Function unchanged."""
    if isinstance(value, tuple | list):
        return fem.Constant(mesh, tuple(float(v) for v in value))
    return value
