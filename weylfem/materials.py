"""Material parameters, the quantities the model derives from them, and a small library.

A `Material` holds the inputs of the model (docs/theory.md §1): SI units, stated
in every field name, except the Fermi energy in eV.  None means "not applicable to this material"
(a non-magnetic Weyl semimetal has no M_s, permalloy has no Weyl nodes).  The derived quantities
of docs/theory.md §1-3 are properties that return None when an input they need is missing:

    N      = pairs mu_F^2 / (pi^2 hbar^3 v_F^3)          density of states, both valleys
    sigma_v = the valley conductivity (default sigma)    the Weyl carriers' conductivity
    D      = sigma_v / (e^2 N),  lambda_v = sqrt(D tau_v)  Einstein relation, valley length
    sigma_AH = given, or s_H hall_pairs e^2 k0 / (2 pi^2 hbar),  theta = sigma_AH / sigma
    eta    = given, or sign * e sqrt(alpha_p M_s / (gamma sigma_v)), or hbar k0, where k0
             (signed: the + node's shift along m) defaults to the band model's value for sigma_AH
    Gamma  = pairs c_a e^3 / (2 pi^2 hbar^2)              anomaly / chiral-magnetic coefficient
    dsigma/B^2 = Gamma^2 tau_v / (e^2 N)                  Son-Spivak (SCM Eq. 96 times c_a^2)
    l_ex   = sqrt(2 A / (mu_0 M_s^2)),  alpha_p = (gamma / M_s) sigma_v (eta / e)^2

s_H = `HALL_SIGN_OF_NODE_SHIFT` is the relative sign of sigma_AH and eta that the band model
of docs/theory.md §1 ("Signs from one band model") gives.

`MATERIALS` is the library that device files name in `regions.*.material` (or use as `base`).
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from weylfem.constants import (
    BOHR_MAGNETON,
    ELECTRON_GYROMAGNETIC_RATIO,
    ELECTRON_VOLT,
    ELEMENTARY_CHARGE,
    HBAR,
    VACUUM_PERMEABILITY,
)
from weylfem.schema import (
    Check,
    check,
    finite,
    in_half_open_unit_interval,
    non_negative,
    nonzero,
    positive,
)


def _input(symbol: str, label: str, unit: str, constraint: Check | None, **kwargs: Any) -> Any:
    """A field, checked by `constraint` if given, carrying symbol, label and unit for reports."""
    metadata = {"symbol": symbol, "label": label, "unit": unit}
    if constraint is None:
        return dataclasses.field(metadata=metadata, **kwargs)
    return check(constraint, metadata=metadata, **kwargs)


CARRIER_SIGNS = {"hole": 1, "electron": -1}
"""The sign s of a carrier kind's charge q = s e."""


@dataclass(frozen=True, kw_only=True)
class Carrier:
    """One kind of carrier of the ordinary (Drude) magnetotransport (docs/theory.md §2,
    "Ordinary magnetotransport"): its share of the conductivity, its mobility and the
    sign of its charge."""

    mobility_m2_per_Vs: float = check(non_negative)
    """mu >= 0 (m^2/(V s)); 0 gives an isotropic, field-independent share"""
    charge: Literal["electron", "hole"]
    conductivity_S_per_m: float | None = check(positive, default=None)
    """sigma_i (S/m); may be omitted for the only carrier kind (it then carries all of sigma)"""

    @property
    def sign(self) -> int:
        """s = +1 for holes, -1 for electrons."""
        return CARRIER_SIGNS[self.charge]

    @property
    def signed_mobility_m2_per_Vs(self) -> float:
        """s mu (m^2/(V s)): the Hall mobility, with the sign of the charge."""
        return self.sign * self.mobility_m2_per_Vs


