"""Material library and derived quantities, checked against hand calculations.

Constants used in the hand calculations (CODATA 2018, as in weylfem.constants):
e = 1.602176634e-19 C, hbar = 1.054571818e-34 J s, pi^2 = 9.869604401,
mu_0 = 1.25663706212e-6 T m/A, gamma_e = 1.76085963023e11 rad/(s T).
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from weylfem.constants import ELECTRON_VOLT, ELEMENTARY_CHARGE, HBAR
from weylfem.errors import ConfigError
from weylfem.materials import (
    HALL_SIGN_OF_NODE_SHIFT,
    MATERIALS,
    Material,
    Quantity,
    derived_quantities,
    format_material,
    format_material_list,
    get_material,
)
from weylfem.schema import from_table

REL = 1e-9

# One node pair: v_F = 1e5 m/s, mu_F = 0.1 eV, sigma = 1e6 S/m, tau_v = 1e-11 s, k0 = 1e9 1/m,
# c_a = 0.5 (not 1, so that a missing or squared c_a shows), M_s = 1e5 A/m, A = 1e-11 J/m.
HAND = Material(
    name="hand",
    conductivity_S_per_m=1.0e6,
    fermi_velocity_m_per_s=1.0e5,
    fermi_energy_eV=0.1,
    weyl_node_pairs=1,
    node_half_separation_per_m=1.0e9,
    hall_node_pairs=1,
    valley_relaxation_time_s=1.0e-11,
    anomaly_efficiency=0.5,
    saturation_magnetization_A_per_m=1.0e5,
    exchange_stiffness_J_per_m=1.0e-11,
    gilbert_damping=1.0,
)

# N = mu^2 / (pi^2 hbar^3 v^3):  mu = 0.1 eV = 1.602176634e-20 J, mu^2 = 2.566969967e-40 J^2,
# pi^2 hbar^3 v^3 = 9.869604401 * 1.172812222e-102 * 1e15 = 1.157519267e-86,
# N = 2.566969967e-40 / 1.157519267e-86 = 2.217647723e46 J^-1 m^-3.
HAND_N = 2.217647723e46
# D = sigma / (e^2 N) = 1e6 / (2.566969967e-38 * 2.217647723e46) = 1e6 / 5.692635101e8
#   = 1.756655718e-3 m^2/s.
HAND_D = 1.756655718e-3
# lambda_v = sqrt(D tau_v) = sqrt(1.756655718e-3 * 1e-11) = sqrt(1.756655718e-14)
#          = 1.325388893e-7 m.
HAND_LAMBDA_V = 1.325388893e-7
# sigma_AH = s_H e^2 k0 / (2 pi^2 hbar), s_H = -1 (the band model, tests/test_band_signs.py):
#   e^2 k0 / (2 pi^2 hbar) = 2.566969967e-38 * 1e9 / (2 * 9.869604401 * 1.054571818e-34)
#                          = 2.566969967e-29 / 2.081641331e-33 = 1.233147098e4 S/m.
HAND_SIGMA_AH = -1.233147098e4
# theta = sigma_AH / sigma = -1.233147098e4 / 1e6.
HAND_THETA = -1.233147098e-2
# eta = hbar k0 = 1.054571818e-34 * 1e9.
HAND_ETA = 1.054571818e-25
# Gamma = c_a e^3 / (2 pi^2 hbar^2) = 0.5 * 4.112739301e-57 / (2 * 9.869604401 * 1.112121719e-68)
#       = 2.056369650e-57 / 2.195240282e-67 = 9.367401225e9 A m^-2 V^-1 T^-1.
HAND_GAMMA = 9.367401225e9
# Gamma^2 tau_v / (e^2 N) = (9.367401225e9)^2 * 1e-11 / 5.692635101e8
#                         = 8.774820571e19 * 1e-11 / 5.692635101e8 = 1.541433873 S m^-1 T^-2.
# Cross-check, SCM Eq. 96 times c_a^2: c_a^2 (e^2 / (4 pi^2 hbar)) e^2 v^3 tau_v / mu^2
#   = 0.25 * 6.165735492e-6 * 2.566969967e-38 * 1e15 * 1e-11 / 2.566969967e-40 = 1.541433873.
HAND_SON_SPIVAK = 1.541433873
# l_ex = sqrt(2 A / (mu_0 M_s^2)) = sqrt(2e-11 / (1.25663706212e-6 * 1e10))
#      = sqrt(2e-11 / 12566.3706212) = sqrt(1.591549431e-15) = 3.989422803e-8 m.
HAND_EXCHANGE_LENGTH = 3.989422803e-8
# alpha_p = (gamma / M_s) sigma_v (eta / e)^2 with sigma_v = sigma (the default),
#   eta / e = 1.054571818e-25 / 1.602176634e-19
#           = 6.582119570e-7 T m:  1.76085963023e6 * 1e6 * 4.332429803e-13 = 0.7628800740.
HAND_ALPHA_P = 0.7628800740


def _with(material: Material, **changes: object) -> Material:
    return dataclasses.replace(material, **changes)


def test_density_of_states_matches_hand_calculation() -> None:
    assert HAND.density_of_states_per_J_m3 == pytest.approx(HAND_N, rel=REL)


def test_diffusion_constant_and_valley_length_match_hand_calculation() -> None:
    assert HAND.diffusion_constant_m2_per_s == pytest.approx(HAND_D, rel=REL)
    assert HAND.valley_diffusion_length_m == pytest.approx(HAND_LAMBDA_V, rel=REL)


def test_anomalous_hall_conductivity_angle_and_eta_match_hand_calculation() -> None:
    assert HAND.sigma_ah == pytest.approx(HAND_SIGMA_AH, rel=REL)
    assert HAND.hall_angle == pytest.approx(HAND_THETA, rel=REL)
    assert HAND.eta == pytest.approx(HAND_ETA, rel=REL)


def test_anomaly_coefficient_and_son_spivak_match_hand_calculation() -> None:
    assert HAND.anomaly_coefficient_A_per_m2_V_T == pytest.approx(HAND_GAMMA, rel=REL)
    assert HAND.son_spivak_coefficient_S_per_m_T2 == pytest.approx(HAND_SON_SPIVAK, rel=REL)


def test_exchange_length_and_minimum_damping_match_hand_calculation() -> None:
    assert HAND.exchange_length_m == pytest.approx(HAND_EXCHANGE_LENGTH, rel=REL)
    assert HAND.alpha_p == pytest.approx(HAND_ALPHA_P, rel=REL)


@pytest.mark.parametrize("name", ["Co3Sn2S2", "TaAs", "Cd3As2"])
def test_son_spivak_identity_on_library_material(name: str) -> None:
    """Gamma^2 tau_v/(e^2 N) = pairs c_a^2 (e^2/(4 pi^2 hbar)) (e^2 B^2 v^3 tau_v/mu^2) / B^2."""
    m = MATERIALS[name]
    b = 1.7  # T; any field, it cancels
    e, mu = ELEMENTARY_CHARGE, m.fermi_energy_eV * ELECTRON_VOLT
    v, tau, ca = m.fermi_velocity_m_per_s, m.valley_relaxation_time_s, m.anomaly_efficiency
    scm96 = ca**2 * (e**2 / (4 * math.pi**2 * HBAR)) * (e**2 * b**2 * v**3 * tau / mu**2)
    expected = m.weyl_node_pairs * scm96 / b**2
    assert m.son_spivak_coefficient_S_per_m_T2 == pytest.approx(expected, rel=1e-12)


def test_node_pairs_scale_density_anomaly_and_son_spivak_linearly() -> None:
    three = _with(HAND, weyl_node_pairs=3)
    assert three.density_of_states_per_J_m3 == pytest.approx(3 * HAND_N, rel=REL)
    assert three.anomaly_coefficient_A_per_m2_V_T == pytest.approx(3 * HAND_GAMMA, rel=REL)
    assert three.son_spivak_coefficient_S_per_m_T2 == pytest.approx(3 * HAND_SON_SPIVAK, rel=REL)
    assert three.diffusion_constant_m2_per_s == pytest.approx(HAND_D / 3, rel=REL)
    # sigma_AH follows the Hall pairs only.
    assert three.sigma_ah == pytest.approx(HAND_SIGMA_AH, rel=REL)
    two_hall = _with(three, hall_node_pairs=2)
    assert two_hall.sigma_ah == pytest.approx(2 * HAND_SIGMA_AH, rel=REL)


def test_hall_angle_is_sigma_ah_over_sigma() -> None:
    for m in (HAND, MATERIALS["Co3Sn2S2"], _with(HAND, conductivity_S_per_m=3.0e5)):
        assert m.hall_angle == pytest.approx(m.sigma_ah / m.conductivity_S_per_m, rel=1e-15)
    assert _with(HAND, conductivity_S_per_m=3.0e5).hall_angle == pytest.approx(
        HAND_SIGMA_AH / 3.0e5, rel=REL
    )


def test_co3sn2s2_reproduces_measured_hall_conductivity_and_magnetization() -> None:
    m = get_material("Co3Sn2S2")
    # 1130 S/cm = 1.13e5 S/m (Liu et al. 2018), rho_yx > 0 for M along +z: sigma_AH < 0 in
    # the package's convention J = sigma_AH m x E.
    assert m.sigma_ah == -1.13e5
    assert m.hall_angle == pytest.approx(-1.13e5 / 1.5e6, rel=1e-15)
    # 9 * 0.29 * 9.2740100783e-24 J/T / ((sqrt(3)/2) (5.36855e-10 m)^2 * 13.1903e-10 m)
    #   = 2.420516630e-23 / 3.292299299e-28 = 7.352055238e4 A/m.
    assert m.saturation_magnetization_A_per_m == pytest.approx(7.352055238e4, rel=REL)
    assert (m.weyl_node_pairs, m.hall_node_pairs, m.fermi_energy_eV) == (3, 3, 0.06)


def test_missing_inputs_give_none() -> None:
    permalloy = get_material("permalloy")
    for attribute in (
        "density_of_states_per_J_m3",
        "diffusion_constant_m2_per_s",
        "valley_diffusion_length_m",
        "sigma_ah",
        "node_shift_per_m",
        "hall_angle",
        "eta",
        "anomaly_coefficient_A_per_m2_V_T",
        "son_spivak_coefficient_S_per_m_T2",
        "alpha_p",
    ):
        assert getattr(permalloy, attribute) is None, attribute
    assert permalloy.exchange_length_m is not None

    no_tau = _with(HAND, valley_relaxation_time_s=None)
    assert no_tau.valley_diffusion_length_m is None
    assert no_tau.son_spivak_coefficient_S_per_m_T2 is None
    assert no_tau.density_of_states_per_J_m3 == pytest.approx(HAND_N, rel=REL)
    assert _with(HAND, fermi_velocity_m_per_s=None).density_of_states_per_J_m3 is None
    assert _with(HAND, anomaly_efficiency=None).anomaly_coefficient_A_per_m2_V_T is None
    assert _with(HAND, node_half_separation_per_m=None).sigma_ah is None
    assert _with(HAND, exchange_stiffness_J_per_m=None).exchange_length_m is None
    non_magnetic = _with(HAND, saturation_magnetization_A_per_m=None)
    assert non_magnetic.alpha_p is None
    assert non_magnetic.exchange_length_m is None

    taas = get_material("TaAs")  # time-reversal symmetric: zero Hall, no eta, no magnet
    assert taas.sigma_ah == 0.0
    assert taas.hall_angle == 0.0
    assert taas.eta is None
    assert taas.alpha_p is None


@pytest.mark.parametrize("name", list(MATERIALS))
def test_library_material_validates_and_round_trips(name: str) -> None:
    m = MATERIALS[name]
    assert m.name == name
    assert list(m.validate()) == []
    table = dataclasses.asdict(m)
    assert from_table(Material, table, "library.toml", f"materials.{name}") == m
    table["sources"] = list(table["sources"])  # as TOML gives it
    assert from_table(Material, table, "library.toml", f"materials.{name}") == m


def test_library_sources_and_representative_values_are_stated() -> None:
    for m in MATERIALS.values():
        assert m.sources, m.name
        assert m.description, m.name
        assert "representative" in m.description.lower(), m.name


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"fermi_energy_eV": None}, "fermi_energy_eV"),
        ({"fermi_velocity_m_per_s": None}, "fermi_velocity_m_per_s"),
        (
            {"weyl_node_pairs": 0, "hall_node_pairs": 0, "anomaly_efficiency": None},
            "weyl_node_pairs",
        ),
        (
            {"fermi_velocity_m_per_s": None, "fermi_energy_eV": None},
            "valley_relaxation_time_s",
        ),
        ({"weyl_node_pairs": 0, "hall_node_pairs": 0}, "anomaly_efficiency"),
        ({"hall_node_pairs": 2}, "hall_node_pairs"),
        ({"node_half_separation_per_m": None}, "node_half_separation_per_m"),
        ({"saturation_magnetization_A_per_m": None}, "gilbert_damping"),
        ({"saturation_magnetization_A_per_m": None}, "exchange_stiffness_J_per_m"),
        (
            {"node_half_separation_per_m": None, "hall_node_pairs": 0, "valley_torque_beta": 0.1},
            "valley_torque_beta",
        ),
    ],
)
def test_validate_rejects_cross_field_problems(changes: dict, field: str) -> None:
    assert list(HAND.validate()) == []
    bad = _with(HAND, **changes)
    problems = dict(bad.validate())
    assert field in problems
    assert problems[field].startswith("expected")
    table = dataclasses.asdict(bad)
    with pytest.raises(ConfigError) as excinfo:
        from_table(Material, table, "device.toml", "materials.bad")
    assert excinfo.value.key.startswith("materials.bad.")


def test_validate_does_not_enforce_minimum_damping() -> None:
    underdamped = _with(HAND, gilbert_damping=0.01)
    assert underdamped.gilbert_damping < underdamped.alpha_p
    assert list(underdamped.validate()) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("anomaly_efficiency", 1.5),
        ("anomaly_efficiency", 0.0),
        ("weyl_node_pairs", -1),
        ("weyl_node_pairs", 1.5),
        ("conductivity_S_per_m", 0.0),
        ("valley_relaxation_time_s", -1e-12),
    ],
)
def test_field_constraints_are_checked(key: str, value: object) -> None:
    table = dataclasses.asdict(HAND)
    table[key] = value
    with pytest.raises(ConfigError, match=key):
        from_table(Material, table, "device.toml", "materials.hand")


def test_conductivity_is_required() -> None:
    with pytest.raises(ConfigError, match="conductivity_S_per_m"):
        from_table(Material, {"name": "x"}, "device.toml", "materials.x")


def test_get_material_unknown_name_lists_known_names() -> None:
    assert get_material("TaAs") is MATERIALS["TaAs"]
    with pytest.raises(LookupError) as excinfo:
        get_material("nope")
    assert type(excinfo.value) is LookupError
    message = str(excinfo.value)
    assert "nope" in message
    for name in ("Co3Sn2S2", "TaAs", "Cd3As2", "permalloy"):
        assert name in message


def test_derived_quantities_list_the_applicable_values() -> None:
    quantities = derived_quantities(HAND)
    assert all(isinstance(q, Quantity) for q in quantities)
    by_symbol = {q.symbol: q for q in quantities}
    assert set(by_symbol) == {
        "N",
        "sigma_v",
        "D",
        "k0",
        "lambda_v",
        "sigma_AH",
        "theta",
        "eta",
        "M_W",
        "Gamma",
        "dsigma/B^2",
        "l_ex",
        "alpha_p",
    }
    assert by_symbol["N"].value == pytest.approx(HAND_N, rel=REL)
    assert by_symbol["N"].unit == "J^-1 m^-3"
    assert by_symbol["dsigma/B^2"].unit == "S m^-1 T^-2"
    assert [q.symbol for q in derived_quantities(get_material("permalloy"))] == ["l_ex"]


def test_format_material_shows_values_units_and_sources() -> None:
    text = format_material(get_material("Co3Sn2S2"))
    for piece in (
        "Co3Sn2S2",
        "S/m",
        "m/s",
        "eV",
        "A/m",
        "J^-1 m^-3",
        "m^2/s",
        "S m^-1 T^-2",
        "A m^-2 V^-1 T^-1",
        "J s/m",
        "1.13e+05",
        "Liu et al., Nat. Phys. 14, 1125 (2018)",
        "alpha_p",
        "sigma_v",
    ):
        assert piece in text, piece
    permalloy = format_material(get_material("permalloy"))
    assert "J/m" in permalloy and "alpha_p" not in permalloy


def test_format_material_list_has_one_line_per_material() -> None:
    lines = format_material_list().splitlines()
    assert [line.split()[0] for line in lines] == list(MATERIALS)


def test_valley_conductivity_defaults_to_sigma_and_sets_d_lambda_and_alpha_p() -> None:
    assert HAND.sigma_v == HAND.conductivity_S_per_m
    tenth = _with(HAND, valley_conductivity_S_per_m=1.0e5)
    # D, lambda_v and alpha_p follow sigma_v: D / 10, lambda_v / sqrt(10), alpha_p / 10.
    assert tenth.diffusion_constant_m2_per_s == pytest.approx(HAND_D / 10, rel=REL)
    assert tenth.valley_diffusion_length_m == pytest.approx(HAND_LAMBDA_V / math.sqrt(10), rel=REL)
    assert tenth.alpha_p == pytest.approx(HAND_ALPHA_P / 10, rel=REL)
    # sigma_AH, theta and Son-Spivak are properties of all carriers / the anomaly: unchanged.
    assert tenth.sigma_ah == pytest.approx(HAND_SIGMA_AH, rel=REL)
    assert tenth.son_spivak_coefficient_S_per_m_T2 == pytest.approx(HAND_SON_SPIVAK, rel=REL)
    problems = dict(_with(HAND, valley_conductivity_S_per_m=2.0e6).validate())
    assert "at most conductivity_S_per_m" in problems["valley_conductivity_S_per_m"]


def test_eta_given_signed_or_from_pumping_damping_with_the_band_sign() -> None:
    # A given eta wins over k0; its sign is kept; alpha_p follows it.
    given = _with(HAND, valley_coupling_J_s_per_m=-2.0e-26)
    assert given.eta == -2.0e-26
    assert given.alpha_p == pytest.approx(HAND_ALPHA_P * (2.0e-26 / HAND_ETA) ** 2, rel=REL)
    # alpha_p given: |eta| = e sqrt(alpha_p M_s / (gamma sigma_v)), the sign of k0, and the
    # round trip alpha_p -> eta -> alpha_p closes.
    for k0 in (1.0e9, -1.0e9):
        pumped = _with(HAND, pumping_damping=0.01, node_half_separation_per_m=k0)
        ratio = 0.01 * 1.0e5 / (HAND.gyromagnetic_ratio_rad_per_s_T * 1.0e6)
        assert pumped.eta == pytest.approx(math.copysign(ELEMENTARY_CHARGE * ratio**0.5, k0))
        assert _with(HAND, valley_coupling_J_s_per_m=pumped.eta).alpha_p == pytest.approx(0.01)
    # sigma_AH given without k0: k0 and eta follow from the band model, eta has sign s_H
    # relative to sigma_AH.
    measured = _with(HAND, node_half_separation_per_m=None, anomalous_hall_conductivity_S_per_m=5e4)
    assert measured.sigma_ah == 5e4
    assert measured.eta * measured.sigma_ah * HALL_SIGN_OF_NODE_SHIFT > 0
    assert measured.node_shift_per_m == pytest.approx(
        HALL_SIGN_OF_NODE_SHIFT * 5e4 / 1.233147098e4 * 1e9
    )
    both = dict(_with(HAND, pumping_damping=0.01, valley_coupling_J_s_per_m=1e-26).validate())
    assert "not both" in both["pumping_damping"]
    unsigned = _with(HAND, pumping_damping=0.01, node_half_separation_per_m=None, hall_node_pairs=0)
    assert "sign of eta" in dict(unsigned.validate())["pumping_damping"]


def test_signed_fermi_energy_is_accepted_and_zero_refused() -> None:
    holes = _with(HAND, fermi_energy_eV=-0.1)
    assert list(holes.validate()) == []
    assert holes.density_of_states_per_J_m3 == pytest.approx(HAND_N, rel=REL)
    table = dataclasses.asdict(HAND)
    table["fermi_energy_eV"] = 0.0
    with pytest.raises(ConfigError, match="fermi_energy_eV"):
        from_table(Material, table, "device.toml", "materials.hand")


def test_co3sn2s2_coupling_is_accepted_with_library_values() -> None:
    """Revision 2: alpha_p of Co3Sn2S2 is below its alpha; eta carries the band sign."""
    m = get_material("Co3Sn2S2")
    assert m.alpha_p == 0.01 < m.gilbert_damping
    assert m.eta * m.sigma_ah * HALL_SIGN_OF_NODE_SHIFT > 0
    # The Weyl orbital magnetization sigma_AH mu_F / e = -1.13e5 S/m * 0.06 V = -6780 A/m,
    # -9.2% of M_s: B_eq is -0.092 of the applied field (docs/theory.md §3).
    assert m.orbital_magnetization_A_per_m == pytest.approx(-6780.0, rel=1e-12)
    assert m.orbital_magnetization_A_per_m / m.saturation_magnetization_A_per_m == pytest.approx(
        -0.0922, abs=5e-4
    )
    # With the minimal model's eta = hbar k0 (k0 fitting sigma_AH) it would be refused.
    minimal = _with(m, pumping_damping=None, node_half_separation_per_m=m.node_shift_per_m)
    assert minimal.alpha_p == pytest.approx(1.45, rel=0.01)


def test_k0_given_with_sigma_ah_must_carry_the_band_sign() -> None:
    agreeing = _with(HAND, anomalous_hall_conductivity_S_per_m=-5e4)  # k0 = +1e9, s_H = -1
    assert list(agreeing.validate()) == []
    problems = dict(_with(HAND, anomalous_hall_conductivity_S_per_m=5e4).validate())
    assert "sign" in problems["node_half_separation_per_m"]
