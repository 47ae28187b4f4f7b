"""Interface valley torque (TS Sec. IV.B, Eq. 32) and current-driven switching.

A film whose bottom face relaxes valley, current along the face, B along the current:
the anomaly makes a bulk valley imbalance phi_b = tau_v Gamma (B.E)/(e^2 N), the face
pulls it down over lambda_v, and the torque per unit area of the face is

    T/A = -(eta sigma_v / e) c phi_b [m x n - beta m x (m x n)],   c = G lambda/(sigma_v + G lambda)

(docs/theory.md §3, TS Eq. 32 with the Robin factor of docs/theory.md §2), n the outward
normal of the face.  The film is 8 lambda_v thick with an insulating top, so the
boundary layer is that of a half-space to 7e-4.
"""

import numpy as np
import pytest
from conftest import interface_film_table

from weylfem.config import device_from_mapping
from weylfem.constants import ELEMENTARY_CHARGE, VACUUM_PERMEABILITY
from weylfem.coupled.setup import build_coupled
from weylfem.meshing import mesh_device

NORMAL = np.array([0.0, -1.0, 0.0])
"""outward normal of the relaxing bottom face"""


def coupled(table: dict, comm):
    device = device_from_mapping(table)
    return device, build_coupled(device, mesh_device(device, comm)).problem


def analytic_torque_per_area(device, conductance: float, voltage: float, m) -> tuple:
    """(field-like, damping-like) torque per area of TS Eq. 32 with the Robin factor."""
    material = device.material_of("channel")
    sigma_v, eta = material.sigma_v, material.eta
    lam = material.valley_diffusion_length_m
    # B = applied + mu_0 M_s m (docs/theory.md §2, "Self-consistent B"; no demagnetization)
    m = np.asarray(m, dtype=float) / np.linalg.norm(m)
    field = np.array(device.fields.magnetic_field_T) + (
        VACUUM_PERMEABILITY * material.saturation_magnetization_A_per_m * m
    )
    electric = np.array([voltage / (device.geometry.length * 1e-6), 0.0, 0.0])
    bulk = (
        material.valley_relaxation_time_s
        * material.anomaly_coefficient_A_per_m2_V_T
        * field.dot(electric)
        / (ELEMENTARY_CHARGE**2 * material.density_of_states_per_J_m3)
    )
    c = conductance * lam / (sigma_v + conductance * lam)
    scale = -(eta * sigma_v / ELEMENTARY_CHARGE) * c * bulk
    m_x_n = np.cross(m, NORMAL)
    return scale * m_x_n, -scale * material.valley_torque_beta * np.cross(m, m_x_n)


@pytest.mark.parametrize(
    "conductance, direction",
    [(1e15, (0.0, 0.0, 1.0)), (1e15, (0.6, 0.0, 0.8)), (1.5e12, (0.0, 0.0, 1.0))],
    ids=["full-relaxation", "tilted-m", "partial-robin"],
)
def test_interface_torque_per_area_is_ts_eq_32(comm, conductance, direction):
    table = interface_film_table(conductance=conductance, direction=direction)
    device, problem = coupled(table, comm)
    torques = problem.interface_torques()
    assert list(torques) == ["bottom"]  # the only valley-relaxing face
    bottom = torques["bottom"]
    assert bottom.area_m2 == pytest.approx(8e-6, rel=1e-12)  # per metre of 2D thickness
    field_like, damping_like = analytic_torque_per_area(device, conductance, 1e-3, direction)
    measured = bottom.per_area()
    scale = np.linalg.norm(field_like)
    assert np.linalg.norm(measured["field_like"] - field_like) < 0.02 * scale
    assert np.linalg.norm(measured["damping_like"] - damping_like) < 0.02 * np.linalg.norm(
        damping_like
    )
    # every magnetic cell is attributed to the one relaxing face: its torque is the total
    total_field_like, total_damping_like = problem.valley_torque_J()
    assert np.allclose(bottom.field_like_J, total_field_like, rtol=1e-12, atol=0)
    assert np.allclose(bottom.damping_like_J, total_damping_like, rtol=1e-12, atol=0)


def test_partial_relaxation_follows_the_robin_factor(comm):
    """G_v lambda = sigma_v halves the torque of a fully relaxing face (c = 1/2)."""
    material = device_from_mapping(interface_film_table()).material_of("channel")
    half = material.sigma_v / material.valley_diffusion_length_m
    torque = {}
    for conductance in (1e18, half):
        _, problem = coupled(interface_film_table(conductance=conductance), comm)
        torque[conductance] = problem.interface_torques()["bottom"].total_J
    ratio = np.linalg.norm(torque[half]) / np.linalg.norm(torque[1e18])
    assert ratio == pytest.approx(0.5, rel=0.01)


def test_torque_sign_follows_j_dot_b(comm):
    """Reversing B or the current reverses the torque."""
    _, problem = coupled(interface_film_table(), comm)
    reference = problem.interface_torques()["bottom"].total_J
    for field_T, voltage in ((-1.0, 1e-3), (1.0, -1e-3)):
        _, flipped = coupled(interface_film_table(field_T=field_T, voltage_V=voltage), comm)
        assert np.allclose(
            flipped.interface_torques()["bottom"].total_J, -reference, rtol=1e-6, atol=0
        )


def test_hall_field_follows_the_evolving_m(comm):
    """With B perpendicular to J (in plane) only the anomalous Hall field E_y ~ -theta E_x
    (m = z) drives the anomaly.  Turning the magnet's m to -z (no new problem: the
    transport's Hall term reads the evolving m) reverses E_y and phi_v: the field-like
    torque (m x grad phi_v) stays, the damping-like one reverses."""
    table = interface_film_table()
    table["fields"]["magnetic_field_T"] = [0.0, 1.0, 0.0]
    device, problem = coupled(table, comm)
    up = problem.interface_torques()["bottom"]
    problem.magnet.set_magnetization((0.0, 0.0, -1.0))
    problem.synchronize()
    down = problem.interface_torques()["bottom"]
    # to the order of the anomaly's own feedback, (Gamma B)^2 tau_v/(e^2 N sigma) = 6e-4
    field_like, damping_like = np.linalg.norm(up.field_like_J), np.linalg.norm(up.damping_like_J)
    assert np.linalg.norm(down.field_like_J - up.field_like_J) < 2e-3 * field_like
    assert np.linalg.norm(down.damping_like_J + up.damping_like_J) < 2e-3 * damping_like
    # the Hall drive is of order theta: B along J at the same |B| drives 1/theta more
    _, parallel = coupled(interface_film_table(), comm)
    theta = abs(device.material_of("channel").hall_angle)
    ratio = np.linalg.norm(up.total_J) / np.linalg.norm(
        parallel.interface_torques()["bottom"].total_J
    )
    assert 0.3 * theta < ratio < theta
