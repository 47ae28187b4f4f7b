"""The valley-motive force f as a source, against the exact 1D solution.

A bar along x, f = f0 x-hat uniform, B = B0 x-hat.  The source contact (x = 0) relaxes
valley (phi_v = 0) and floats; the drain (x = L) is grounded and valley-insulating
(J_v.n = 0 there, i.e. phi_v'(L) = -f0).  Open circuit means J = 0 everywhere, so
phi_c' = Gamma B0 phi_v / sigma, and the valley balance becomes
-sigma_v phi_v'' + kappa phi_v = 0 with kappa = e^2 N/tau_v + Gamma^2 B0^2/sigma:

    phi_v(x) = -f0 lambda sinh(x/lambda) / cosh(L/lambda),   lambda^2 = sigma_v/kappa,
    V_source = -(Gamma B0/sigma) int_0^L phi_v dx
             = (Gamma B0/sigma) f0 lambda^2 (cosh(L/lambda) - 1) / cosh(L/lambda).
"""

import math

import numpy as np
import pytest
import ufl
from dolfinx import fem
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.meshing import mesh_device
from weylfem.transport import TransportProblem

pytestmark = pytest.mark.mpi

LENGTH_UM, FORCE_V_PER_M = 3.0, 1e3


def solve(field_T: float, comm):
    device = device_from_mapping(
        {
            "geometry": {
                "kind": "bar",
                "dimension": 2,
                "length": LENGTH_UM,
                "width": 0.5,
                "mesh_size": 0.06,  # lambda_v / 5 (lambda_v = 0.31 um at B = 0)
            },
            "regions": {"channel": {"material": "Co3Sn2S2"}},
            "contacts": {
                "source": {"floating": True},
                "drain": {"voltage_V": 0.0, "valley_conductance_S_per_m2": 0.0},
            },
            "fields": {"magnetic_field_T": [field_T, 0.0, 0.0]},
            "physics": {"transport": "charge_valley", "element_degree": 2},
        },
        "motive force",
    )
    device_mesh = mesh_device(device, comm)
    force = fem.Constant(device_mesh.mesh, FORCE_V_PER_M)
    zero = fem.Constant(device_mesh.mesh, 0.0)
    problem = TransportProblem(device, device_mesh, motive_force=ufl.as_vector((force, zero, zero)))
    return device, problem, problem.solve()


def exact_length(device, field_T):
    material = device.material_of("channel")
    sigma = material.conductivity_S_per_m
    gamma = material.anomaly_coefficient_A_per_m2_V_T
    kappa = (
        ELEMENTARY_CHARGE**2
        * material.density_of_states_per_J_m3
        / material.valley_relaxation_time_s
        + gamma**2 * field_T**2 / sigma
    )
    return math.sqrt(material.sigma_v / kappa), sigma, gamma


@pytest.mark.parametrize("field_T", [0.0, 2.0])
def test_valley_profile_and_open_circuit_voltage(field_T, comm):
    device, problem, solution = solve(field_T, comm)
    length = LENGTH_UM * 1e-6
    lam, sigma, gamma = exact_length(device, field_T)
    valley = solution.valley_potential
    x = valley.function_space.tabulate_dof_coordinates()[:, 0]
    exact = -FORCE_V_PER_M * lam * np.sinh(x / lam) / math.cosh(length / lam)
    scale = FORCE_V_PER_M * lam * math.tanh(length / lam)
    error = comm.allreduce(np.max(np.abs(valley.x.array - exact)), op=MPI.MAX)
    assert error < 1e-4 * scale, error / scale

    source = solution.contact_order.index("source")
    expected = (
        (gamma * field_T / sigma)
        * FORCE_V_PER_M
        * lam**2
        * (math.cosh(length / lam) - 1)
        / math.cosh(length / lam)
    )
    if field_T == 0.0:
        assert abs(solution.voltages_V[source]) < 1e-12
    else:
        assert solution.voltages_V[source] == pytest.approx(expected, rel=1e-4)
    # the floating source carries no current, computed directly from the fields
    direct = problem.contacts.currents(solution.state)
    sigma_v = device.material_of("channel").sigma_v
    reference = sigma_v * FORCE_V_PER_M * 0.5e-6  # sigma_v f0 W: the valley current's scale
    np.testing.assert_allclose(direct, 0.0, atol=1e-10 * reference)
