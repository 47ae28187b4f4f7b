"""Energy balance and Onsager reciprocity of the coupled charge-valley-magnet dynamics.

The ledger of a coupled run (`weylfem.coupled.ledger`) measures every term of

    dE_mag = W_contacts - Q_Gilbert - Q_transport - Q_coupling

independently.  It closes to first order in the step (the staggered scheme) only because
the valley torque and the motive force are paired as docs/theory.md §3 demands: the same
operator (1 - beta m x), eta with the same sign on both sides.  Flipping the sign of eta
or of beta on one side breaks it.
"""

import numpy as np
import pytest
import ufl
from conftest import interface_film_table
from dolfinx import fem
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.coupled.problem import CoupledProblem, ValleyLink, transport_magnetization
from weylfem.coupled.valley_torque import (
    ValleyCouplingCoefficients,
    ValleyTorque,
    build_valley_coupling,
)
from weylfem.magnet.energy import gradient3
from weylfem.magnet.setup import build_magnet, magnet_coefficients
from weylfem.magnet.simulation import make_integrator
from weylfem.meshing import mesh_device
from weylfem.transport.coefficients import device_magnetization
from weylfem.transport.problem import TransportProblem


def balance_table(step_s: float, steps: int, beta: float) -> dict:
    """A precessing film (m tilted from the 20 T easy axis z) whose bottom face relaxes
    valley, driven by a current with B along it.  alpha_p = (gamma/M_s) sigma_v (hbar k0/e)^2
    = 0.040 against alpha = 0.05: the coupling carries a large part of the dissipation."""
    magnet = {
        "base": "Co3Sn2S2",
        "valley_conductivity_S_per_m": 1.0e6,
        "node_half_separation_per_m": 1.96e8,
        "valley_torque_beta": beta,
    }
    table = interface_film_table(
        direction=(0.6, 0.0, 0.8), mesh_size_um=0.4, thickness_um=4.0, magnet=magnet
    )
    table["dynamics"] = {"end_time_s": step_s * steps, "time_step_s": step_s}
    return table


def scaled(function: fem.Function, factor: float) -> fem.Function:
    copy = fem.Function(function.function_space)
    copy.x.array[:] = factor * function.x.array
    return copy


def assemble(device, device_mesh, torque_eta=1.0, torque_beta=1.0, motive_beta=1.0):
    """The coupled problem of `device`, assembled from its parts like build_coupled, with
    eta or beta of one side multiplied by the given factors."""
    coefficients = magnet_coefficients(device, device_mesh)
    materials = {name: device.material_of(name) for name in device.magnetic_regions()}
    coupling = build_valley_coupling(device_mesh, materials)
    link = ValleyLink.create(coefficients, coupling)
    link.torque = ValleyTorque(
        coefficients,
        link.valley_potential,
        ValleyCouplingCoefficients(
            scaled(coupling.eta, torque_eta),
            scaled(coupling.beta, torque_beta),
            coupling.conductivity,
        ),
    )
    link.coupling = ValleyCouplingCoefficients(
        coupling.eta, scaled(coupling.beta, motive_beta), coupling.conductivity
    )
    magnet = build_magnet(
        device, device_mesh, coefficients=coefficients, extra_torques=[link.torque]
    )
    m = magnet.problem.m
    transport = TransportProblem(
        device,
        device_mesh,
        magnetization=transport_magnetization(
            m, coefficients, device_magnetization(device, device_mesh)
        ),
        motive_force=link.motive_force(m),
    )
    integrator = make_integrator(magnet.problem, device)
    return CoupledProblem(transport, magnet.problem, integrator, link)


def run(comm, step_s: float, steps: int, beta: float = 1.0, **flips):
    device = device_from_mapping(balance_table(step_s, steps, beta))
    problem = assemble(device, mesh_device(device, comm), **flips)
    for _ in range(steps):
        problem.step(step_s)
    return problem.ledger


@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_energy_balance_closes(comm, beta):
    """Over 1 ps (half a precession period) in steps of 40 and 10 fs."""
    coarse = run(comm, 4e-14, 25, beta)
    fine = run(comm, 1e-14, 100, beta)
    for ledger in (coarse, fine):
        # the coupling is a real part of the dissipation; the magnet loses energy
        assert ledger.coupling_dissipation_J < -0.1 * ledger.gilbert_dissipation_J
        assert ledger.magnetic_energy_change_J < 0
    assert fine.relative_residual < 1e-3
    assert fine.relative_residual < coarse.relative_residual / 4


@pytest.mark.parametrize(
    "beta, flip",
    [(0.1, {"torque_eta": -1.0}), (1.0, {"torque_beta": -1.0}), (1.0, {"motive_beta": -1.0})],
    ids=["eta-of-torque", "beta-of-torque", "beta-of-motive-force"],
)
def test_a_wrong_sign_on_one_side_breaks_the_balance(comm, beta, flip):
    assert run(comm, 2e-14, 50, beta, **flip).relative_residual > 0.03


def reciprocity_table(field, direction, source: dict) -> dict:
    table = interface_film_table(direction=direction, mesh_size_um=0.4, thickness_um=4.0)
    table["fields"]["magnetic_field_T"] = list(field)
    table["contacts"]["source"] = {**source, "valley_conductance_S_per_m2": 0.0}
    return table


def test_torque_per_current_equals_pumped_voltage_per_rate(comm):
    """Onsager: the torque the valleys exert per unit current entering at `source`, in
    the direction of a rotation rate delta (T_delta = int M_s B_v . delta dx), equals
    the voltage the same rotation rate pumps at the floating `source` with B and m
    reversed (docs/theory.md §3: L(B, m)^T = L(-B, -m); the torque and the motive force carry
    (1 - beta m x) on both sides)."""
    field, m = np.array([1.0, 0.5, 0.0]), np.array([0.3, 0.5, 0.8]) / np.sqrt(0.98)
    delta = np.cross(m, [1.0, 0.0, 0.0])
    delta /= np.linalg.norm(delta)
    rate = 1e9  # 1/s

    current = 1e-3
    device = device_from_mapping(reciprocity_table(field, m, {"current_A": current}))
    driven = assemble(device, mesh_device(device, comm))
    link, magnet = driven.link, driven.magnet
    coupling = link.coupling
    gradient = gradient3(link.valley_potential)
    direction = fem.Constant(magnet.device_mesh.mesh, tuple(delta))
    work = (
        -(coupling.eta * coupling.conductivity / ELEMENTARY_CHARGE)
        * ufl.dot(gradient, direction + coupling.beta * ufl.cross(magnet.m, direction))
        * magnet.dx
    )
    torque = comm.allreduce(fem.assemble_scalar(fem.form(work)), op=MPI.SUM)

    def pumped_voltage(sign: float) -> float:
        table = reciprocity_table(sign * field, sign * m, {"current_A": 0.0})
        device = device_from_mapping(table)
        pump = assemble(device, mesh_device(device, comm))
        values = pump.link.rate.x.array.reshape(-1, 3)
        values[pump.magnet.magnetic_nodes] = rate * delta
        pump.link.rate.x.scatter_forward()
        pump.solve_transport()
        index = pump.transport.contact_order.index("source")
        return pump.voltages_V[index]

    reciprocal = pumped_voltage(-1.0) / rate
    assert torque / current == pytest.approx(reciprocal, rel=1e-6)
    assert abs(torque / current - pumped_voltage(1.0) / rate) > 0.1 * abs(reciprocal)
