"""Ordinary magnetotransport: the Drude tensor of the carrier kinds (docs/theory.md §2,
"Ordinary magnetotransport"), sigma(B) = sum_i sigma_i [1 + mu_i^2 B B^T - s_i mu_i B x]
/ (1 + mu_i^2 |B|^2), against closed forms.

- Hall bar (2D, B = B z, unit thickness t = 1 m): with the Hall probes floating no current
  crosses the bar, so in its middle E = rho(B) J with rho = sigma^-1 and J = I/(W t) x:
  the Hall voltage V_H = V_bottom - V_top = E_y W gives R_H = V_H t / (I B) = rho_yx / B
  and a probe pair on one edge, dx apart, gives rho_xx = (V_1 - V_2) W t / (I dx).
  One carrier kind: R_H = s/(n e) (+ for holes) at every B and rho_xx = 1/sigma (no
  magnetoresistance in the Hall geometry); two kinds: the classic two-band R_H(B) and
  Delta rho / rho.
- Corbino disc: no edge for a Hall voltage, the radial current sees sigma_rr =
  sigma / (1 + mu^2 B^2): R(B)/R(0) = 1 + mu^2 B^2 (geometric magnetoresistance).
- Onsager-Buettiker reciprocity R_ij,kl(B) = R_kl,ij(-B) with the tensor, the anomaly and
  the CME on, B in a general direction (3D).
- mu = 0 (or B = 0) gives the isotropic results.
"""

import math

import numpy as np
import pytest
from conftest import expect_error
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.device import FourProbe
from weylfem.materials import format_material
from weylfem.meshing import mesh_device
from weylfem.transport import TransportProblem
from weylfem.transport.terms import DrudeTerm, OhmicTerm

pytestmark = pytest.mark.mpi

UM = 1e-6
SIGMA = 1.0e6  # S/m


def solve(table: dict, mesh=None):
    """(device, mesh, problem, solution) of a device table (a mesh may be reused)."""
    device = device_from_mapping(table, "test")
    mesh = mesh if mesh is not None else mesh_device(device, MPI.COMM_WORLD)
    problem = TransportProblem(device, mesh)
    return device, mesh, problem, problem.solve()


def carrier(mobility: float, charge: str, conductivity: float | None = None) -> dict:
    entry = {"mobility_m2_per_Vs": mobility, "charge": charge}
    if conductivity is not None:
        entry["conductivity_S_per_m"] = conductivity
    return entry


def material(carriers: list[dict], base: str | None = None) -> dict:
    """A material of conductivity SIGMA (or `base`'s, with SIGMA) and these carriers."""
    table = {"conductivity_S_per_m": SIGMA, "carriers": carriers}
    if base is not None:
        table["base"] = base
    return table


# -- Hall bar ----------------------------------------------------------------------------------

HALL_BAR = {  # um; probe pairs at x = 10 and 20 across W = 4
    "dimension": 2,
    "length": 30.0,
    "width": 4.0,
    "arm_width": 0.4,
    "arm_length": 1.0,
    "probe_pairs": 2,
    "probe_positions": [10.0, 20.0],
    "mesh_size": 0.2,
}
WIDTH, SPACING, CURRENT = 4.0 * UM, 10.0 * UM, 1.0e-3


def hall_bar_table(carriers: list[dict], field_T: float, transport: str = "ohmic") -> dict:
    """2D Hall bar, 1 mA into the source, drain grounded, the four probes floating."""
    probes = [f"probe_{i}_{side}" for i in (1, 2) for side in ("bottom", "top")]
    return {
        "geometry": {"kind": "hall_bar", **HALL_BAR},
        "materials": {"drude": material(carriers)},
        "regions": {"channel": {"material": "drude"}},
        "contacts": {
            "source": {"current_A": CURRENT},
            "drain": {"voltage_V": 0.0},
            **{name: {"floating": True} for name in probes},
        },
        "fields": {"magnetic_field_T": [0.0, 0.0, field_T]},
        "physics": {"transport": transport, "element_degree": 2},
        "solver": {"kind": "direct"},
    }


