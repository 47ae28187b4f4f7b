"""Valley pumping by a precessing magnet (TS Sec. IV.C, Eqs. 33-39; docs/theory.md §3).

A 2D strip: a magnet on 0 <= x <= 2 um, a non-magnetic channel up to a grounded metal end
at x = 7 um, and floating, valley-insulating probes on the edge y = 0.  The magnet
precesses about x in the field B x (Larmor), so

    <f> = (eta/e) <(1 - beta m x) dm/dt> = -(eta beta omega / e) sin^2(theta) x   (TS Eq. 33)

and the chiral magnetic effect reads the pumped valley imbalance out as DC probe voltages.
The transport is linear and quasi-static, so the time-averaged voltages of a coupled run
are one static solve with <f> on the magnet.  demos/valley_pumping.py is the full study.
"""

import math

import numpy as np
import pytest
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat
from weylfem.config import device_from_mapping
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.coupled.setup import build_coupled
from weylfem.materials import MATERIALS
from weylfem.meshing import mesh_device
from weylfem.transport.problem import TransportProblem

WIDTH, MAGNET, LENGTH, PATCH = 0.5, 2.0, 7.0, 0.1  # um
DISTANCES = (0.5, 1.5, 2.5)  # um from the end of the magnet
PROBES = [f"probe_{i}" for i in range(1, len(DISTANCES) + 1)]
GAMMA = MATERIALS["Co3Sn2S2"].gyromagnetic_ratio_rad_per_s_T
STEPS_PER_PERIOD = 100
UM = 1e-6

pytestmark = pytest.mark.mpi


def strip_script() -> str:
    """gmsh script: regions magnet and channel; boundaries ground (x = LENGTH), the probe
    patches on y = 0, interface and walls."""
    edges = [x for d in DISTANCES for x in (MAGNET + d - PATCH / 2, MAGNET + d + PATCH / 2)]
    bottom = [0.0, MAGNET, *edges, LENGTH]
    points = [(x, 0.0) for x in bottom] + [(LENGTH, WIDTH), (MAGNET, WIDTH), (0.0, WIDTH)]
    n = len(bottom)
    lines = ['SetFactory("Built-in");']
    lines += [f"Point({i}) = {{{x}, {y}, 0}};" for i, (x, y) in enumerate(points, 1)]
    lines += [f"Line({i}) = {{{i}, {i + 1}}};" for i in range(1, n + 3)]
    lines += [
        f"Line({n + 3}) = {{{n + 3}, 1}};",
        f"Line({n + 4}) = {{2, {n + 2}}};",
        f"Curve Loop(1) = {{1, {n + 4}, {n + 2}, {n + 3}}};",
        f"Curve Loop(2) = {{{', '.join(map(str, range(2, n + 2)))}, {-(n + 4)}}};",
        "Plane Surface(1) = {1};",
        "Plane Surface(2) = {2};",
        'Physical Surface("magnet") = {1};',
        'Physical Surface("channel") = {2};',
        f'Physical Curve("ground") = {{{n}}};',
        f'Physical Curve("interface") = {{{n + 4}}};',
    ]
    patches = [3 + 2 * i for i in range(len(DISTANCES))]
    lines += [
        f'Physical Curve("{p}") = {{{line}}};' for p, line in zip(PROBES, patches, strict=True)
    ]
    walls = [i for i in range(1, n) if i not in patches] + [n + 1, n + 2, n + 3]
    lines.append(f'Physical Curve("walls") = {{{", ".join(map(str, walls))}}};')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> str:
    """The strip's .geo file, in rank 0's temporary directory (read by every rank)."""
    world = MPI.COMM_WORLD
    path = None
    if world.rank == 0:
        path = tmp_path_factory.mktemp("valley_pumping") / "strip.geo"
        path.write_text(strip_script())
        path = str(path)
    path = world.bcast(path, root=0)
    world.barrier()
    return path