@dataclass(frozen=True, kw_only=True)
class Material:
    """Parameters of one conducting material (SI; Fermi energy in eV; None: not applicable)."""

    name: str
    description: str = ""
    sources: tuple[str, ...] = ()
    """Full literature references for the numbers, each saying which numbers it supports."""

    conductivity_S_per_m: float = _input("sigma", "conductivity", "S/m", positive)
    fermi_velocity_m_per_s: float | None = _input(
        "v_F", "Fermi velocity", "m/s", positive, default=None
    )
    fermi_energy_eV: float | None = _input(
        "mu_F", "Fermi energy from the nodes (> 0 electron-like)", "eV", nonzero, default=None
    )
    valley_conductivity_S_per_m: float | None = _input(
        "sigma_v", "valley conductivity (Weyl carriers)", "S/m", positive, default=None
    )
    weyl_node_pairs: int = _input("pairs", "Weyl node pairs", "", non_negative, default=0)
    node_half_separation_per_m: float | None = _input(
        "k0", "shift of the + node along m (signed)", "1/m", finite, default=None
    )
    hall_node_pairs: int = _input(
        "hall_pairs", "node pairs adding to the anomalous Hall effect", "", non_negative, default=0
    )
    anomalous_hall_conductivity_S_per_m: float | None = _input(
        "sigma_AH", "anomalous Hall conductivity (signed)", "S/m", finite, default=None
    )
    valley_coupling_J_s_per_m: float | None = _input(
        "eta", "valley-magnet coupling (signed)", "J s/m", finite, default=None
    )
    pumping_damping: float | None = _input(
        "alpha_p", "Gilbert damping from valley pumping", "", non_negative, default=None
    )
    valley_relaxation_time_s: float | None = _input(
        "tau_v", "valley (intervalley) relaxation time", "s", positive, default=None
    )
    anomaly_efficiency: float | None = _input(
        "c_a", "chiral-anomaly efficiency", "", in_half_open_unit_interval, default=None
    )
    saturation_magnetization_A_per_m: float | None = _input(
        "M_s", "saturation magnetization", "A/m", positive, default=None
    )
    exchange_stiffness_J_per_m: float | None = _input(
        "A", "exchange stiffness", "J/m", positive, default=None
    )
    uniaxial_anisotropy_J_per_m3: float | None = _input(
        "K_u", "uniaxial anisotropy (> 0: easy axis)", "J/m^3", None, default=None
    )
    cubic_anisotropy_J_per_m3: float | None = _input(
        "K_c", "cubic anisotropy (either sign)", "J/m^3", None, default=None
    )
    interfacial_dmi_J_per_m2: float | None = _input(
        "D_i", "interfacial DMI (interface normal z)", "J/m^2", None, default=None
    )
    bulk_dmi_J_per_m2: float | None = _input("D_b", "bulk DMI", "J/m^2", None, default=None)
    # Sublattice magnets (docs/theory.md §4): used by regions of magnetic_order
    # "antiferromagnet" or "triangular", whose every sublattice has M_s, A, K_u, alpha, gamma.
    interlattice_exchange_J_per_m3: float | None = _input(
        "lambda", "interlattice exchange (> 0: antiparallel)", "J/m^3", None, default=None
    )
    interlattice_exchange_stiffness_J_per_m: float | None = _input(
        "A_ij", "interlattice exchange stiffness", "J/m", None, default=None
    )
    interlattice_dmi_J_per_m3: float | None = _input(
        "D_h", "homogeneous interlattice DMI (vector along z)", "J/m^3", None, default=None
    )
    gilbert_damping: float | None = _input(
        "alpha", "Gilbert damping", "", non_negative, default=None
    )
    valley_torque_beta: float | None = _input(
        "beta", "damping-like valley-torque ratio", "", None, default=None
    )
    gyromagnetic_ratio_rad_per_s_T: float = _input(
        "gamma", "gyromagnetic ratio", "rad/(s T)", positive, default=ELECTRON_GYROMAGNETIC_RATIO
    )

    # Ordinary (Drude) magnetotransport: docs/theory.md §2, "Ordinary magnetotransport".
    carriers: tuple[Carrier, ...] = ()
    """Carrier kinds of the Drude tensor sigma(B); their conductivities add up to sigma.
    Empty (the default): sigma is isotropic and independent of B."""

    @property
    def carrier_conductivities_S_per_m(self) -> tuple[float, ...]:
        """sigma_i of every carrier kind (the only kind's omitted one is sigma)."""
        if len(self.carriers) == 1 and self.carriers[0].conductivity_S_per_m is None:
            return (self.conductivity_S_per_m,)
        return tuple(c.conductivity_S_per_m or 0.0 for c in self.carriers)

    @property
    def carrier_densities_per_m3(self) -> tuple[float | None, ...]:
        """n_i = sigma_i / (e mu_i) (m^-3; None for mu_i = 0)."""
        return tuple(
            sigma / (ELEMENTARY_CHARGE * c.mobility_m2_per_Vs) if c.mobility_m2_per_Vs else None
            for c, sigma in zip(self.carriers, self.carrier_conductivities_S_per_m, strict=True)
        )

    @property
    def ordinary_hall_coefficient_m3_per_C(self) -> float | None:
        """R_H(B -> 0) = sum_i s_i mu_i sigma_i / sigma^2 (m^3/C): +1/(n e) for holes alone,
        -1/(n e) for electrons alone; None without carriers."""
        if not self.carriers:
            return None
        sigmas = self.carrier_conductivities_S_per_m
        pairs = zip(self.carriers, sigmas, strict=True)
        hall = sum(c.signed_mobility_m2_per_Vs * s for c, s in pairs)
        return hall / sum(sigmas) ** 2

    def _validate_carriers(self) -> Iterator[tuple[str, str]]:
        """The carriers' conductivities are given for several kinds and add up to sigma."""
        if len(self.carriers) < 2 and not any(c.conductivity_S_per_m for c in self.carriers):
            return
        for i, carrier in enumerate(self.carriers):
            if carrier.conductivity_S_per_m is None:
                yield (
                    f"carriers[{i}].conductivity_S_per_m",
                    "expected a value when there are several carrier kinds, got none",
                )
                return
        total = sum(self.carrier_conductivities_S_per_m)
        if not math.isclose(total, self.conductivity_S_per_m, rel_tol=1e-6):
            yield (
                "carriers",
                f"expected conductivities adding up to conductivity_S_per_m"
                f" = {self.conductivity_S_per_m:.6g}, got a sum of {total:.6g}",
            )

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field problems as (field name, "expected ...") pairs."""
        yield from self._validate_carriers()
        band = self.fermi_velocity_m_per_s is not None and self.fermi_energy_eV is not None
        weyl = self.weyl_node_pairs > 0
        if self.fermi_velocity_m_per_s is not None and self.fermi_energy_eV is None:
            yield "fermi_energy_eV", "expected a value with fermi_velocity_m_per_s (N needs both)"
        if self.fermi_energy_eV is not None and self.fermi_velocity_m_per_s is None:
            yield "fermi_velocity_m_per_s", "expected a value with fermi_energy_eV (N needs both)"
        if band and not weyl:
            yield "weyl_node_pairs", "expected at least 1 when the Weyl band (v_F, mu_F) is given"
        if self.valley_relaxation_time_s is not None and not (band and weyl):
            yield (
                "valley_relaxation_time_s",
                "expected fermi_velocity_m_per_s, fermi_energy_eV and weyl_node_pairs >= 1 with it"
                " (lambda_v needs the density of states N)",
            )
        for name in ("anomaly_efficiency", "valley_conductivity_S_per_m"):
            if getattr(self, name) is not None and not weyl:
                yield name, "expected weyl_node_pairs >= 1 with it"
        sigma_v = self.valley_conductivity_S_per_m
        if sigma_v is not None and sigma_v > self.conductivity_S_per_m:
            yield (
                "valley_conductivity_S_per_m",
                f"expected at most conductivity_S_per_m = {self.conductivity_S_per_m:.4g}"
                " (the Weyl carriers are part of all carriers)",
            )
        if self.hall_node_pairs > self.weyl_node_pairs:
            yield "hall_node_pairs", f"expected at most weyl_node_pairs = {self.weyl_node_pairs}"
        if self.anomalous_hall_conductivity_S_per_m is not None and not weyl:
            yield "anomalous_hall_conductivity_S_per_m", "expected weyl_node_pairs >= 1 with it"
        if (
            self.hall_node_pairs > 0
            and self.node_half_separation_per_m is None
            and self.anomalous_hall_conductivity_S_per_m is None
        ):
            yield (
                "node_half_separation_per_m",
                "expected a value, or anomalous_hall_conductivity_S_per_m, when hall_node_pairs"
                " > 0 (sigma_AH needs one of them)",
            )
        k0, sigma_ah = self.node_half_separation_per_m, self.anomalous_hall_conductivity_S_per_m
        if k0 and sigma_ah and self.hall_node_pairs and k0 * sigma_ah * HALL_SIGN_OF_NODE_SHIFT < 0:
            yield (
                "node_half_separation_per_m",
                f"expected the sign the band model gives with anomalous_hall_conductivity_S_per_m"
                f" = {sigma_ah:.4g}, sign(k0) = {HALL_SIGN_OF_NODE_SHIFT} * sign(sigma_AH)"
                " (docs/theory.md §1, 'Signs from one band model')",
            )
        if self.saturation_magnetization_A_per_m is None:
            for name in _MAGNETIC_FIELDS:
                if getattr(self, name) is not None:
                    yield name, "expected saturation_magnetization_A_per_m with it"
        if self.valley_coupling_J_s_per_m is not None and self.pumping_damping is not None:
            yield "pumping_damping", "expected either it or valley_coupling_J_s_per_m, not both"
        if self.pumping_damping is not None and not weyl:
            yield "pumping_damping", "expected weyl_node_pairs >= 1 with it (alpha_p needs sigma_v)"
        elif self.pumping_damping and not self.node_shift_per_m:
            yield (
                "pumping_damping",
                "expected a nonzero anomalous_hall_conductivity_S_per_m or"
                " node_half_separation_per_m with it (they fix the sign of eta), or give"
                " valley_coupling_J_s_per_m instead",
            )
        if self.valley_torque_beta is not None and self.eta is None:
            yield (
                "valley_torque_beta",
                "expected valley_coupling_J_s_per_m, pumping_damping or node_half_separation_per_m"
                " with it (beta is relative to eta)",
            )

    @property
    def sigma_v(self) -> float:
        """sigma_v (S/m): the valley conductivity, that of the Weyl carriers; sigma by default."""
        given = self.valley_conductivity_S_per_m
        return self.conductivity_S_per_m if given is None else given

    @property
    def density_of_states_per_J_m3(self) -> float | None:
        """N = pairs mu_F^2 / (pi^2 hbar^3 v_F^3), both valleys (J^-1 m^-3)."""
        if self.fermi_velocity_m_per_s is None or self.fermi_energy_eV is None:
            return None
        if self.weyl_node_pairs == 0:
            return None
        mu = self.fermi_energy_eV * ELECTRON_VOLT
        v = self.fermi_velocity_m_per_s
        return self.weyl_node_pairs * mu**2 / (math.pi**2 * HBAR**3 * v**3)

    @property
    def diffusion_constant_m2_per_s(self) -> float | None:
        """D = sigma_v / (e^2 N) (m^2/s)."""
        n = self.density_of_states_per_J_m3
        if n is None:
            return None
        return self.sigma_v / (ELEMENTARY_CHARGE**2 * n)

    @property
    def valley_diffusion_length_m(self) -> float | None:
        """lambda_v = sqrt(D tau_v) (m), TS Eq. 31."""
        d = self.diffusion_constant_m2_per_s
        if d is None or self.valley_relaxation_time_s is None:
            return None
        return math.sqrt(d * self.valley_relaxation_time_s)

    @property
    def _hall_conductance_per_k0(self) -> float:
        """|sigma_AH| / |k0| of the band model, hall_pairs e^2 / (2 pi^2 hbar) (S)."""
        return self.hall_node_pairs * ELEMENTARY_CHARGE**2 / (2 * math.pi**2 * HBAR)

    @property
    def node_shift_per_m(self) -> float | None:
        """k0 (1/m, signed): the given one, else the band model's for the given sigma_AH,
        k0 = s_H sigma_AH 2 pi^2 hbar / (hall_pairs e^2); None without either."""
        if self.node_half_separation_per_m is not None:
            return self.node_half_separation_per_m
        sigma_ah = self.anomalous_hall_conductivity_S_per_m
        if sigma_ah is None or self.hall_node_pairs == 0:
            return None
        quantum = self._hall_conductance_per_k0
        return HALL_SIGN_OF_NODE_SHIFT * sigma_ah / quantum

    @property
    def sigma_ah(self) -> float | None:
        """sigma_AH (S/m, signed): the given one, else s_H hall_pairs e^2 k0 / (2 pi^2 hbar);
        0 for hall_pairs = 0.  None for a material without Weyl nodes (its Hall effect is
        outside the model)."""
        if self.weyl_node_pairs == 0:
            return None
        if self.anomalous_hall_conductivity_S_per_m is not None:
            return self.anomalous_hall_conductivity_S_per_m
        if self.hall_node_pairs == 0:
            return 0.0
        k0 = self.node_half_separation_per_m
        if k0 is None:
            return None
        quantum = self._hall_conductance_per_k0
        return HALL_SIGN_OF_NODE_SHIFT * quantum * k0

    @property
    def hall_angle(self) -> float | None:
        """theta = sigma_AH / sigma."""
        sigma_ah = self.sigma_ah
        if sigma_ah is None:
            return None
        return sigma_ah / self.conductivity_S_per_m

    @property
    def eta(self) -> float | None:
        """eta (J s/m, signed), the valley-magnet coupling (TS Eqs. 4, 6): the given one; else
        from alpha_p, |eta| = e sqrt(alpha_p M_s / (gamma sigma_v)) with the sign of k0; else
        hbar k0."""
        if self.valley_coupling_J_s_per_m is not None:
            return self.valley_coupling_J_s_per_m
        k0 = self.node_shift_per_m
        if self.pumping_damping is not None:
            ms = self.saturation_magnetization_A_per_m
            if ms is None or not k0:
                return None
            ratio = self.pumping_damping * ms / (self.gyromagnetic_ratio_rad_per_s_T * self.sigma_v)
            return math.copysign(ELEMENTARY_CHARGE * math.sqrt(ratio), k0)
        return None if k0 is None else HBAR * k0

    @property
    def orbital_magnetization_A_per_m(self) -> float | None:
        """M_W = sigma_AH mu_F / e (A/m, signed; mu_F in eV is mu_F / e in V): the Weyl
        electrons' orbital magnetization along m (Streda: dM/dmu = sigma_AH m / e, zero at the
        nodes), for magnetic materials; its energy -M_W m.B gives B_eq (docs/theory.md §3)."""
        sigma_ah = self.sigma_ah
        if not sigma_ah or self.fermi_energy_eV is None:
            return None
        if self.saturation_magnetization_A_per_m is None:
            return None
        return sigma_ah * self.fermi_energy_eV

    @property
    def anomaly_coefficient_A_per_m2_V_T(self) -> float | None:
        """Gamma = pairs c_a e^3 / (2 pi^2 hbar^2) (A m^-2 V^-1 T^-1)."""
        if self.anomaly_efficiency is None:
            return None
        return (
            self.weyl_node_pairs
            * self.anomaly_efficiency
            * ELEMENTARY_CHARGE**3
            / (2 * math.pi**2 * HBAR**2)
        )

    @property
    def son_spivak_coefficient_S_per_m_T2(self) -> float | None:
        """Delta sigma / B^2 = Gamma^2 tau_v / (e^2 N) (S m^-1 T^-2); E || B, L >> lambda_v."""
        gamma = self.anomaly_coefficient_A_per_m2_V_T
        n = self.density_of_states_per_J_m3
        if gamma is None or n is None or self.valley_relaxation_time_s is None:
            return None
        return gamma**2 * self.valley_relaxation_time_s / (ELEMENTARY_CHARGE**2 * n)

    @property
    def exchange_length_m(self) -> float | None:
        """l_ex = sqrt(2 A / (mu_0 M_s^2)) (m)."""
        ms = self.saturation_magnetization_A_per_m
        if ms is None or self.exchange_stiffness_J_per_m is None:
            return None
        return math.sqrt(2 * self.exchange_stiffness_J_per_m / (VACUUM_PERMEABILITY * ms**2))

    @property
    def alpha_p(self) -> float | None:
        """alpha_p = (gamma / M_s) sigma_v (eta / e)^2, the Gilbert damping valley pumping
        contributes: the magnet-valley model dissipates iff alpha >= alpha_p (docs/theory.md
        §3); coupled runs refuse a smaller alpha."""
        if self.pumping_damping is not None:
            return self.pumping_damping
        eta = self.eta
        ms = self.saturation_magnetization_A_per_m
        if eta is None or ms is None or self.weyl_node_pairs == 0:
            return None
        ratio = self.gyromagnetic_ratio_rad_per_s_T / ms
        return ratio * self.sigma_v * (eta / ELEMENTARY_CHARGE) ** 2


COUPLING_INPUTS = frozenset(
    ("valley_coupling_J_s_per_m", "pumping_damping", "node_half_separation_per_m")
)
"""Inputs that set eta: one given over a `base` material replaces the base's eta and alpha_p."""

