"""Valley coupling through the Neel vector l (TS Sec. V; docs/theory.md §3a, "Valley
coupling through l").

The transport sees l = (m_1 - m_2)/2 where it saw m, and the valley torque acts on the
net spin density through the staggered field +b on m_1, -b on m_2:

- the interface torque per area on l is TS Eq. 32 with m -> l, and it is what the
  sublattice fields exert: -sum_k int M_s,k m_k x B_k^v;
- the Hall term is odd in l (reversing l reverses the Hall-driven valley imbalance);
- the energy law of docs/theory.md §3 with l closes (the ledger, sum_k alpha M_s,k/gamma_k
  |dm_k/dt|^2 as the Gilbert dissipation) and breaks when eta or beta changes sign on one
  side only;
- THz pumping: an antiferromagnetic resonance mode (both branches, opposite senses of
  rotation) pumps the DC voltages of a static solve with TS Eq. 33 with l,
  <f> = -(eta beta/e) omega <l_perp^2> along the precession axis.
"""

import math

import numpy as np
import pytest
from conftest import COUPLED_MAGNET, interface_film_table
from mpi4py import MPI
from scipy.optimize import fsolve
from test_valley_pumping import PROBES, static_voltages, strip_table

from weylfem.antiferro.valley import build_neel_coupled
from weylfem.config import device_from_mapping
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.coupled.valley_torque import ValleyCouplingCoefficients, build_valley_coupling
from weylfem.materials import MATERIALS
from weylfem.meshing import mesh_device

pytestmark = pytest.mark.mpi

NORMAL = np.array([0.0, -1.0, 0.0])
"""outward normal of the film's relaxing bottom face"""
MS = MATERIALS["Co3Sn2S2"].saturation_magnetization_A_per_m
"""the sublattice M_s of the test antiferromagnet (A/m)"""


def afm_material(exchange_T: float = 20.0, anisotropy_T: float = 2.0, **more) -> dict:
    """COUPLED_MAGNET as a collinear antiferromagnet: B_E = lambda/M_s, B_A = 2K/M_s."""
    return {
        **COUPLED_MAGNET,
        "interlattice_exchange_J_per_m3": exchange_T * MS,
        "uniaxial_anisotropy_J_per_m3": anisotropy_T * MS / 2,
        **more,
    }


def afm_film(direction=(0.0, 0.0, 1.0), **options) -> dict:
    table = interface_film_table(direction=direction, magnet=afm_material(), **options)
    table["regions"]["channel"]["magnetic_order"] = "antiferromagnet"
    return table


def coupled(table: dict, comm, **sides):
    device = device_from_mapping(table)
    problem, _ = build_neel_coupled(device, mesh_device(device, comm), **sides)
    return device, problem


def eq32(device, conductance: float, voltage: float, neel) -> tuple[np.ndarray, np.ndarray]:
    """(field-like, damping-like) torque per area on l: TS Eq. 32 with m -> l and the
    Robin factor; B is the applied field (the net moment is zero)."""
    material = device.material_of("channel")
    sigma_v, eta = material.sigma_v, material.eta
    lam = material.valley_diffusion_length_m
    neel = np.asarray(neel, dtype=float) / np.linalg.norm(neel)
    electric = np.array([voltage / (device.geometry.length * 1e-6), 0.0, 0.0])
    bulk = (
        material.valley_relaxation_time_s
        * material.anomaly_coefficient_A_per_m2_V_T
        * np.dot(device.fields.magnetic_field_T, electric)
        / (ELEMENTARY_CHARGE**2 * material.density_of_states_per_J_m3)
    )
    c = conductance * lam / (sigma_v + conductance * lam)
    scale = -(eta * sigma_v / ELEMENTARY_CHARGE) * c * bulk
    l_x_n = np.cross(neel, NORMAL)
    return scale * l_x_n, -scale * material.valley_torque_beta * np.cross(neel, l_x_n)


def sublattice_torque_J(problem) -> np.ndarray:
    """-sum_k int M_s,k m_k x B_k^v dx from the lumped nodal staggered fields (J/m)."""
    sublattices = problem.magnet.problem
    torque = problem.integrator.llg.extra_torques[0]
    m = sublattices.state().reshape(-1, 2, 3)
    moments = sublattices.lumped[:, :, None] * m
    local = -np.sum(np.cross(moments, torque.fields()), axis=(0, 1))
    return sublattices.device_mesh.comm.allreduce(local, op=MPI.SUM)