def hall_bar_resistivities(solution, field_T: float) -> tuple[float, float]:
    """(R_H, rho_xx) from both probe pairs: R_H = V_H t / (I B) with V_H = V_bottom -
    V_top, rho_xx = (V_1 - V_2) W t / (I dx) averaged over both edges (t = 1 m)."""
    v = dict(zip(solution.contact_order, solution.voltages_V, strict=True))
    hall = np.mean([v[f"probe_{i}_bottom"] - v[f"probe_{i}_top"] for i in (1, 2)])
    along = np.mean([v[f"probe_1_{side}"] - v[f"probe_2_{side}"] for side in ("bottom", "top")])
    return hall / (CURRENT * field_T), along * WIDTH / (CURRENT * SPACING)


@pytest.mark.parametrize(("charge", "sign"), [("hole", 1), ("electron", -1)])
def test_single_carrier_hall_coefficient_and_no_magnetoresistance(charge, sign):
    """One carrier kind, sigma = 1e6 S/m, mu = 0.5 m^2/(V s) (n = 1.25e25 m^-3): R_H =
    s/(n e) at mu B = 0.5 and 1.5, with the sign of the charge, and rho_xx(B) = 1/sigma.
    Measured (P2, h = 0.2 um, arm width W/10; the arms' corners and the short they make
    across the Hall field dominate): R_H within 7.2e-4 of s/(n e), rho_xx(0) within
    1.4e-3 of 1/sigma, rho_xx(B)/rho_xx(0) - 1 <= 1.04e-4 (a missing or wrong 1 + mu^2 B^2
    would give 0.25 or 2.25; at h = 0.1 um: 1.2e-4 and 4.2e-5)."""
    mobility = 0.5
    density = SIGMA / (ELEMENTARY_CHARGE * mobility)
    expected = sign / (density * ELEMENTARY_CHARGE)
    _, mesh, _, zero = solve(hall_bar_table([carrier(mobility, charge)], 0.0))
    _, rho_0 = hall_bar_resistivities(zero, 1.0)
    assert rho_0 == pytest.approx(1 / SIGMA, rel=2e-3)
    for field in (1.0, 3.0):
        *_, solution = solve(hall_bar_table([carrier(mobility, charge)], field), mesh)
        hall, rho = hall_bar_resistivities(solution, field)
        assert hall == pytest.approx(expected, rel=1e-3), (charge, field)
        assert rho == pytest.approx(rho_0, rel=2e-4), (charge, field)


def two_band(n: float, p: float, mu_n: float, mu_p: float, field: float) -> tuple[float, float]:
    """Classic two-band (R_H(B), Delta rho / rho_0) of electrons n, mu_n and holes p, mu_p."""
    e, b2 = ELEMENTARY_CHARGE, field**2
    hall = (p * mu_p**2 - n * mu_n**2 + (p - n) * mu_p**2 * mu_n**2 * b2) / (
        e * ((p * mu_p + n * mu_n) ** 2 + (p - n) ** 2 * mu_p**2 * mu_n**2 * b2)
    )
    sigma_n, sigma_p = e * n * mu_n, e * p * mu_p
    change = (
        sigma_n
        * sigma_p
        * (mu_n + mu_p) ** 2
        * b2
        / ((sigma_n + sigma_p) ** 2 + (sigma_n * mu_p - sigma_p * mu_n) ** 2 * b2)
    )
    return hall, change