HALL_INPUTS = frozenset(("node_half_separation_per_m", "hall_node_pairs"))
"""Band-model inputs of sigma_AH: one given over a `base` material (without a sigma_AH of its
own) replaces the base's sigma_AH by the band model's."""

_MAGNETIC_FIELDS = (
    "valley_coupling_J_s_per_m",
    "pumping_damping",
    "exchange_stiffness_J_per_m",
    "uniaxial_anisotropy_J_per_m3",
    "cubic_anisotropy_J_per_m3",
    "gilbert_damping",
    "valley_torque_beta",
    "interlattice_exchange_J_per_m3",
    "interlattice_exchange_stiffness_J_per_m",
    "interlattice_dmi_J_per_m3",
)


@dataclass(frozen=True)
class Quantity:
    """A named value with its unit, for reports."""

    symbol: str
    name: str
    value: float
    unit: str


_DERIVED = (
    ("N", "density of states at the Fermi level", "J^-1 m^-3", "density_of_states_per_J_m3"),
    ("sigma_v", "valley conductivity", "S/m", "sigma_v"),
    ("D", "diffusion constant sigma_v/(e^2 N)", "m^2/s", "diffusion_constant_m2_per_s"),
    ("lambda_v", "valley diffusion length", "m", "valley_diffusion_length_m"),
    ("k0", "shift of the + node along m", "1/m", "node_shift_per_m"),
    ("sigma_AH", "anomalous Hall conductivity", "S/m", "sigma_ah"),
    ("theta", "anomalous Hall angle", "", "hall_angle"),
    ("eta", "valley-magnet coupling", "J s/m", "eta"),
    ("M_W", "Weyl orbital magnetization sigma_AH mu_F/e", "A/m", "orbital_magnetization_A_per_m"),
    ("Gamma", "anomaly coefficient", "A m^-2 V^-1 T^-1", "anomaly_coefficient_A_per_m2_V_T"),
    (
        "dsigma/B^2",
        "Son-Spivak magnetoconductance",
        "S m^-1 T^-2",
        "son_spivak_coefficient_S_per_m_T2",
    ),
    ("l_ex", "exchange length", "m", "exchange_length_m"),
    ("alpha_p", "Gilbert damping from valley pumping", "", "alpha_p"),
)


