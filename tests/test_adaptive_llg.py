"""Operators assembled once and the adaptive LLG integrators (rk45: Dormand-Prince 5(4);
rkf45: Runge-Kutta-Fehlberg 4(5)).

- The field operator (`weylfem.magnet.field_operator`: constant matrices and vectors, the
  demagnetizing potential's own operators, and the assembled fallback) gives the nodal
  B_eff that assembling every term's variation gives (`problem.update`), to round-off,
  for every energy term, static and time-dependent fields, and a made-up term.
- rk45 repeats the analytic LLG cases of tests/test_magnet_dynamics.py (macrospin
  precession and damping, standing spin waves, spin-orbit torques, a Zhang-Li wall, a
  switched-on field) with its tolerance, and its error falls with the tolerance; rkf45
  repeats the macrospin, the error against the tolerance, the standing waves and a
  resumed run.
- Energy minimisation with the field operator lowers the energy to the minimum, which
  the damped rk45 dynamics approaches with the energy falling at every step.
"""

from __future__ import annotations

import copy
import math
from typing import get_args, get_type_hints

import numpy as np
import pytest
from conftest import expect_error, interface_film_table, magnet_film_table
from dolfinx import fem
from dolfinx import mesh as dolfinx_mesh
from mpi4py import MPI
from test_magnet_dynamics import (
    EXCHANGE_J_PER_M,
    FILM_CELLS,
    FILM_FIELD_T,
    FILM_LENGTH_M,
    GAMMA,
    MACRO_DAMPING,
    MACRO_FIELD_T,
    MACRO_OMEGA,
    MACRO_PERIOD_S,
    MACRO_POLAR,
    NORM_TOLERANCE,
    SATURATION_A_PER_M,
    SOT_FIELD_T,
    SOT_SPIN,
    WALL_DAMPING,
    WALL_POLARIZATION,
    cone,
    current_for,
    decay_problem,
    film_frequencies,
    film_mode_rates,
    film_waves,
    gathered,
    log_tan_half,
    macrospin,
    macrospin_exact,
    macrospin_mesh,
    magnet,
    march,
    polar_azimuth,
    rate,
    spin_orbit_macrospin,
    steady_rate,
    trapezoid_weights,
    wall_problem,
)
from test_magnet_run import FILM, Killed, assert_same_run, checkpoint, kill_after

from weylfem.config import device_from_mapping
from weylfem.device import ADAPTIVE_SCHEMES, Dynamics
from weylfem.geometry import MagnetBodyGeometry, build_device_mesh
from weylfem.magnet.adaptive import SCHEMES, AdaptiveIntegrator
from weylfem.magnet.coefficients import MagneticRegion, build_magnet_coefficients
from weylfem.magnet.demag import Demagnetization
from weylfem.magnet.energy import (
    BulkDMI,
    CubicAnisotropy,
    EnergyTerm,
    Exchange,
    InterfacialDMI,
    ThinFilmDemagnetization,
    UniaxialAnisotropy,
    WeylOrbitalZeeman,
    Zeeman,
)
from weylfem.magnet.minimize import minimize
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.torques import ZhangLiTorque
from weylfem.materials import Material
from weylfem.run import run_device

TOLERANCE = 1e-6
"""the rk45 tolerance of the analytic cases"""

# -- 1. the field operator ---------------------------------------------------------------------


class MadeUpEnergy(EnergyTerm):
    """-K m_x^4: neither quadratic nor linear, a term the operator only knows by its form."""

    name = "made_up_energy"

    def __init__(self, coefficients):
        self.constant = coefficients.saturation_magnetization * 0.05

    def density(self, m):
        return -self.constant * m[0] ** 4