def test_two_carrier_hall_coefficient_and_magnetoresistance():
    """Electrons (0.6 sigma, mu_n = 1) and holes (0.4 sigma, mu_p = 0.3) on the Hall bar:
    R_H(B) and Delta rho/rho at B = 0.5, 1, 2 T against the two-band closed forms
    (R_H changes by a factor 2.5 over them, Delta rho/rho = 0.100, 0.387, 1.359).
    Measured: R_H within 8.9e-4 (the arms' short, as for one kind), Delta rho/rho within
    1.2e-5 absolute."""
    sigma_n, sigma_p, mu_n, mu_p = 0.6 * SIGMA, 0.4 * SIGMA, 1.0, 0.3
    carriers = [carrier(mu_n, "electron", sigma_n), carrier(mu_p, "hole", sigma_p)]
    n = sigma_n / (ELEMENTARY_CHARGE * mu_n)
    p = sigma_p / (ELEMENTARY_CHARGE * mu_p)
    _, mesh, _, zero = solve(hall_bar_table(carriers, 0.0))
    _, rho_0 = hall_bar_resistivities(zero, 1.0)
    for field in (0.5, 1.0, 2.0):
        *_, solution = solve(hall_bar_table(carriers, field), mesh)
        hall, rho = hall_bar_resistivities(solution, field)
        expected_hall, expected_change = two_band(n, p, mu_n, mu_p, field)
        assert hall == pytest.approx(expected_hall, rel=1.5e-3), field
        assert rho / rho_0 - 1 == pytest.approx(expected_change, abs=5e-5), field


# -- Corbino disc ------------------------------------------------------------------------------


def test_corbino_geometric_magnetoresistance():
    """A 2D ring 1-3 um, one electron kind with mu = 2 m^2/(V s): R(B)/R(0) = 1 + mu^2 B^2
    for B = 0.5, 2 T (2 and 17); exact on any mesh (the Hall part of the form vanishes for
    test functions that are zero on the two circles), measured to 1e-15; R(0) is the
    isotropic ln(r2/r1)/(2 pi sigma) to 1.0e-4 (the polygonal circles)."""
    mobility = 2.0
    table = {
        "geometry": {
            "kind": "ring",
            "dimension": 2,
            "inner_radius": 1.0,
            "outer_radius": 3.0,
            "mesh_size": 0.2,
        },
        "materials": {"drude": material([carrier(mobility, "electron")])},
        "regions": {"channel": {"material": "drude"}},
        "contacts": {"inner": {"voltage_V": 1e-3}, "outer": {"voltage_V": 0.0}},
        "fields": {"magnetic_field_T": [0.0, 0.0, 0.0]},
        "physics": {"transport": "ohmic"},
    }
    _, mesh, _, zero = solve(table)
    r0 = 1 / zero.conductance_matrix_S[0, 0]
    assert r0 == pytest.approx(math.log(3.0) / (2 * math.pi * SIGMA), rel=2e-4)
    for field in (0.5, 2.0):
        table["fields"]["magnetic_field_T"] = [0.0, 0.0, field]
        *_, solution = solve(table, mesh)
        ratio = 1 / solution.conductance_matrix_S[0, 0] / r0
        assert ratio == pytest.approx(1 + mobility**2 * field**2, rel=1e-10)


# -- bar with whole-face contacts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("dimension", "direction", "factor"),
    [(2, (1, 0, 0), 0.0), (2, (0, 1, 0), 1.0), (3, (1, 0, 0), 0.0)],
)
def test_bar_longitudinal_and_slab_magnetoresistance(dimension, direction, factor):
    """A bar along x with whole-face contacts carries a uniform J = sigma(B) E with E || x.
    B || x: sigma(B) x = sigma x (the mu^2 B B^T term cancels the denominator), so R(B) =
    R(0) in 2D and 3D.  B || y in 2D (a slab uniform along z, where no Hall field can build
    up along z): J_x = sigma/(1 + mu^2 B^2) E_x, R(B)/R(0) = 1 + mu^2 B^2 (5 and 26 for
    mu = 1, B = 2, 5 T).  Exact on any mesh; measured to 1e-13."""
    mobility = 1.0
    table = {
        "geometry": {
            "kind": "bar",
            "dimension": dimension,
            "length": 6.0,
            "width": 1.0,
            "thickness": 0.5,
            "mesh_size": 0.5,
        },
        "materials": {"drude": material([carrier(mobility, "hole")])},
        "regions": {"channel": {"material": "drude"}},
        "contacts": {"source": {"voltage_V": 1e-3}, "drain": {"voltage_V": 0.0}},
        "fields": {"magnetic_field_T": [0.0, 0.0, 0.0]},
        "physics": {"transport": "ohmic"},
    }
    _, mesh, _, zero = solve(table)
    r0 = 1 / zero.conductance_matrix_S[0, 0]
    area = 1.0 * UM * (0.5 * UM if dimension == 3 else 1.0)
    assert r0 == pytest.approx(6.0 * UM / (SIGMA * area), rel=1e-10)
    for field in (2.0, 5.0):
        table["fields"]["magnetic_field_T"] = [field * c for c in direction]
        *_, solution = solve(table, mesh)
        ratio = 1 / solution.conductance_matrix_S[0, 0] / r0
        assert ratio == pytest.approx(1 + factor * mobility**2 * field**2, rel=1e-10)