@pytest.mark.parametrize(
    "conductance, direction",
    [(1e15, (0.0, 0.0, 1.0)), (1e15, (0.6, 0.0, 0.8)), (1.5e12, (0.0, 0.0, 1.0))],
    ids=["full-relaxation", "tilted-l", "partial-robin"],
)
def test_interface_torque_on_l_is_ts_eq_32(comm, conductance, direction):
    device, problem = coupled(afm_film(direction, conductance=conductance), comm)
    bottom = problem.interface_torques()["bottom"]
    field_like, damping_like = eq32(device, conductance, 1e-3, direction)
    measured = bottom.per_area()
    assert np.linalg.norm(measured["field_like"] - field_like) < 0.02 * np.linalg.norm(field_like)
    assert np.linalg.norm(measured["damping_like"] - damping_like) < 0.02 * np.linalg.norm(
        damping_like
    )
    # the staggered fields exert exactly this torque on the net spin density
    total = bottom.total_J
    assert np.allclose(sublattice_torque_J(problem), total, rtol=1e-9, atol=1e-9 * abs(total).max())
    fields = problem.integrator.llg.extra_torques[0].fields()
    assert np.array_equal(fields[:, 1], -fields[:, 0])


def test_torque_on_l_reverses_with_l_and_with_j_dot_b(comm):
    """l -> -l reverses the field-like torque and keeps the damping-like one (as m -> -m
    for a ferromagnet); reversing the current reverses both."""
    _, problem = coupled(afm_film(), comm)
    up = problem.interface_torques()["bottom"]
    problem.magnet.problem.set_directions([(0.0, 0.0, -1.0), (0.0, 0.0, 1.0)])
    problem.synchronize()
    down = problem.interface_torques()["bottom"]
    # up to the Hall term's own part (odd in l, of order theta = 0.003)
    scale = np.linalg.norm(up.field_like_J)
    assert np.linalg.norm(down.field_like_J + up.field_like_J) < 2e-3 * scale
    assert np.linalg.norm(down.damping_like_J - up.damping_like_J) < 2e-3 * scale
    _, reversed_ = coupled(afm_film(voltage_V=-1e-3), comm)
    assert np.allclose(
        reversed_.interface_torques()["bottom"].total_J, -up.total_J, rtol=1e-6, atol=0
    )


def test_hall_term_is_odd_in_l(comm):
    """B in plane and perpendicular to J: only the anomalous Hall field theta l x E drives
    the anomaly.  l -> -l (the same problem: the transport reads the evolving l)
    reverses the Hall field and phi_v: the field-like torque (l x grad phi_v) stays,
    the damping-like one reverses."""
    table = afm_film()
    table["fields"]["magnetic_field_T"] = [0.0, 1.0, 0.0]
    device, problem = coupled(table, comm)
    assert problem.hall_follows_m
    up = problem.interface_torques()["bottom"]
    problem.magnet.problem.set_directions([(0.0, 0.0, -1.0), (0.0, 0.0, 1.0)])
    problem.synchronize()
    down = problem.interface_torques()["bottom"]
    field_like, damping_like = np.linalg.norm(up.field_like_J), np.linalg.norm(up.damping_like_J)
    assert field_like > 0
    assert np.linalg.norm(down.field_like_J - up.field_like_J) < 2e-3 * field_like
    assert np.linalg.norm(down.damping_like_J + up.damping_like_J) < 2e-3 * damping_like


# -- energy law ---------------------------------------------------------------------------------


def balance_table(step_s: float, steps: int, beta: float) -> dict:
    """The film, l tilted from the easy axis z (B_E = 20 T, B_A = 2 T: AFMR at 1.6e12
    rad/s), sigma_v = 1e6 S/m and k0 = 1.96e8 /m: alpha_p = 0.040 against alpha = 0.05, so
    the coupling carries a large part of the dissipation."""
    magnet = afm_material(node_half_separation_per_m=1.96e8, valley_torque_beta=beta)
    table = interface_film_table(
        direction=(0.6, 0.0, 0.8), mesh_size_um=0.4, thickness_um=4.0, magnet=magnet
    )
    table["regions"]["channel"]["magnetic_order"] = "antiferromagnet"
    table["dynamics"] = {"end_time_s": step_s * steps, "time_step_s": step_s}
    return table


def scaled(coupling: ValleyCouplingCoefficients, eta=1.0, beta=1.0) -> ValleyCouplingCoefficients:
    def times(function, factor):
        copy = function.copy()
        copy.x.array[:] *= factor
        return copy

    return ValleyCouplingCoefficients(
        times(coupling.eta, eta), times(coupling.beta, beta), coupling.conductivity
    )


