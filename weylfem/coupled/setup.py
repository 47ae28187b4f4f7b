"""From a Device to a CoupledProblem, in one ordered function, `build_coupled`:

1. the magnet's coefficients and the valley coupling (eta, beta, sigma) of its regions
   (every magnet has eta and alpha >= alpha_p: `config.check_valley_coupling`);
2. the link: phi_v and dm/dt as Functions, and the valley torque that reads phi_v;
3. the micromagnetic problem with the valley torque among its torques;
4. the transport, with the valley-motive force of dm/dt, the anomalous Hall effect of
   the evolving m in the magnetic regions, and B the carriers' full induction (applied,
   static and time-dependent, plus the magnet's mu_0 (M_s m + H_d): `coupled.induction`);
5. the LLG integrator and, for a transient valley, the valley stepper;
6. the coupled problem, which solves the transport at t = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from weylfem.coupled.induction import carrier_induction
from weylfem.coupled.problem import CoupledProblem, ValleyLink, transport_magnetization
from weylfem.coupled.valley_torque import build_valley_coupling
from weylfem.device import Coupling, Device, Transient
from weylfem.geometry import DeviceMesh
from weylfem.magnet.setup import MagnetSetup, build_magnet, magnet_coefficients
from weylfem.magnet.simulation import make_integrator
from weylfem.magnet.tangent_plane import TangentPlaneIntegrator
from weylfem.transport.coefficients import device_magnetic_field, device_magnetization
from weylfem.transport.problem import TransportProblem
from weylfem.transport.transient import TransientTransport


@dataclass
class CoupledSetup:
    """The coupled problem of a device and its magnet part (for results.json)."""

    problem: CoupledProblem
    magnet: MagnetSetup


def build_coupled(
    device: Device,
    device_mesh: DeviceMesh,
    integrator: TangentPlaneIntegrator | None = None,
) -> CoupledSetup:
    """The coupled charge-valley-magnet problem of `device` (valid, with [dynamics] and
    the charge_valley transport).  The LLG integrator is the device's (`make_integrator`)
    unless given."""
    coupling_options = device.coupling or Coupling()
    coefficients = magnet_coefficients(device, device_mesh)
    materials = {name: device.material_of(name) for name in device.magnetic_regions()}
    coupling = build_valley_coupling(device_mesh, materials)
    link = ValleyLink.create(coefficients, coupling, device.physics.element_degree)
    magnet = build_magnet(
        device, device_mesh, coefficients=coefficients, extra_torques=[link.torque]
    )
    m = magnet.problem.m
    transport = TransportProblem(
        device,
        device_mesh,
        magnetic_field=carrier_induction(
            device_magnetic_field(device, device_mesh),
            magnet,
            coefficients,
            with_magnet=coupling_options.magnet_induction,
        ),
        magnetization=transport_magnetization(
            m, coefficients, device_magnetization(device, device_mesh)
        ),
        motive_force=link.motive_force(m),
    )
    if integrator is None:
        integrator = make_integrator(magnet.problem, device)
    transient = transient_valley(transport, device, coupling_options)
    problem = CoupledProblem(
        transport,
        magnet.problem,
        integrator,
        link,
        transient=transient,
        drive=coupling_options.drive_scale,
        average_from_s=coupling_options.average_from_s,
        field_varies=coupling_options.magnet_induction or device.applied_field is not None,
    )
    return CoupledSetup(problem, magnet)


def transient_valley(
    transport: TransportProblem, device: Device, options: Coupling
) -> TransientTransport | None:
    """The time-stepped valley balance of [coupling] valley = "transient", over the
    dynamics' schedule (None: the valley balance is steady at every step)."""
    if options.valley != "transient":
        return None
    dynamics = device.dynamics
    return TransientTransport(
        transport,
        Transient(
            end_time_s=max(dynamics.end_time_s, dynamics.time_step_s),
            time_step_s=dynamics.time_step_s,
            waveform=options.waveform,
            frequency_Hz=options.frequency_Hz,
            pulse_width_s=options.pulse_width_s,
        ),
    )