# -- reciprocity and the isotropic limit --------------------------------------------------------

FIELD_T = np.array([0.6, -0.3, 0.4])
CARRIERS = [carrier(2.0, "electron", 0.7 * SIGMA), carrier(0.5, "hole", 0.3 * SIGMA)]


def general_hall_bar(carriers: list[dict], field_T, dimension: int = 3) -> dict:
    """TaAs with sigma = 1e6 S/m and these carriers on a Hall bar, charge_valley (anomaly
    and CME on), relaxing walls, B along a general direction."""
    geometry = dict(
        HALL_BAR,
        dimension=dimension,
        length=10.0,
        width=2.0,
        thickness=0.5,
        arm_width=0.5,
        mesh_size=0.5,
        probe_positions=[10 / 3, 20 / 3],
    )
    table = hall_bar_table(carriers, 0.0, transport="charge_valley")
    table["geometry"] = {"kind": "hall_bar", **geometry}
    table["materials"] = {"drude": material(carriers, base="TaAs")}
    table["contacts"]["source"] = {"voltage_V": 1.0e-3}
    table["walls"] = {"walls": {"valley_conductance_S_per_m2": 1.0e11}}
    table["fields"] = {"magnetic_field_T": list(field_T)}
    table["physics"]["element_degree"] = 1
    return table


def four_probe(solution, current, voltage) -> float:
    return solution.response.four_probe(FourProbe(current, voltage), solution.resistance_matrix_ohm)


COMBINATIONS = [  # (current i -> j, voltage k - l)
    (("source", "drain"), ("probe_1_bottom", "probe_1_top")),
    (("source", "drain"), ("probe_1_top", "probe_2_bottom")),
    (("probe_1_bottom", "probe_2_top"), ("source", "probe_2_bottom")),
    (("source", "probe_1_top"), ("drain", "probe_2_top")),
]


def test_reciprocity_with_drude_tensor():
    """R_ij,kl(B) = R_kl,ij(-B) with two carrier kinds, anomaly and CME on and B =
    (0.6, -0.3, 0.4) T (3D): measured <= 2.1e-11 relative (4e-14 for all but the smallest,
    R = 0.01 ohm), while R_ij,kl(B) - R_kl,ij(B), R_ij,kl(B) - R_ij,kl(-B) (the ordinary
    Hall effect) and R(B) - R(0) are 13-440%; G(B) = G(-B)^T to 2.5e-14 (G itself is 7%
    asymmetric) and the dissipated power equals sum_k V_k I_k to 3e-14."""
    mesh, solutions = None, {}
    for sign in (1, -1, 0):
        _, mesh, problem, solutions[sign] = solve(general_hall_bar(CARRIERS, sign * FIELD_T), mesh)
        assert [type(t) for t in problem.model.terms].count(DrudeTerm) == 1
        assert not any(isinstance(t, OhmicTerm) for t in problem.model.terms)
    g = solutions[1].conductance_matrix_S
    assert np.abs(g - solutions[-1].conductance_matrix_S.T).max() <= 1e-12 * np.abs(g).max()
    assert np.abs(g - g.T).max() > 0.05 * np.abs(g).max()
    for current, voltage in COMBINATIONS:
        forward = four_probe(solutions[1], current, voltage)
        assert four_probe(solutions[-1], voltage, current) == pytest.approx(forward, rel=1e-9)
        for other in (
            four_probe(solutions[1], voltage, current),
            four_probe(solutions[-1], current, voltage),
            four_probe(solutions[0], current, voltage),
        ):
            assert abs(other - forward) > 0.1 * abs(forward), (current, voltage)
    for solution in solutions.values():
        power = float(np.dot(solution.voltages_V, solution.currents_A))
        assert solution.dissipated_power_W == pytest.approx(power, rel=1e-10)