def derived_quantities(material: Material) -> list[Quantity]:
    """The derived quantities that apply to `material` (those whose inputs are all given)."""
    quantities = []
    for symbol, name, unit, attribute in _DERIVED:
        if symbol == "sigma_v" and material.weyl_node_pairs == 0:
            continue  # no Weyl carriers: no valley channel to describe
        value = getattr(material, attribute)
        if value is not None:
            quantities.append(Quantity(symbol, name, value, unit))
    return quantities


def _format_value(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def _applies(material: Material, name: str, value: object) -> bool:
    """Whether an input is shown: set, and meaningful for this kind of material."""
    if value is None:
        return False
    if name == "gyromagnetic_ratio_rad_per_s_T":
        return material.saturation_magnetization_A_per_m is not None
    if name in ("weyl_node_pairs", "hall_node_pairs"):
        return material.weyl_node_pairs > 0
    return True


def _line(symbol: str, name: str, value: float | int, unit: str) -> str:
    return f"    {symbol:<11} {name:<46} {_format_value(value):>11} {unit}".rstrip()


def format_material(material: Material) -> str:
    """A readable block: description, inputs and derived quantities with units, sources."""
    lines = [material.name]
    if material.description:
        lines.append(
            textwrap.fill(material.description, 96, initial_indent="  ", subsequent_indent="  ")
        )
    lines.append("  inputs:")
    given = set()  # symbols of the inputs shown: their derived twin (sigma_v, ...) is not
    for f in dataclasses.fields(material):
        value = getattr(material, f.name)
        if "symbol" in f.metadata and _applies(material, f.name, value):
            meta = f.metadata
            lines.append(_line(meta["symbol"], meta["label"], value, meta["unit"]))
            given.add(meta["symbol"])
    lines.extend(_carrier_lines(material))
    quantities = [q for q in derived_quantities(material) if q.symbol not in given]
    if quantities:
        lines.append("  derived:")
        lines.extend(_line(q.symbol, q.name, q.value, q.unit) for q in quantities)
    alpha_p = material.alpha_p
    alpha = material.gilbert_damping
    if alpha is not None and alpha_p is not None and alpha < alpha_p:
        note = (
            f"note: gilbert_damping {alpha:.4g} < alpha_p {alpha_p:.4g}: a coupled"
            " magnet-valley run would not dissipate and is rejected (docs/theory.md §3)"
        )
        lines.append(textwrap.fill(note, 96, initial_indent="  ", subsequent_indent="    "))
    if material.sources:
        lines.append("  sources:")
        for source in material.sources:
            lines.append(
                textwrap.fill(source, 96, initial_indent="    - ", subsequent_indent="      ")
            )
    return "\n".join(lines)


def _carrier_lines(material: Material) -> list[str]:
    """The carrier kinds of the Drude tensor, one line each, and the low-field R_H."""
    if not material.carriers:
        return []
    lines = ["  carriers (Drude tensor sigma(B), docs/theory.md §2):"]
    sigmas = material.carrier_conductivities_S_per_m
    densities = material.carrier_densities_per_m3
    for carrier, sigma, density in zip(material.carriers, sigmas, densities, strict=True):
        text = (
            f"    {carrier.charge:<9} sigma_i = {sigma:.4g} S/m, mu = "
            f"{carrier.mobility_m2_per_Vs:.4g} m^2/(V s)"
        )
        lines.append(text + ("" if density is None else f", n = {density:.4g} m^-3"))
    hall = material.ordinary_hall_coefficient_m3_per_C
    lines.append(_line("R_H", "ordinary Hall coefficient (B -> 0)", hall, "m^3/C"))
    return lines


def format_material_list() -> str:
    """One line per library material: its name and the first sentence of its description."""
    width = max(len(name) for name in MATERIALS)
    lines = []
    for name, material in MATERIALS.items():
        summary = material.description.split(". ", 1)[0].rstrip(".")
        lines.append(f"{name:<{width}}  {summary}")
    return "\n".join(lines)


def get_material(name: str) -> Material:
    """The library material `name`; LookupError listing the known names if there is none."""
    if name in MATERIALS:
        return MATERIALS[name]
    raise LookupError(f"unknown material {name!r}; known materials: {', '.join(MATERIALS)}")


HALL_SIGN_OF_NODE_SHIFT = -1
"""s_H: the sign of sigma_AH (this package's convention, J = sigma_AH m x E) for a node pair
whose + node (chirality +1, TS Eq. 1's tau_z = +1) is shifted by k0 > 0 along m, i.e. for
eta > 0: docs/theory.md §1, "Signs from one band model"; checked numerically by
tests/test_band_signs.py."""

# --- library -------------------------------------------------------------------------------

# Chiral-anomaly efficiency, representative for every Weyl/Dirac entry: SCM find the valley
# pumping rate (2/3) e^2 E B / (4 pi^2) instead of the semiclassical e^2 E B / (4 pi^2) (text
# after their Eq. 111), i.e. c_a = 2/3, c_a^2 = 0.44, close to their C = 0.41 for two isotropic
# cones.  A model value, not a measurement.
_SCM_ANOMALY_EFFICIENCY = 2 / 3
_SCM = (
    "A. Sekine, D. Culcer and A. H. MacDonald, 'Quantum kinetic theory of the chiral anomaly',"
    " Phys. Rev. B 96, 235134 (2017), arXiv:1706.01200: Son-Spivak formula (Eq. 96) and the"
    " reduced valley pumping"
    " rate (2/3 of the semiclassical one) behind c_a = 2/3"
)

# Co3Sn2S2 saturation magnetization: 0.29 mu_B per Co at 5 K, 9 Co in the hexagonal cell
# (R-3m, Z = 3) with a = 5.36855 A, c = 13.1903 A (Vaqueiro & Sobany 2009; cell at 300 K, the
# thermal contraction is far below the accuracy of the moment):
#   V   = (sqrt(3)/2) a^2 c = 0.866025 * (5.36855e-10 m)^2 * 13.1903e-10 m = 3.2923e-28 m^3
#   M_s = 9 * 0.29 * 9.27401e-24 J/T / 3.2923e-28 m^3 = 2.4205e-23 / 3.2923e-28 = 7.352e4 A/m
# (0.30 mu_B/Co would give 7.6e4 A/m).
_CO3SN2S2_CELL_VOLUME_M3 = math.sqrt(3) / 2 * 5.36855e-10**2 * 13.1903e-10
_CO3SN2S2_MS_A_PER_M = 9 * 0.29 * BOHR_MAGNETON / _CO3SN2S2_CELL_VOLUME_M3

# Co3Sn2S2 anomalous Hall conductivity, measured: |sigma_xy^A| = 1130 S/cm (Liu et al. 2018),
# with rho_yx > 0 in the field that saturates M along +z.  In the convention of this package,
# J = sigma_AH m x E, so for m = z: J_y = sigma_AH E_x, J_x = -sigma_AH E_y, i.e. sigma_AH =
# sigma_yx = -sigma_xy, and rho_yx = E_y / J_x = -sigma_AH / sigma^2 (small angle):
# rho_yx > 0 means sigma_AH < 0.
_CO3SN2S2_SIGMA_AH_S_PER_M = -1.13e5

# Co3Sn2S2 valley conductivity, representative: the conductivity of the Weyl pockets alone.
# With v_F = 2e5 m/s and mu_F = 60 meV the six nodes hold n = 6 k_F^3 / (6 pi^2) = 9.6e18 cm^-3
# carriers (k_F = mu_F / (hbar v_F) = 4.56e8 /m), about a tenth of the compensated electron and
# hole densities of the other pockets (order 1e20 cm^-3); at comparable mobilities sigma_v =
# sigma / 10 = 1.5e5 S/m, a Weyl momentum time 3 sigma_v / (e^2 N v_F^2) = 0.146 ps.
_CO3SN2S2_SIGMA_V_S_PER_M = 1.5e5

# Co3Sn2S2 pumping damping alpha_p, representative: no measurement of eta exists.  The minimal
# model's eta = hbar k0 with the k0 that fits sigma_AH (3.05e9 /m) would give alpha_p = 1.45,
# which no ferromagnet's damping exceeds: the Hall effect of Co3Sn2S2 comes from the Berry
# curvature of gapped nodal lines as well as from the nodes, so sigma_AH does not fix eta.
# alpha_p = 0.01, a fifth of alpha = 0.05 (of the order of metallic ferromagnets' 0.01-0.1),
# gives |eta| = e sqrt(alpha_p M_s / (gamma sigma_v)) = 2.67e-26 J s/m = hbar * 2.5e8 /m.
_CO3SN2S2_PUMPING_DAMPING = 0.01

_LIU_2018 = (
    "E. Liu et al., Nat. Phys. 14, 1125 (2018), 'Giant anomalous Hall effect in a ferromagnetic"
    " kagome-lattice semimetal': anomalous Hall conductivity 1130 S/cm with rho_yx > 0 for M"
    " along +z (sigma_AH), Weyl nodes about 60 meV from the Fermi level (mu_F), three node"
    " pairs, T_C = 177 K"
)

CO3SN2S2 = Material(
    name="Co3Sn2S2",
    description=(
        "Magnetic Weyl semimetal (kagome ferromagnet, c-axis easy axis, T_C = 177 K). Three node"
        " pairs, all adding to the anomalous Hall effect. Measured: sigma_AH = -1130 S/cm (the"
        " sign in this package's convention J = sigma_AH m x E), mu_F = 60 meV, M_s from 0.29"
        " mu_B/Co. Representative (order-of-magnitude) values: sigma, sigma_v (the Weyl pockets'"
        " share), v_F, tau_v, c_a, A, K_u, alpha, alpha_p and beta. eta follows from alpha_p"
        " with the sign the band model gives for this sigma_AH, so coupled dynamics runs accept"
        " the library values."
    ),
    sources=(
        _LIU_2018,
        "Q. Wang et al., Nat. Commun. 9, 3681 (2018), 'Large intrinsic anomalous Hall effect in"
        " half-metallic ferromagnet Co3Sn2S2 with magnetic Weyl fermions': intrinsic (Weyl"
        " Berry curvature) origin of the anomalous Hall effect, hence hall_node_pairs = 3",
        "P. Vaqueiro and G. G. Sobany, Solid State Sci. 11, 513 (2009): 0.29 mu_B per Co at 5 K"
        " and the R-3m cell a=5.36855 A, c=13.1903 A, hence M_s",
        _SCM,
    ),
    # Representative: low-temperature order of magnitude (rho = 67 microOhm cm); theta = -0.075.
    conductivity_S_per_m=1.5e6,
    valley_conductivity_S_per_m=_CO3SN2S2_SIGMA_V_S_PER_M,
    # Representative: the Weyl cones are tilted and anisotropic; an isotropic 2e5 m/s.
    fermi_velocity_m_per_s=2.0e5,
    fermi_energy_eV=0.06,
    weyl_node_pairs=3,
    hall_node_pairs=3,
    anomalous_hall_conductivity_S_per_m=_CO3SN2S2_SIGMA_AH_S_PER_M,
    pumping_damping=_CO3SN2S2_PUMPING_DAMPING,
    # Representative: ~340 Weyl momentum times; D = sigma_v / (e^2 N) = 1.95e-3 m^2/s,
    # lambda_v = sqrt(D tau_v) = 0.31 um.
    valley_relaxation_time_s=5.0e-11,
    anomaly_efficiency=_SCM_ANOMALY_EFFICIENCY,
    saturation_magnetization_A_per_m=_CO3SN2S2_MS_A_PER_M,
    # Representative: the scale k_B T_C / a = 1.380649e-23 * 177 / 5.36855e-10 = 4.55e-12 J/m.
    exchange_stiffness_J_per_m=4.5e-12,
    # Representative: strong c-axis anisotropy, in-plane saturation field of order B_K = 20 T:
    # K_u = B_K M_s / 2 = 20 T * 7.352e4 A/m / 2 = 7.35e5 J/m^3.
    uniaxial_anisotropy_J_per_m3=7.35e5,
    # Representative: no measurement is used; order of that of metallic ferromagnets.
    gilbert_damping=0.05,
    # Representative: TS leave beta phenomenological (beta << 1 and >> 1 both discussed).
    valley_torque_beta=0.1,
)

TAAS = Material(
    name="TaAs",
    description=(
        "Non-magnetic Weyl semimetal (12 node pairs). Inversion is broken, time reversal is"
        " not, so the Berry fluxes of the pairs cancel: no anomalous Hall effect. The node count"
        " is measured; sigma, v_F, mu_F, tau_v and c_a are representative (order-of-magnitude)"
        " values. k0 is left unset: it would enter only sigma_AH (zero here) and the coupling to"
        " a magnetization (none)."
    ),
    sources=(
        "S.-Y. Xu et al., Science 349, 613 (2015), 'Discovery of a Weyl fermion semimetal and"
        " topological Fermi arcs': 24 Weyl nodes = 12 pairs",
        "B. Q. Lv et al., Phys. Rev. X 5, 031013 (2015), 'Experimental discovery of Weyl"
        " semimetal TaAs': 12 pairs of Weyl nodes",
        "X. Huang et al., Phys. Rev. X 5, 031023 (2015), 'Observation of the chiral-anomaly-"
        "induced negative magnetoresistance in 3D Weyl semimetal TaAs': the anomaly-driven"
        " magnetoconductance the model describes (no number of it is used)",
        _SCM,
    ),
    # Representative: sigma 2e6 S/m, v_F 3e5 m/s, mu_F 20 meV give D = 0.20 m^2/s and a
    # momentum time 3 D / v_F^2 = 6.6 ps; tau_v = 1e-10 s is 15 of them, lambda_v = 4.4 um.
    conductivity_S_per_m=2.0e6,
    fermi_velocity_m_per_s=3.0e5,
    fermi_energy_eV=0.02,
    weyl_node_pairs=12,
    hall_node_pairs=0,
    valley_relaxation_time_s=1.0e-10,
    anomaly_efficiency=_SCM_ANOMALY_EFFICIENCY,
)

CD3AS2 = Material(
    name="Cd3As2",
    description=(
        "Dirac semimetal (2 Dirac nodes = 2 Weyl pairs). The two Dirac nodes lie on the k_z"
        " axis, each a pair of coincident Weyl nodes of opposite chirality, so k0 = 0 and there"
        " is no anomalous Hall effect. The node count is"
        " from band theory and ARPES; sigma, v_F, mu_F, tau_v and c_a are representative"
        " (order-of-magnitude) values."
    ),
    sources=(
        "Z. Wang, H. Weng, Q. Wu, X. Dai and Z. Fang, Phys. Rev. B 88, 125427 (2013),"
        " 'Three-dimensional Dirac semimetal and quantum transport in Cd3As2': two Dirac points"
        " on the k_z axis = 2 Weyl pairs",
        "Z. K. Liu et al., Nat. Mater. 13, 677 (2014), 'A stable three-dimensional topological"
        " Dirac semimetal Cd3As2': the 3D Dirac cones observed",
        "T. Liang et al., Nat. Mater. 14, 280 (2015), 'Ultrahigh mobility and giant"
        " magnetoresistance in the Dirac semimetal Cd3As2': the high-mobility Dirac transport"
        " the representative sigma and v_F stand for (no number of it is used)",
        "C.-Z. Li et al., Nat. Commun. 6, 10137 (2015), 'Giant negative magnetoresistance"
        " induced by the chiral anomaly in individual Cd3As2 nanowires': the anomaly-driven"
        " magnetoconductance the model describes (no number of it is used)",
        _SCM,
    ),
    # Representative: sigma 2e6 S/m (samples range over orders of magnitude), v_F 1e6 m/s,
    # mu_F 0.1 eV give D = 1.76 m^2/s, a momentum time 3 D / v_F^2 = 5.3 ps; tau_v = 1e-10 s
    # is 19 of them, lambda_v = 13 um.
    conductivity_S_per_m=2.0e6,
    fermi_velocity_m_per_s=1.0e6,
    fermi_energy_eV=0.1,
    weyl_node_pairs=2,
    node_half_separation_per_m=0.0,
    hall_node_pairs=0,
    valley_relaxation_time_s=1.0e-10,
    anomaly_efficiency=_SCM_ANOMALY_EFFICIENCY,
)

PERMALLOY = Material(
    name="permalloy",
    description=(
        "Soft ferromagnet Ni80Fe20 (muMAG standard problem #4). M_s, A, alpha and gamma are"
        " those of the standard problem, which has no anisotropy. No Weyl or valley physics."
        " The conductivity is a representative room-temperature value."
    ),
    sources=(
        "muMAG Standard Problem #4, NIST Center for Theoretical and Computational Materials"
        " Science, https://www.ctcms.nist.gov/~rdm/std4/spec4.html: M_s = 8.0e5 A/m,"
        " A = 1.3e-11 J/m, alpha = 0.02, gamma = 2.211e5 m/(A s) (= gamma mu_0), no anisotropy",
    ),
    # Representative: rho ~ 20 microOhm cm.
    conductivity_S_per_m=5.0e6,
    saturation_magnetization_A_per_m=8.0e5,
    exchange_stiffness_J_per_m=1.3e-11,
    uniaxial_anisotropy_J_per_m3=0.0,
    cubic_anisotropy_J_per_m3=0.0,
    gilbert_damping=0.02,
    # 2.211e5 m/(A s) / mu_0 = 1.7595e11 rad/(s T).
    gyromagnetic_ratio_rad_per_s_T=2.211e5 / VACUUM_PERMEABILITY,
)

# Mn3Sn sublattice magnetization: 3 mu_B per Mn (Nakatsuji et al. 2015), 6 Mn in the
# hexagonal cell (P6_3/mmc, a = 5.665 A, c = 4.531 A), 2 of them on each of the 3 kagome
# sublattices: V = (sqrt(3)/2) a^2 c = 1.2593e-28 m^3,
#   M_s = 2 * 3 * 9.27401e-24 J/T / 1.2593e-28 m^3 = 4.419e5 A/m per sublattice.
_MN3SN_CELL_VOLUME_M3 = math.sqrt(3) / 2 * 5.665e-10**2 * 4.531e-10
_MN3SN_MS_A_PER_M = 2 * 3.0 * BOHR_MAGNETON / _MN3SN_CELL_VOLUME_M3
# Representative interlattice exchange: the ordering energy k_B T_N (T_N = 420 K) per Mn,
# 1.380649e-23 * 420 * 6 / 1.2593e-28 = 2.76e8 J/m^3 (exchange field lambda/M_s = 625 T);
# DMI in the Liu-Balents ratio D/J = 0.12.
_MN3SN_LAMBDA_J_PER_M3 = 1.380649e-23 * 420.0 * 6 / _MN3SN_CELL_VOLUME_M3
_MN3SN_DMI_J_PER_M3 = 0.12 * _MN3SN_LAMBDA_J_PER_M3
# Single-ion anisotropy chosen so that the closed-form weak moment of the inverse-
# triangular order, |sum_k m_k| = K / (lambda + sqrt(3) D) (docs/theory.md §4), equals the
# measured 0.002 mu_B per Mn of 3 mu_B: |sum_k m_k| = 3 * 0.002 / 3 = 0.002.
_MN3SN_K_J_PER_M3 = 0.002 * (_MN3SN_LAMBDA_J_PER_M3 + math.sqrt(3) * _MN3SN_DMI_J_PER_M3)

MN3SN = Material(
    name="Mn3Sn",
    description=(
        "Noncollinear kagome antiferromagnet and Weyl semimetal (inverse-triangular order in"
        " the kagome plane, T_N = 420 K); a region of it has magnetic_order = 'triangular'."
        " Measured: the 3 mu_B Mn moment (hence the sublattice M_s), the weak net moment 0.002"
        " mu_B/Mn (which fixes K here), sigma_AH = 20 S/cm at room temperature (sign"
        " unassigned: taken positive for the order the device starts in), sigma. Representative:"
        " lambda (k_B T_N per Mn), D (Liu-Balents ratio D/J), A, alpha, v_F, mu_F."
    ),
    sources=(
        "S. Nakatsuji, N. Kiyohara and T. Higo, Nature 527, 212 (2015), 'Large anomalous Hall"
        " effect in a non-collinear antiferromagnet at room temperature': sigma_AH ~ 20 S/cm at"
        " room temperature, weak moment ~ 0.002 mu_B/Mn, Mn moment ~ 3 mu_B, T_N = 420 K,"
        " rho ~ 300 microOhm cm",
        "J. Liu and L. Balents, Phys. Rev. Lett. 119, 087202 (2017), 'Anomalous Hall effect and"
        " topological defects in antiferromagnetic Weyl semimetals: Mn3Sn/Ge': the spin model"
        " (exchange, in-plane DMI selecting the inverse-triangular order, single-ion anisotropy"
        " along the in-plane easy axes) and the ratio D/J",
        "K. Kuroda et al., Nat. Mater. 16, 1090 (2017), 'Evidence for magnetic Weyl fermions in"
        " a correlated metal': Weyl nodes near the Fermi level (no number used but their"
        " presence)",
    ),
    conductivity_S_per_m=3.3e5,
    weyl_node_pairs=1,
    fermi_velocity_m_per_s=1.0e5,
    fermi_energy_eV=0.05,
    anomalous_hall_conductivity_S_per_m=2.0e3,
    saturation_magnetization_A_per_m=_MN3SN_MS_A_PER_M,
    # Representative: k_B T_N / a = 1.380649e-23 * 420 / 5.665e-10 = 1.02e-11 J/m.
    exchange_stiffness_J_per_m=1.0e-11,
    uniaxial_anisotropy_J_per_m3=_MN3SN_K_J_PER_M3,
    interlattice_exchange_J_per_m3=_MN3SN_LAMBDA_J_PER_M3,
    interlattice_dmi_J_per_m3=_MN3SN_DMI_J_PER_M3,
    # Representative: of the order reported for metallic antiferromagnets.
    gilbert_damping=0.01,
)

# EuCd2As2 sublattice magnetization: 7 mu_B per Eu2+, one Eu in the trigonal cell (P-3m1,
# a = 4.44 A, c = 7.33 A), the A-type order puts alternate Eu layers on the two
# sublattices: V = (sqrt(3)/2) a^2 c = 1.2514e-28 m^3, M_s = 7 mu_B / (2 V) = 2.594e5 A/m.
_EUCD2AS2_CELL_VOLUME_M3 = math.sqrt(3) / 2 * 4.44e-10**2 * 7.33e-10
_EUCD2AS2_MS_A_PER_M = 7.0 * BOHR_MAGNETON / (2 * _EUCD2AS2_CELL_VOLUME_M3)

EUCD2AS2 = Material(
    name="EuCd2As2",
    description=(
        "A-type (collinear, layered) antiferromagnet with in-plane moments, T_N = 9.5 K, a"
        " candidate Weyl semimetal (a single node pair when the Eu moments are aligned); a"
        " region of it has magnetic_order = 'antiferromagnet'. Measured: the Eu2+ moment 7 mu_B"
        " (hence M_s), the order and T_N. Representative: lambda (an exchange field of 0.5 T,"
        " saturation near 1 T), the easy-plane anisotropy (K_u < 0 about c = z), A, alpha,"
        " sigma. Its Weyl character is contested (a magnetic semiconductor, Santos-Cottin et"
        " al. 2023), so no valley parameters are given."
    ),
    sources=(
        "J.-R. Soh et al., Phys. Rev. B 97, 214422 (2018), 'Coupling of magnetic order and"
        " charge transport in the candidate Dirac semimetal EuCd2As2': A-type order with"
        " in-plane moments below T_N = 9.5 K",
        "J.-R. Soh et al., Phys. Rev. B 100, 201102(R) (2019), 'Ideal Weyl semimetal induced by"
        " magnetic exchange': one Weyl node pair in the field-aligned state",
        "D. Santos-Cottin et al., arXiv:2301.08014 (2023), 'EuCd2As2: a magnetic"
        " semiconductor': the semimetal picture challenged",
    ),
    # Representative: rho of a few mOhm cm.
    conductivity_S_per_m=3.0e4,
    saturation_magnetization_A_per_m=_EUCD2AS2_MS_A_PER_M,
    # Representative: k_B T_N / a = 1.380649e-23 * 9.5 / 4.44e-10 = 3.0e-13 J/m.
    exchange_stiffness_J_per_m=3.0e-13,
    # Representative: easy plane (K_u < 0 about the c axis), hard-axis field 2|K|/M_s = 0.4 T.
    uniaxial_anisotropy_J_per_m3=-0.2 * _EUCD2AS2_MS_A_PER_M,
    # Representative: exchange field B_E = lambda / M_s = 0.5 T.
    interlattice_exchange_J_per_m3=0.5 * _EUCD2AS2_MS_A_PER_M,
    gilbert_damping=0.01,
)

MATERIALS: dict[str, Material] = {
    m.name: m for m in (CO3SN2S2, TAAS, CD3AS2, PERMALLOY, MN3SN, EUCD2AS2)
}
"""The library, by name."""