def every_term_problem(comm, open_boundary: str) -> MicromagneticProblem:
    """A 100 x 60 x 20 nm box in air (a shell or a truncated ball) with every energy term
    and a smooth non-uniform m."""
    geometry = MagnetBodyGeometry(
        lx=0.1,
        ly=0.06,
        lz=0.02,
        open_boundary=open_boundary,
        magnet_mesh_size=0.02,
        mesh_size=0.1,
    )
    device_mesh = build_device_mesh(geometry, comm)
    material = Material(
        name="every",
        conductivity_S_per_m=1.0,
        saturation_magnetization_A_per_m=SATURATION_A_PER_M,
        exchange_stiffness_J_per_m=EXCHANGE_J_PER_M,
        gilbert_damping=0.02,
        uniaxial_anisotropy_J_per_m3=3e4,
        cubic_anisotropy_J_per_m3=-2e4,
        interfacial_dmi_J_per_m2=1e-3,
        bulk_dmi_J_per_m2=-5e-4,
    )
    coefficients = build_magnet_coefficients(
        device_mesh, {"magnet": MagneticRegion(material, (1.0, 1.0, 0.5))}
    )
    zeeman = Zeeman(
        coefficients, (0.01, -0.02, 0.03), (0.0, 0.05, -0.01), lambda t: math.cos(1e10 * t)
    )
    orbital = WeylOrbitalZeeman(coefficients, zeeman)
    orbital.orbital = fem.Constant(device_mesh.mesh, 3.0e4)
    terms = [
        Exchange(coefficients),
        UniaxialAnisotropy(coefficients),
        CubicAnisotropy(coefficients),
        InterfacialDMI(coefficients),
        BulkDMI(coefficients),
        zeeman,
        orbital,
        ThinFilmDemagnetization(coefficients, (0.0, 0.6, 0.8)),
        MadeUpEnergy(coefficients),
    ]
    shell = "shell" if open_boundary == "shell" else None
    demag = Demagnetization(coefficients, device_mesh, shell=shell, kind="direct")
    demag.name = "potential_demagnetization"
    terms.append(demag)

    def initial(x):
        return np.array([np.cos(3e7 * x[1]), np.sin(2e7 * x[0]) + 0.3, np.cos(5e7 * x[2])])

    return MicromagneticProblem(device_mesh, coefficients, terms, initial)


@pytest.mark.mpi
@pytest.mark.parametrize("open_boundary", ["shell", "truncated"])
def test_field_operator_equals_the_assembled_field(open_boundary, comm):
    """Every term at once (each kind: quadratic, linear, nonlocal, general; every term's
    field is far above the tolerance), at two times of the time-dependent field and for
    two m: the operator's B_eff equals the assembled one to 1e-10 of its largest value
    (measured: 2e-15, serial and on two ranks)."""
    problem = every_term_problem(comm, open_boundary)
    operator = problem.field_operator
    assert [t.name for t in operator.general_terms] == ["cubic_anisotropy", "made_up_energy"]
    assert len(operator.quadratic_terms) == 5 and len(operator.linear_terms) == 2
    assert [t.name for t in operator.nonlocal_terms] == ["potential_demagnetization"]
    nodes = problem.magnetic_nodes
    for time_s, turn in ((0.0, None), (1.3e-10, (0.2, -0.7, 0.4))):
        if turn is not None:
            values = problem.owned_magnetization() + np.asarray(turn)
            problem.set_magnetization(values)
        problem.set_time(time_s)
        problem.update()
        assembled = problem.effective_field.x.array.reshape(-1, 3)[nodes]
        fast = operator.field()
        scale = comm.allreduce(float(np.abs(assembled).max(initial=0.0)), op=MPI.MAX)
        difference = comm.allreduce(float(np.abs(fast - assembled).max(initial=0.0)), op=MPI.MAX)
        assert scale > 0.1  # tesla: a field worth comparing
        assert difference < 1e-10 * scale


# -- 2. rk45 on the analytic LLG cases ---------------------------------------------------------