def test_zero_mobility_and_zero_field_are_isotropic():
    """With mu = 0 (at B != 0) or at B = 0 (mu != 0) the Drude term gives the resistance
    matrix of the isotropic ohmic term to roundoff (charge_valley, anomaly on, 2D);
    with mu != 0 at B != 0 it differs by more than 1%."""
    mesh, matrices = None, {}
    cases = {
        "isotropic": ([], FIELD_T),
        "mu = 0": ([carrier(0.0, "electron")], FIELD_T),
        "B = 0, isotropic": ([], 0 * FIELD_T),
        "B = 0": (CARRIERS, 0 * FIELD_T),
        "mu, B": (CARRIERS, FIELD_T),
    }
    for name, (carriers, field) in cases.items():
        _, mesh, problem, solution = solve(general_hall_bar(carriers, field, dimension=2), mesh)
        drude = any(isinstance(t, DrudeTerm) for t in problem.model.terms)
        assert drude == bool(carriers)
        matrices[name] = solution.resistance_matrix_ohm
    scale = np.abs(matrices["isotropic"]).max()
    assert np.abs(matrices["mu = 0"] - matrices["isotropic"]).max() <= 1e-12 * scale
    assert np.abs(matrices["B = 0"] - matrices["B = 0, isotropic"]).max() <= 1e-12 * scale
    assert np.abs(matrices["mu, B"] - matrices["isotropic"]).max() > 1e-2 * scale


# -- inputs ------------------------------------------------------------------------------------


def test_carrier_inputs_are_checked_and_shown():
    """[materials.X] carriers: the several kinds' conductivities must add up to sigma, each
    is needed, charge and mobility are checked; `weylfem materials` lists the kinds with
    n = sigma_i/(e mu_i) and R_H(0)."""
    table = hall_bar_table([carrier(1.0, "electron", 0.6 * SIGMA), carrier(0.3, "hole")], 1.0)
    expect_error(table, "materials.drude.carriers[1].conductivity_S_per_m", "got none")
    table["materials"]["drude"]["carriers"][1]["conductivity_S_per_m"] = 0.5 * SIGMA
    expect_error(table, "materials.drude.carriers", "got a sum of 1.1e+06")
    table["materials"]["drude"]["carriers"] = [carrier(1.0, "proton")]
    expect_error(table, "materials.drude.carriers[0].charge", "got 'proton'")
    table["materials"]["drude"]["carriers"] = [carrier(-1.0, "hole")]
    expect_error(table, "materials.drude.carriers[0].mobility_m2_per_Vs", "got -1.0")
    table["materials"]["drude"]["carriers"] = [carrier(0.5, "hole")]
    drude = device_from_mapping(table, "dev.toml").material_of("channel")
    assert drude.carrier_conductivities_S_per_m == (SIGMA,)
    assert drude.ordinary_hall_coefficient_m3_per_C == pytest.approx(0.5 / SIGMA, rel=1e-15)
    text = format_material(drude)
    assert "hole      sigma_i = 1e+06 S/m, mu = 0.5 m^2/(V s), n = 1.248e+25 m^-3" in text
    assert "R_H" in text