def ledger_run(comm, step_s: float, steps: int, beta: float, torque=None, motive=None):
    device = device_from_mapping(balance_table(step_s, steps, beta))
    device_mesh = mesh_device(device, comm)
    materials = {name: device.material_of(name) for name in device.magnetic_regions()}
    coupling = build_valley_coupling(device_mesh, materials)
    sides = {
        "torque_coupling": None if torque is None else scaled(coupling, **torque),
        "motive_coupling": None if motive is None else scaled(coupling, **motive),
    }
    problem, _ = build_neel_coupled(device, device_mesh, **sides)
    for _ in range(steps):
        problem.step(step_s)
    return problem.ledger


@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_energy_law_with_l_closes(comm, beta):
    """Over 1 ps in steps of 40 and 10 fs: first order in the step."""
    coarse = ledger_run(comm, 4e-14, 25, beta)
    fine = ledger_run(comm, 1e-14, 100, beta)
    for ledger in (coarse, fine):
        assert ledger.coupling_dissipation_J < -0.1 * ledger.gilbert_dissipation_J
        assert ledger.magnetic_energy_change_J < 0
    assert fine.relative_residual < 1e-3
    assert fine.relative_residual < coarse.relative_residual / 3


@pytest.mark.parametrize(
    "beta, flip",
    [
        (0.1, {"torque": {"eta": -1.0}}),
        (1.0, {"torque": {"beta": -1.0}}),
        (1.0, {"motive": {"beta": -1.0}}),
    ],
    ids=["eta-of-torque", "beta-of-torque", "beta-of-motive-force"],
)
def test_a_one_sided_sign_flip_breaks_the_energy_law(comm, beta, flip):
    assert ledger_run(comm, 2e-14, 50, beta, **flip).relative_residual > 0.03


# -- THz pumping --------------------------------------------------------------------------------

EXCHANGE_T, ANISOTROPY_T, FIELD_T = 10.0, 0.5, 1.0
GAMMA = MATERIALS["Co3Sn2S2"].gyromagnetic_ratio_rad_per_s_T


def resonance_mode(branch: int, theta_deg: float = 30.0) -> tuple[float, np.ndarray, np.ndarray]:
    """(omega, m_1, m_2) of the undamped circular AFMR mode of `branch` (+1, -1) about the
    easy axis x in the field FIELD_T x, m_1 at theta from x: steady precession
    dm_k/dt = omega x x m_k needs B_k - (omega/gamma) x parallel to m_k."""
    be, ba, b0 = EXCHANGE_T, ANISOTROPY_T, FIELD_T
    s1, c1 = math.sin(math.radians(theta_deg)), math.cos(math.radians(theta_deg))

    def residual(unknowns):
        theta2, w = unknowns
        s2, c2 = math.sin(theta2), math.cos(theta2)
        return [
            be * s2 * c1 - s1 * (be * c2 + ba * c1 + b0 - w),
            be * s1 * c2 - s2 * (be * c1 + ba * c2 - b0 + w),
        ]

    w0 = b0 + branch * math.sqrt(ba * (2 * be + ba))
    theta2, w = fsolve(residual, [math.radians(theta_deg) * (be + ba + b0 - w0) / be, w0])
    s2, c2 = math.sin(theta2), math.cos(theta2)
    return GAMMA * w, np.array([c1, s1, 0.0]), np.array([-c2, -s2, 0.0])


def pumping_table(script: str, branch: int) -> dict:
    omega, m1, _ = resonance_mode(branch)
    table = strip_table(script, field_T=FIELD_T, beta=0.1)
    period = 2 * math.pi / abs(omega)
    step = period / 100
    table["materials"]["weyl_magnet"].update(
        node_half_separation_per_m=1.0e7,  # alpha_p = 1.6e-4
        gilbert_damping=2e-4,
        interlattice_exchange_J_per_m3=EXCHANGE_T * MS,
        uniaxial_anisotropy_J_per_m3=ANISOTROPY_T * MS / 2,
    )
    table["regions"]["magnet"].update(
        magnetic_order="antiferromagnet",
        anisotropy_axis=[1.0, 0.0, 0.0],
        magnetization_direction=list(m1),
    )
    table["dynamics"] = {"end_time_s": 1.25 * period, "time_step_s": step}
    table["coupling"] = {"average_from_s": 0.25 * period - step / 2}
    return table


_PUMPING: dict = {}