@pytest.mark.mpi
@pytest.mark.parametrize("scheme", SCHEMES)
def test_rk45_macrospin_precession_frequency_and_damping_rate(scheme, comm):
    """As for BDF2: omega = gamma B/(1 + alpha^2) counterclockwise about B and the
    relaxation rate alpha omega over three periods, sampled 50 times per period, to 1e-6
    (measured: 1e-11 and 7e-10), |m| = 1 at the nodes.  (The 2 nm cells' exchange mode,
    though not excited, limits the explicit step: measured rk45 2379 steps of 1.2e-13 to
    7.2e-12 s, 4 rejected; rkf45, stable at longer steps, 1932, 7 rejected.)"""
    problem = macrospin(comm, static_field_T=(0.0, 0.0, MACRO_FIELD_T))
    integrator = AdaptiveIntegrator(problem, TOLERANCE, scheme)
    times, m, deviation = march(integrator, MACRO_PERIOD_S / 50, 150)
    polar, azimuth = polar_azimuth(m, (0, 0, 1))
    assert rate(times, azimuth) == pytest.approx(MACRO_OMEGA, rel=1e-6)
    assert rate(times, log_tan_half(polar)) == pytest.approx(-MACRO_DAMPING * MACRO_OMEGA, rel=1e-6)
    assert deviation < NORM_TOLERANCE


@pytest.mark.mpi
@pytest.mark.parametrize("scheme", SCHEMES)
def test_rk45_error_follows_the_tolerance(scheme, comm):
    """The error |m(T) - m_exact(T)| after two periods (one run-loop step per period, so
    the internal steps alone resolve the motion) of a macrospin with the Zeeman energy
    alone (no stiff exchange mode: the steps are set by accuracy) at tolerances 1e-4 ...
    1e-7: below 10 x the tolerance, and falling with it at rate 1 (error per step
    control with local extrapolation; measured: rk45 errors 1.5 x the tolerance, rate
    0.998, 17 to 66 steps; rkf45 3.2 x, 0.986, 19 to 72 steps: where accuracy sets the
    step, Dormand-Prince's smaller error constant wins)."""
    device, coefficients = magnet(macrospin_mesh(comm), MACRO_DAMPING)
    zeeman = Zeeman(coefficients, (0.0, 0.0, MACRO_FIELD_T))
    problem = MicromagneticProblem(device, coefficients, [zeeman], (0.0, 0.0, 1.0))
    tolerances = np.array([1e-4, 1e-5, 1e-6, 1e-7])
    errors = []
    for tolerance in tolerances:
        problem.set_magnetization(tuple(cone(MACRO_POLAR, (0, 0, 1))))
        problem.set_time(0.0)
        integrator = AdaptiveIntegrator(problem, tolerance, scheme)
        _, m, deviation = march(integrator, MACRO_PERIOD_S, 2)
        errors.append(np.linalg.norm(m[-1] - macrospin_exact(problem.time_s)))
        assert deviation < NORM_TOLERANCE
    errors = np.array(errors)
    slope = np.polyfit(np.log(tolerances), np.log(errors), 1)[0]
    assert np.all(errors < 10 * tolerances)
    assert slope == pytest.approx(1.0, abs=0.15)


@pytest.mark.mpi
@pytest.mark.parametrize("scheme", SCHEMES)
def test_rk45_film_spin_wave_dispersion(scheme, comm):
    """Standing waves n = 1..4 of a 50 nm film, as for BDF2 (1 nm cells, K = 0): the phase
    of each mode advances at omega(k_n) = gamma (B - mu_0 M_s + 2A k_n^2/M_s) to 1 %
    (measured: +0.02, -0.05, -0.20, -0.42 %; the lumped mass of the explicit scheme shifts
    the discrete exchange frequency by -(k h)^2/12 of it, the consistent mass of the
    tangent-plane scheme by +: BDF2 measured +0.16 ... +0.36 %)."""
    mesh = dolfinx_mesh.create_interval(comm, FILM_CELLS, [0.0, FILM_LENGTH_M])
    device, coefficients = magnet(mesh, 0.0)
    terms = [
        Exchange(coefficients),
        Zeeman(coefficients, (0.0, 0.0, FILM_FIELD_T)),
        ThinFilmDemagnetization(coefficients, normal=(0.0, 0.0, 1.0)),
    ]
    problem = MicromagneticProblem(device, coefficients, terms, film_waves)
    x = gathered(comm, problem.space.tabulate_dof_coordinates()[problem.magnetic_nodes, 0])
    expected = film_frequencies()
    integrator = AdaptiveIntegrator(problem, TOLERANCE, scheme)
    measured, _, deviation = film_mode_rates(integrator, x, trapezoid_weights(x), expected, 20)
    np.testing.assert_allclose(measured, expected, rtol=1e-2)
    assert deviation < NORM_TOLERANCE