def strip_table(script: str, theta_deg=30.0, field_T=1.0, beta=0.1, periods=1.25) -> dict:
    """The pumping strip (k0 = 2e7 /m: alpha_min = 6.2e-4 < alpha = 1e-3; no anomalous
    Hall effect, no anisotropy), m tilted by theta from x, a step of a hundredth of the
    Larmor period; voltages averaged over the last period (from half a step before)."""
    period = 2 * math.pi * (1 + 1e-6) / (GAMMA * abs(field_T))
    step = period / STEPS_PER_PERIOD
    theta = math.radians(theta_deg)
    probe = {"floating": True, "valley_conductance_S_per_m2": 0.0}
    return {
        "name": "pumping strip",
        "geometry": {
            "kind": "file",
            "path": script,
            "dimension": 2,
            "length_unit": "um",
            "mesh_size": 0.125,
        },
        "materials": {
            "weyl_magnet": {
                "base": "Co3Sn2S2",
                "valley_conductivity_S_per_m": 1.5e6,  # sigma: lambda_v = 0.99 um
                "node_half_separation_per_m": 2.0e7,
                "hall_node_pairs": 0,
                "gilbert_damping": 1e-3,
                "valley_torque_beta": beta,
                "uniaxial_anisotropy_J_per_m3": 0.0,
            }
        },
        "regions": {
            "magnet": {
                "material": "weyl_magnet",
                "magnetization_direction": [math.cos(theta), math.sin(theta), 0.0],
            },
            "channel": {"material": "weyl_magnet"},
        },
        "contacts": {"ground": {"voltage_V": 0.0}, **{p: dict(probe) for p in PROBES}},
        "fields": {"magnetic_field_T": [field_T, 0.0, 0.0]},
        "physics": {"transport": "charge_valley"},
        "magnetization": {"demagnetization": "none", "regions": ["magnet"]},
        "dynamics": {"end_time_s": periods * period, "time_step_s": step},
        "coupling": {"average_from_s": (periods - 1.0) * period - step / 2},
    }


def indicator(device_mesh) -> fem.Function:
    """1 on the magnet's cells, 0 elsewhere (DG0)."""
    marker = fem.Function(compat.function_space(device_mesh.mesh, "DG", 0))
    tags = device_mesh.cell_tags
    marker.x.array[tags.indices[tags.values == device_mesh.cell_groups["magnet"]]] = 1.0
    return marker


def static_voltages(device, device_mesh, force) -> np.ndarray:
    """Probe voltages of the steady transport with the motive force `force` on the magnet."""
    constant = fem.Constant(device_mesh.mesh, np.asarray(force, dtype=float))
    problem = TransportProblem(device, device_mesh, motive_force=indicator(device_mesh) * constant)
    solution = problem.solve()
    return np.array([solution.voltages_V[solution.contact_order.index(p)] for p in PROBES])


_RUNS: dict = {}