def pumping_run(script: str, comm, branch: int) -> dict:
    if branch in _PUMPING:
        return _PUMPING[branch]
    omega, m1, m2 = resonance_mode(branch)
    device = device_from_mapping(pumping_table(script, branch))
    device_mesh = mesh_device(device, comm)
    problem, _ = build_neel_coupled(device, device_mesh)
    problem.magnet.problem.set_directions([tuple(m1), tuple(m2)])
    problem.synchronize()
    sublattices = problem.magnet.problem
    step, steps = device.dynamics.time_step_s, device.dynamics.steps()
    times, neel = [0.0], [sublattices.neel_vector()]
    for _ in range(steps):
        problem.step(step)
        times.append(sublattices.time_s)
        neel.append(sublattices.neel_vector())
    times, neel = np.array(times), np.array(neel)
    window = np.flatnonzero(times >= device.coupling.average_from_s)[:-1]
    rate = (neel[window] - neel[window - 1]) / step
    material = device.material_of("magnet")
    eta_over_e, beta = material.eta / ELEMENTARY_CHARGE, material.valley_torque_beta
    phase = np.unwrap(np.arctan2(neel[:, 2], neel[:, 1]))
    run = {
        "device": device,
        "mesh": device_mesh,
        "omega_mode": omega,
        "dc_V": np.array(
            [problem.average_voltages_V()[problem.transport.contact_order.index(p)] for p in PROBES]
        ),
        "omega": np.polyfit(times[window], phase[window], 1)[0],
        "l_perp2": float(np.mean(neel[window, 1] ** 2 + neel[window, 2] ** 2)),
        "f_model": eta_over_e
        * (rate.mean(axis=0) - beta * np.cross(neel[window], rate).mean(axis=0)),
    }
    run["f_eq33"] = -eta_over_e * beta * run["omega"] * run["l_perp2"] * np.eye(3)[0]
    _PUMPING[branch] = run
    return run


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> str:
    from test_valley_pumping import strip_script

    world = MPI.COMM_WORLD
    path = None
    if world.rank == 0:
        path = tmp_path_factory.mktemp("neel_pumping") / "strip.geo"
        path.write_text(strip_script())
        path = str(path)
    path = world.bcast(path, root=0)
    world.barrier()
    return path


@pytest.mark.parametrize("branch", [1, -1], ids=["upper-branch", "lower-branch"])
def test_thz_pumping_by_l_is_ts_eq_33(script, comm, branch):
    run = pumping_run(script, comm, branch)
    # the mode precesses at its AFMR frequency, the two branches in opposite senses
    assert run["omega"] == pytest.approx(run["omega_mode"], rel=3e-3)
    eq33 = static_voltages(run["device"], run["mesh"], run["f_eq33"])
    model = static_voltages(run["device"], run["mesh"], run["f_model"])
    assert np.all(np.diff(np.abs(run["dc_V"])) < 0)  # decays along the strip
    assert np.allclose(run["dc_V"], eq33, rtol=0.02, atol=0)
    assert np.allclose(run["dc_V"], model, rtol=2e-3, atol=0)


def test_the_two_branches_pump_opposite_voltages(script, comm):
    upper, lower = pumping_run(script, comm, 1), pumping_run(script, comm, -1)
    assert upper["omega"] > 0 > lower["omega"]
    ratio = (lower["dc_V"] / (lower["omega"] * lower["l_perp2"])) / (
        upper["dc_V"] / (upper["omega"] * upper["l_perp2"])
    )
    assert np.allclose(ratio, 1.0, rtol=0.02, atol=0)
    assert np.all(lower["dc_V"] * upper["dc_V"] < 0)


# -- device files -------------------------------------------------------------------------------


def test_coupled_antiferromagnet_runs_through_the_run_loop(comm, shared_tmp_path):
    from weylfem.output.series import read_series
    from weylfem.run import run_device

    table = afm_film(mesh_size_um=0.8, thickness_um=4.0)
    table["dynamics"] = {"end_time_s": 4e-14, "time_step_s": 2e-14, "snapshot_every": 1}
    device = device_from_mapping(table, "dev.toml")
    results = run_device(device, shared_tmp_path / "out", comm, quiet=True)
    assert results["model"] == "charge_valley coupled to sublattice (Neel vector) dynamics"
    assert results["interface_torques"]["bottom"]["area_m2"] == pytest.approx(8e-6, rel=1e-12)
    assert results["energy_balance"]["relative_residual"] < 1e-2
    series = read_series(shared_tmp_path / "out" / "series.csv")
    assert len(series["time_s"]) == 3
    assert series["I_source_A"][0] > 0
    assert {"l_x", "torque_dl_x_J", "energy_residual_J"} <= set(series)
    assert (shared_tmp_path / "out" / "sublattices.xdmf").is_file()


def test_triangular_order_refuses_the_valley_coupling():
    from conftest import expect_error

    table = afm_film(direction=(1.0, 0.0, 0.0))
    table["regions"]["channel"]["magnetic_order"] = "triangular"
    table["materials"]["weyl_magnet"]["interlattice_exchange_J_per_m3"] = 1e6
    expect_error(table, "physics.transport", "collinear antiferromagnet")