def test_rk45_field_like_spin_orbit_torque_precesses_about_p(comm):
    """As for BDF2: T = -gamma B_FL m x p precesses m counterclockwise about p at
    gamma B_FL/(1 + alpha^2) and relaxes it towards +p at alpha times that (to 0.05 %;
    measured 4e-11 and 3e-10): the torque's assembled form and the Landau-Lifshitz form
    of the torque term."""
    problem = spin_orbit_macrospin(comm, SOT_FIELD_T / 1.0e11, 0.0, MACRO_POLAR)
    omega = GAMMA * SOT_FIELD_T / (1 + MACRO_DAMPING**2)
    integrator = AdaptiveIntegrator(problem, TOLERANCE)
    times, m, deviation = march(integrator, 2 * math.pi / omega / 50, 100)
    polar, azimuth = polar_azimuth(m, SOT_SPIN)
    assert rate(times, azimuth) == pytest.approx(omega, rel=5e-4)
    assert rate(times, log_tan_half(polar)) == pytest.approx(-MACRO_DAMPING * omega, rel=5e-4)
    assert deviation < NORM_TOLERANCE


def test_rk45_damping_like_spin_orbit_torque_drives_m_to_plus_p(comm):
    """As for BDF2: d ln tan(theta/2)/dt = -gamma B_DL/(1 + alpha^2) from +p and a
    clockwise turn about p at alpha gamma B_DL/(1 + alpha^2) (to 0.05 %; measured 6e-12
    and 1e-10)."""
    problem = spin_orbit_macrospin(comm, 0.0, SOT_FIELD_T / 1.0e11, 2.5)
    relaxation = GAMMA * SOT_FIELD_T / (1 + MACRO_DAMPING**2)
    integrator = AdaptiveIntegrator(problem, TOLERANCE)
    times, m, deviation = march(integrator, 2 * math.pi / relaxation / 200, 100)
    polar, azimuth = polar_azimuth(m, SOT_SPIN)
    assert rate(times, log_tan_half(polar)) == pytest.approx(-relaxation, rel=5e-4)
    assert rate(times, azimuth) == pytest.approx(-MACRO_DAMPING * relaxation, rel=5e-4)
    assert m[-1] @ np.asarray(SOT_SPIN) > 0.85
    assert deviation < NORM_TOLERANCE


@pytest.mark.parametrize(
    ("beta_over_alpha", "hard_axis", "speed", "expected_over_speed", "tolerance"),
    [
        (1.0, False, 100.0, 1.0, 1e-2),
        (2.0, True, 100.0, 2.0, 2e-2),
    ],
)
def test_rk45_zhang_li_wall_velocity(
    beta_over_alpha, hard_axis, speed, expected_over_speed, tolerance, comm
):
    """As for BDF2: the rigid wall moves at u for beta = alpha, and at (beta/alpha) u with
    the hard axis below Walker breakdown (measured 0.51 % and 0.64 % low): the advective
    torque's form assembled at every evaluation.  The difference to BDF2 (6e-5 for
    beta = alpha) is the lumped mass of the nodal torque, an O(h^2) error: measured
    2.1 %, 0.51 %, 0.13 % low at 2, 1, 0.5 nm cells (Delta = 11.4 nm)."""
    beta = beta_over_alpha * WALL_DAMPING

    def torque(coefficients):
        current = (current_for(speed), 0.0, 0.0)
        return ZhangLiTorque(coefficients, current, WALL_POLARIZATION, beta)

    problem = wall_problem(comm, torque, hard_axis, 1.0)
    travel = 100e-9
    velocity = speed * expected_over_speed
    step = 2e-9 / velocity  # the wall crosses a cell per run-loop step
    integrator = AdaptiveIntegrator(problem, TOLERANCE)
    times, m, deviation = march(integrator, step, math.ceil(travel / velocity / step))
    centre = 200e-9 * m[:, 2]
    assert steady_rate(times, centre) == pytest.approx(velocity, rel=tolerance)
    assert deviation < NORM_TOLERANCE


