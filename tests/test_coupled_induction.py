"""Self-consistent B (docs/theory.md §2, "Self-consistent B"): when a magnet is modelled,
the carriers feel B = B_applied + mu_0 (M_s m + H_d), so a magnet at zero applied field
shows its own chiral anomaly.

A 20 x 1 um Co3Sn2S2 bar (library values) between whole-face contacts, uniformly
magnetised, no applied field, a thin-film demagnetizing field H_d = -M_s (m.n) n: inside
the film B = mu_0 M_s (m - (m.n) n) = mu_0 M_s (1 - N) m along an axis with demagnetizing
factor N.  The conductance change is that of the exact 1D Son-Spivak bar at that B
(tests/test_charge_valley.py): B along the current with N = 0 (normal z) gives
B = mu_0 M_s = 0.0924 T and dG/G = 5e-6; the same magnet with its normal along the current
(N = 1 there) gives no B along it and no change; turning m across the current (B perpendicular
to E) removes it as well, without a new problem: B follows the evolving m.
"""

import math

import pytest
from test_charge_valley import son_spivak_conductance

from weylfem.config import device_from_mapping
from weylfem.constants import VACUUM_PERMEABILITY
from weylfem.coupled.setup import build_coupled
from weylfem.meshing import mesh_device

pytestmark = pytest.mark.mpi

UM = 1e-6
VOLTAGE_V = 1e-3


def film_table(direction, normal) -> dict:
    return {
        "geometry": {
            "kind": "bar",
            "dimension": 2,
            "length": 20.0,
            "width": 1.0,
            "mesh_size": 0.25,
            "resolve_valley_layers": True,
        },
        "regions": {"channel": {"material": "Co3Sn2S2", "magnetization_direction": direction}},
        "contacts": {"source": {"voltage_V": VOLTAGE_V}, "drain": {"voltage_V": 0.0}},
        "physics": {"transport": "charge_valley"},
        "magnetization": {"demagnetization": "thin_film", "thin_film_normal": normal},
        "dynamics": {"end_time_s": 1e-13, "time_step_s": 1e-13},
        "solver": {"kind": "direct"},
    }


def conductance(problem) -> float:
    source = problem.transport.contact_order.index("source")
    return problem.currents_A[source] / VOLTAGE_V


def test_magnet_at_zero_applied_field_shows_its_own_anomaly(comm):
    device = device_from_mapping(film_table([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]), "film")
    device_mesh = mesh_device(device, comm)
    problem = build_coupled(device, device_mesh).problem
    material = device.material_of("channel")
    length, area = 20 * UM, 1 * UM
    ohmic = material.conductivity_S_per_m * area / length
    induction = VACUUM_PERMEABILITY * material.saturation_magnetization_A_per_m  # N = 0
    expected = son_spivak_conductance(material, induction, length, area) - ohmic
    change = conductance(problem) - ohmic
    print(f"B = {induction:.4f} T: dG/G = {change / ohmic:.4e}, expected {expected / ohmic:.4e}")
    assert expected / ohmic == pytest.approx(5.1e-6, rel=0.05)
    assert change == pytest.approx(expected, rel=1e-3)
    # m across the current: B = mu_0 M_s y is perpendicular to E, no anomaly; the transport
    # reads the evolving m (no new problem)
    problem.magnet.set_magnetization((0.0, 1.0, 0.0))
    problem.synchronize()
    assert abs(conductance(problem) - ohmic) < 1e-3 * expected


def test_time_dependent_applied_field_adds_to_the_induction(comm):
    """[applied_field] (a step of 0.5 T along the current from t = 0) adds to mu_0 M_s m in
    the B of the transport: at t > 0 the bar shows Son-Spivak(mu_0 M_s + 0.5 T)."""
    table = film_table([1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    table["applied_field"] = {"amplitude_T": [0.5, 0.0, 0.0]}
    device = device_from_mapping(table, "film")
    problem = build_coupled(device, mesh_device(device, comm)).problem
    problem.magnet.set_time(1e-13)
    problem.synchronize()
    material = device.material_of("channel")
    length, area = 20 * UM, 1 * UM
    ohmic = material.conductivity_S_per_m * area / length
    induction = VACUUM_PERMEABILITY * material.saturation_magnetization_A_per_m + 0.5
    expected = son_spivak_conductance(material, induction, length, area) - ohmic
    assert conductance(problem) - ohmic == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("angle_deg", [0.0, 40.0])
def test_demagnetizing_field_cancels_the_induction_along_the_normal(comm, angle_deg):
    """Film normal along the current (x): B = mu_0 M_s (m - m_x x) has no x component, so
    whatever the tilt of m in the x-y plane the bar shows no anomaly; without H_d it would
    show dG = Son-Spivak(mu_0 M_s cos(angle)) (> 0)."""
    angle = math.radians(angle_deg)
    direction = [math.cos(angle), math.sin(angle), 0.0]
    device = device_from_mapping(film_table(direction, [1.0, 0.0, 0.0]), "film")
    problem = build_coupled(device, mesh_device(device, comm)).problem
    material = device.material_of("channel")
    length, area = 20 * UM, 1 * UM
    ohmic = material.conductivity_S_per_m * area / length
    without_demag = VACUUM_PERMEABILITY * material.saturation_magnetization_A_per_m * direction[0]
    missing = son_spivak_conductance(material, without_demag, length, area) - ohmic
    assert abs(conductance(problem) - ohmic) < 1e-3 * missing