def pumping_run(script: str, comm, **options) -> dict:
    """A coupled run (remembered per options): DC probe voltages, omega from the phase of
    (m_y, m_z), <sin^2 theta> = <1 - m_x^2> and the model's own average motive force, all
    over the averaging window (the voltages at t_n >= average_from_s, last step excluded)."""
    key = tuple(sorted(options.items()))
    if key in _RUNS:
        return _RUNS[key]
    device = device_from_mapping(strip_table(script, **options))
    device_mesh = mesh_device(device, comm)
    problem = build_coupled(device, device_mesh).problem
    step, steps = device.dynamics.time_step_s, device.dynamics.steps()
    times, m = [0.0], [problem.magnet.average_magnetization()]
    for _ in range(steps):
        problem.step(step)
        times.append(problem.magnet.time_s)
        m.append(problem.magnet.average_magnetization())
    times, m = np.array(times), np.array(m)
    window = np.flatnonzero(times >= device.coupling.average_from_s)[:-1]
    rate = (m[window] - m[window - 1]) / step  # dm/dt as the coupled scheme forms it
    order = problem.transport.contact_order
    average = problem.average_voltages_V()
    material = device.material_of("magnet")
    eta_over_e = material.eta / ELEMENTARY_CHARGE
    beta = material.valley_torque_beta
    run = {
        "device": device,
        "mesh": device_mesh,
        "dc_V": np.array([average[order.index(p)] for p in PROBES]),
        "omega": np.polyfit(times[window], np.unwrap(np.arctan2(m[:, 2], m[:, 1]))[window], 1)[0],
        "sin2": float(np.mean(1 - m[window, 0] ** 2)),
        "f_model": eta_over_e * (rate.mean(axis=0) - beta * np.cross(m[window], rate).mean(axis=0)),
        "eta_over_e": eta_over_e,
        "beta": beta,
    }
    run["f_eq33"] = -eta_over_e * beta * run["omega"] * run["sin2"] * np.eye(3)[0]
    _RUNS[key] = run
    return run


def test_motive_force_of_a_circular_precession_averages_to_ts_eq_33(script, comm):
    """The core's f = (eta/e)(1 - beta m x) dm/dt, with m and dm/dt = omega x x m set by hand
    at 16 phases of a cone about x: its x part is the beta part -beta (eta/e) omega sin^2
    at every phase, and its phase average is TS Eq. 33 (the eta part averages out)."""
    device = device_from_mapping(strip_table(script))
    problem = build_coupled(device, mesh_device(device, comm)).problem
    link, magnet = problem.link, problem.magnet
    material = device.material_of("magnet")
    eta_over_e = material.eta / ELEMENTARY_CHARGE
    beta, omega, theta = material.valley_torque_beta, 1.0e11, math.radians(30.0)
    forms = [fem.form(link.motive_force(magnet.m)[i] * magnet.dx) for i in range(3)]
    axis = np.array([1.0, 0.0, 0.0])
    eq33 = -eta_over_e * beta * omega * math.sin(theta) ** 2 * axis
    averages = []
    for phase in np.linspace(0, 2 * np.pi, 16, endpoint=False):
        m = np.array(
            [math.cos(theta), math.sin(theta) * math.cos(phase), math.sin(theta) * math.sin(phase)]
        )
        magnet.set_magnetization(tuple(m))
        link.rate.x.array.reshape(-1, 3)[magnet.magnetic_nodes] = omega * np.cross(axis, m)
        link.rate.x.scatter_forward()
        force = np.array([comm.allreduce(fem.assemble_scalar(f), op=MPI.SUM) for f in forms])
        averages.append(force / magnet.volume)
        assert averages[-1][0] == pytest.approx(eq33[0], rel=1e-10)
    assert np.allclose(np.mean(averages, axis=0), eq33, rtol=0, atol=1e-10 * abs(eq33[0]))


def test_time_averaged_voltages_are_a_static_solve_with_ts_eq_33(script, comm):
    run = pumping_run(script, comm)
    larmor = GAMMA * 1.0 / (1 + 1e-6)
    assert run["omega"] == pytest.approx(larmor, rel=3e-3)  # BDF2: 0.16 % fast
    assert np.all(run["dc_V"] < 0)  # valley pushed into the channel, read out against B
    assert np.all(np.diff(np.abs(run["dc_V"])) < 0)  # decays along the strip
    eq33 = static_voltages(run["device"], run["mesh"], run["f_eq33"])
    model = static_voltages(run["device"], run["mesh"], run["f_model"])
    # the eta part of <f>: the closing cone, alpha_eff / beta of the beta part
    assert np.allclose(run["dc_V"], eq33, rtol=0.02, atol=0)
    assert np.allclose(run["dc_V"], model, rtol=2e-3, atol=0)