def test_rk45_zeeman_step_field_starts_precession_at_switch_on(comm):
    """B(t) = B z from t0 = 50.5 run-loop steps on, zero before: m stands still before t0
    (to 1e-10: the exchange field of a uniform m is round-off times the stiffness, which
    the explicit steps accumulate; measured 1e-11); afterwards its azimuth follows
    omega (t - t0) to 0.05 % with t_on = t0 to 1 % of a run-loop step (measured: 1e-11
    and 2e-4 of a step): the error control finds the discontinuity inside a step
    (measured: 12 rejected steps)."""
    step = MACRO_PERIOD_S / 50
    switch_on = 50.5 * step
    problem = macrospin(
        comm,
        static_field_T=(0.0, 0.0, 0.0),
        amplitude_T=(0.0, 0.0, MACRO_FIELD_T),
        waveform=lambda t: 1.0 if t >= switch_on else 0.0,
    )
    integrator = AdaptiveIntegrator(problem, TOLERANCE)
    times, m, deviation = march(integrator, step, 100)
    before, after = times < switch_on, times > switch_on + step
    assert np.abs(m[before] - m[0]).max() < 1e-10
    polar, azimuth = polar_azimuth(m, (0, 0, 1))
    slope, intercept = np.polyfit(times[after], azimuth[after], 1)
    assert slope == pytest.approx(MACRO_OMEGA, rel=5e-4)
    assert -intercept / slope == pytest.approx(switch_on, abs=0.01 * step)
    damping = rate(times[after], log_tan_half(polar[after]))
    assert damping == pytest.approx(-MACRO_DAMPING * MACRO_OMEGA, rel=5e-4)
    assert integrator.rejected > 0
    assert deviation < NORM_TOLERANCE


def test_rk45_oscillating_field_follows_the_exact_azimuth(comm):
    """B(t) = (B_0 + B_1 cos(Omega t)) z: the azimuth gamma (B_0 t + B_1 sin(Omega t)/Omega)
    /(1 + alpha^2) over three periods to 1e-4 rad at tolerance 1e-6 (BDF2 at 200 steps
    per period: 0.016 rad; measured 5e-10 rad)."""
    amplitude, frequency = 0.5 * MACRO_FIELD_T, 1.7 * MACRO_OMEGA
    problem = macrospin(
        comm,
        static_field_T=(0.0, 0.0, MACRO_FIELD_T),
        amplitude_T=(0.0, 0.0, amplitude),
        waveform=lambda t: math.cos(frequency * t),
    )
    integrator = AdaptiveIntegrator(problem, TOLERANCE)
    times, m, deviation = march(integrator, MACRO_PERIOD_S / 50, 150)
    _, azimuth = polar_azimuth(m, (0, 0, 1))
    exact = (
        GAMMA
        * (MACRO_FIELD_T * times + amplitude * np.sin(frequency * times) / frequency)
        / (1 + MACRO_DAMPING**2)
    )
    assert np.abs(azimuth - exact).max() < 1e-4
    assert deviation < NORM_TOLERANCE


# -- 3. the device file and the run loop -------------------------------------------------------


@pytest.mark.parametrize(
    ("dynamics", "fragment"),
    [
        ({"tolerance": 1e-5}, "expected no value unless scheme = 'rk45'"),
        ({"scheme": "rk45", "tolerance": 0.5}, "expected a number in (0, 0.1), got 0.5"),
        ({"scheme": "rk45", "tolerance": -1e-5}, "expected a number in (0, 0.1)"),
    ],
)
def test_rk45_keys_are_checked(dynamics, fragment):
    table = magnet_film_table()
    table["dynamics"].update(dynamics)
    expect_error(table, "dynamics.tolerance", fragment)


def test_device_files_offer_every_adaptive_pair():
    # weylfem.device cannot import the integrator (no DOLFINx in the config layer)
    assert ADAPTIVE_SCHEMES == SCHEMES
    assert set(ADAPTIVE_SCHEMES) <= set(get_args(get_type_hints(Dynamics)["scheme"]))


def test_rk45_is_refused_for_the_coupled_run():
    table = interface_film_table()
    table["dynamics"]["scheme"] = "rk45"
    expect_error(table, "dynamics.scheme", "expected 'bdf2' or 'tangent_plane' with")


@pytest.mark.mpi
@pytest.mark.parametrize("scheme", SCHEMES)
def test_rk45_run_resumes_like_the_uninterrupted_run(scheme, shared_tmp_path, comm):
    """The film of tests/test_magnet_run.py (applied field, spin-orbit torques) with rk45:
    results.json describes the adaptive steps; a run killed after step 5 and resumed from
    its checkpoint (m and the internal step size) repeats the uninterrupted one (bit for
    bit in serial)."""
    table = copy.deepcopy(FILM)
    table["dynamics"].update(scheme=scheme, tolerance=1e-6)
    device = device_from_mapping(table, "film.toml")
    full = run_device(device, shared_tmp_path / "full", comm, quiet=True)
    solver = full["solver"]
    assert solver["scheme"] == scheme and solver["tolerance"] == 1e-6
    assert solver["accepted_steps"] >= 8 and solver["field_evaluations"] >= 6 * 8
    assert 0 < solver["smallest_step_s"] <= solver["largest_step_s"] <= 1.000001e-12
    cut = shared_tmp_path / "cut"
    with pytest.raises(Killed):
        run_device(device, cut, comm, quiet=True, on_step=kill_after(5))
    if comm.rank == 0:
        saved = checkpoint(shared_tmp_path / "cut.running" / "checkpoint.npz")
        assert float(saved["extra_integrator_internal_step_s"]) > 0
    results = run_device(device, cut, comm, quiet=True, resume=True)
    assert results["dynamics"]["resumed_from_step"] == 3
    assert_same_run(shared_tmp_path / "full", cut, comm)


# -- 4. relaxation and energy decay ------------------------------------------------------------


@pytest.mark.mpi
def test_minimizer_on_the_field_operator_lowers_the_energy(comm):
    """Barzilai-Borwein minimisation (its field from the operators built once) of the
    smooth random state of the decay problem (exchange, anisotropy, Zeeman): max torque
    below 1e-6 T and the energy far below the initial one; the damped, undriven rk45
    dynamics from the same state lowers the energy at every run-loop step, stays above
    the minimum, and minimising from where it got to ends at the same minimum (to 1e-6
    relative; measured 3.5e-10 after 576 iterations, E from 1.08e-9 to -8.85e-11 J/m)."""
    problem = decay_problem(comm)
    start = problem.owned_magnetization()
    initial = problem.energies()["total"]
    result = minimize(problem, 1e-6)
    assert result.max_torque_T < 1e-6
    minimum = result.energies_J["total"]
    assert minimum < initial - 0.5 * abs(initial)
    problem.set_magnetization(start)
    integrator = AdaptiveIntegrator(problem, 1e-6)
    energies = [initial]
    for _ in range(30):
        integrator.step(2e-11)
        energies.append(problem.energies()["total"])
    assert np.all(np.diff(energies) < 0)  # damped, undriven: the energy falls
    assert energies[-1] > minimum
    again = minimize(problem, 1e-6).energies_J["total"]  # from where the dynamics got to
    assert again == pytest.approx(minimum, rel=1e-6)