def test_dc_voltage_is_proportional_to_sin2_of_the_cone_angle(script, comm):
    narrow, wide = pumping_run(script, comm), pumping_run(script, comm, theta_deg=45.0)
    assert wide["omega"] == pytest.approx(narrow["omega"], rel=2e-3)  # Larmor: no theta
    ratio = wide["dc_V"] / narrow["dc_V"]
    assert np.allclose(ratio, wide["sin2"] / narrow["sin2"], rtol=0.01, atol=0)
    assert np.allclose(ratio, 2.0, rtol=0.02, atol=0)  # sin^2 45 / sin^2 30


def test_beta_zero_leaves_only_the_average_of_the_eta_part(script, comm):
    """Without beta only (eta/e) <dm/dt> pumps: the closing cone's d m_x / dt, a small
    voltage of the opposite sign; the static solve with it reproduces it."""
    base, plain = pumping_run(script, comm), pumping_run(script, comm, beta=0.0)
    fraction = plain["dc_V"] / base["dc_V"]
    assert np.all(fraction < 0) and np.all(np.abs(fraction) < 0.02)
    model = static_voltages(plain["device"], plain["mesh"], plain["f_model"])
    assert np.all(np.abs(plain["dc_V"] - model) < 2e-3 * np.abs(base["dc_V"]))


def test_larmor_reversal_keeps_the_voltage_and_readout_is_odd_in_field(script, comm):
    """Reversing B reverses the Larmor precession (omega < 0, <f> flips) and the CME read-out
    together: the DC voltage is even in B.  At a fixed <f> the voltage is odd in B."""
    base, reversed_ = pumping_run(script, comm), pumping_run(script, comm, field_T=-1.0)
    assert reversed_["omega"] == pytest.approx(-base["omega"], rel=2e-3)
    assert reversed_["f_eq33"][0] == pytest.approx(-base["f_eq33"][0], rel=0.03)
    normalised = (reversed_["dc_V"] / reversed_["sin2"]) / (base["dc_V"] / base["sin2"])
    assert np.allclose(normalised, 1.0, rtol=0.01, atol=0)
    force = base["f_eq33"]
    forward = static_voltages(base["device"], base["mesh"], force)
    backward = static_voltages(reversed_["device"], base["mesh"], force)
    assert np.allclose(backward, -forward, rtol=1e-8, atol=0)


def test_static_voltage_profile_follows_the_1d_model(script, comm):
    """Open strip, B along it: sigma dphi_c/dx = Gamma B phi_v, phi_v'' = phi_v / l^2 + f',
    l^-2 = lambda_v^-2 + (Gamma B / sigma)^2; insulating end at 0, phi_v = 0 at the ground.
    The 2D probes differ by their 0.1 um equipotential patches (1-2.5 %)."""
    device = device_from_mapping(strip_table(script))
    device_mesh = mesh_device(device, comm)
    force = -50.0  # V/m along x
    voltages = static_voltages(device, device_mesh, [force, 0.0, 0.0])
    material = device.material_of("channel")
    sigma, anomaly = material.conductivity_S_per_m, material.anomaly_coefficient_A_per_m2_V_T
    field = device.fields.magnetic_field_T[0]
    length = 1 / math.sqrt(material.valley_diffusion_length_m**-2 + (anomaly * field / sigma) ** 2)
    lm, total = MAGNET * UM, LENGTH * UM
    _, c = np.linalg.solve(
        [
            [math.cosh(lm / length), -math.sinh((total - lm) / length)],
            [math.sinh(lm / length) / length, math.cosh((total - lm) / length) / length],
        ],
        [force * length * math.sinh(lm / length), force * (math.cosh(lm / length) - 1)],
    )
    x = (MAGNET + np.array(DISTANCES)) * UM
    exact = -(anomaly * field / sigma) * c * length * (np.cosh((total - x) / length) - 1)
    assert np.allclose(voltages, exact, rtol=0.03, atol=0)
