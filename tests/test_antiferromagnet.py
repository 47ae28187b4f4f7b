"""Sublattice micromagnetics of antiferromagnets (docs/theory.md §3a) against closed forms.

Energy densities (weylfem.antiferro.energy): A sum_k |grad m_k|^2 + lambda sum_{i<j} m_i.m_j
- K sum_k (m_k.u_k)^2 + D z.sum_cyclic m_i x m_j - sum_k M_s B.m_k - M_W l.B, with
B_E = lambda/M_s and B_A = 2K/M_s per sublattice:

- uniaxial two-sublattice macrospin, B_0 along the easy axis: the two resonances
  omega = gamma sqrt(B_A (2 B_E + B_A)) +- gamma B_0, measured from the time series of
  m_1x + i m_1y by a two-exponential least-squares fit over ~30 periods (the + branch
  rotates counterclockwise about +z, the - branch clockwise);
- spin flop: the collinear and the flopped state, each relaxed, exchange their order in
  energy at B_sf = sqrt(2 B_E B_A - B_A^2); the flopped energy is -lambda - (M_s B)^2 /
  (2 (lambda - K)) per volume;
- static wall of l in a 1D chain: m_2 = -m_1 = -l exactly (no field), l_z = -tanh(x/Delta)
  with Delta = sqrt(A_eff/K_eff), A_eff = 2A - A_12, K_eff = 2K;
- moving wall of l driven by a staggered field b along the easy axis (the valley torque's
  field-like part, +b on m_1, -b on m_2): the steady wall is Lorentz contracted,
  Delta(v) = Delta sqrt(1 - v^2/c^2) with the magnon velocity c = gamma sqrt(2 B_E A_eff/M_s),
  moves at v/sqrt(1 - v^2/c^2) = gamma b Delta/alpha, and its kinetic (interlattice exchange)
  energy is v^2/c^2 times its exchange energy;
- triangular (Mn3Sn-type) order: D > 0 selects the inverse-triangular 120 degree state, and
  the in-plane easy axes at 0, 120, 240 degrees cant it into the weak moment
  |sum_k m_k| = K/(lambda + sqrt(3) D) (to first order in K/lambda) that turns opposite to
  the spins;
- the linear Neel coupling -M_W l.B switches l by 180 degrees where the antiparallel state
  loses stability: det [[4K - M_W B, 2 M_s B], [2 M_s B, 4(lambda + K) - M_W B]] = 0 (the
  Hessian in the Neel angle and the canting angle), i.e. B_sw ~ 2 Delta E / M_W with the
  barrier Delta E = 2K of a coherent rotation of l.

Observables are volume averages, so the cases marked `mpi` give the same numbers on two ranks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import expect_error, magnet_film_table
from dolfinx import fem
from dolfinx import mesh as dolfinx_mesh
from scipy.optimize import least_squares

from weylfem import compat
from weylfem.antiferro.coefficients import build_sublattice_coefficients
from weylfem.antiferro.energy import (
    HomogeneousDMI,
    InterlatticeExchange,
    InterlatticeStiffness,
    IntralatticeExchange,
    NeelOrbitalZeeman,
    SublatticeAnisotropy,
    SublatticeZeeman,
)
from weylfem.antiferro.problem import SublatticeProblem
from weylfem.antiferro.stepping import SublatticeLLG, relax_sublattices
from weylfem.antiferro.valley import StaggeredValleyTorque
from weylfem.constants import ELECTRON_GYROMAGNETIC_RATIO, ELEMENTARY_CHARGE
from weylfem.coupled.valley_torque import ValleyCouplingCoefficients
from weylfem.geometry import DeviceMesh
from weylfem.magnet.coefficients import MagneticRegion, build_magnet_coefficients
from weylfem.magnet.energy import Zeeman
from weylfem.materials import Material

GAMMA = ELECTRON_GYROMAGNETIC_RATIO
MS = 4.0e5
"""sublattice M_s (A/m)"""


def sublattice_magnet(mesh, order="antiferromagnet", axis=(0.0, 0.0, 1.0), **parameters):
    """(DeviceMesh, sublattice coefficients) of the whole mesh as one material of easy axis
    `axis`."""
    material = Material(
        name="afm",
        conductivity_S_per_m=1.0,
        saturation_magnetization_A_per_m=MS,
        exchange_stiffness_J_per_m=parameters.pop("exchange", 1e-12),
        gilbert_damping=parameters.pop("damping", 0.0),
        **parameters,
    )
    device_mesh = DeviceMesh.single_region(mesh)
    region = MagneticRegion(material, anisotropy_axis=axis)
    base = build_magnet_coefficients(device_mesh, {"magnet": region})
    return device_mesh, build_sublattice_coefficients(base, order)


def macrospin_mesh(comm):
    """A short chain: uniform sublattices stay uniform (a macrospin per sublattice)."""
    return dolfinx_mesh.create_interval(comm, 8, [0.0, 16e-9])


def uniaxial_afm(comm, exchange_T, anisotropy_T, field_T, initial, damping=0.0, orbital=None):
    """A uniaxial (easy z) two-sublattice macrospin in a field along z: its problem."""
    device_mesh, coefficients = sublattice_magnet(
        macrospin_mesh(comm),
        interlattice_exchange_J_per_m3=exchange_T * MS,
        uniaxial_anisotropy_J_per_m3=anisotropy_T * MS / 2,
        damping=damping,
    )
    base = coefficients.base
    zeeman = Zeeman(base, (0.0, 0.0, field_T))
    terms = [
        IntralatticeExchange(coefficients),
        InterlatticeExchange(coefficients),
        SublatticeAnisotropy(coefficients),
        SublatticeZeeman(coefficients, zeeman),
    ]
    if orbital is not None:
        base._parameters[NeelOrbitalZeeman.material_parameter] = orbital * base.indicator()
        terms.append(NeelOrbitalZeeman(coefficients, zeeman))
    return SublatticeProblem(device_mesh, coefficients, terms, initial)


# -- antiferromagnetic resonance ------------------------------------------------------------------


def two_frequency_fit(times, signal, guesses):
    """(omega_plus, omega_minus) of signal ~ a e^{+i omega_plus t} + b e^{-i omega_minus t}:
    the amplitudes solved linearly for given frequencies (variable projection)."""

    def residual(omegas):
        basis = np.stack([np.exp(1j * omegas[0] * times), np.exp(-1j * omegas[1] * times)], 1)
        amplitudes = np.linalg.lstsq(basis, signal, rcond=None)[0]
        difference = basis @ amplitudes - signal
        return np.concatenate([difference.real, difference.imag])

    scale = np.asarray(guesses)
    fit = least_squares(lambda x: residual(x * scale), np.ones(2), xtol=1e-14, ftol=1e-14)
    return fit.x * scale


@pytest.mark.mpi
def test_resonance_of_uniaxial_antiferromagnet_both_branches(comm):
    exchange_T, anisotropy_T, field_T = 50.0, 0.5, 1.0
    tilt = 0.01
    problem = uniaxial_afm(comm, exchange_T, anisotropy_T, field_T, [(tilt, 0, 1), (0, 0, -1)])
    llg = SublatticeLLG(problem, tolerance=1e-10)
    zero_field = GAMMA * math.sqrt(anisotropy_T * (2 * exchange_T + anisotropy_T))
    expected = (zero_field + GAMMA * field_T, zero_field - GAMMA * field_T)
    step_s = 2 * math.pi / expected[0] / 16
    times, signal = [], []
    for _ in range(int(30 * expected[0] / expected[1]) * 16):
        llg.step(step_s)
        m1 = problem.averages()[0]
        times.append(problem.time_s)
        signal.append(m1[0] + 1j * m1[1])
    assert problem.max_norm_deviation() < 1e-12
    # rough guesses from the spectrum's peaks on either side of zero
    times, signal = np.array(times), np.array(signal)
    padded = 16 * len(signal)
    omega = 2 * np.pi * np.fft.fftfreq(padded, step_s)
    spectrum = np.abs(np.fft.fft(signal * np.hanning(len(signal)), padded))
    guesses = (
        omega[omega > 0][np.argmax(spectrum[omega > 0])],
        -omega[omega < 0][np.argmax(spectrum[omega < 0])],
    )
    measured = two_frequency_fit(times, signal, guesses)
    errors = [abs(m / e - 1) for m, e in zip(measured, expected, strict=True)]
    assert max(errors) < 5e-3, (measured, expected, errors)


# -- spin flop ------------------------------------------------------------------------------------


@pytest.mark.mpi
@pytest.mark.parametrize("ratio", [0.97, 1.03])
def test_spin_flop_field_from_relaxed_energies(comm, ratio):
    exchange_T, anisotropy_T = 10.0, 1.0
    flop_T = math.sqrt(2 * exchange_T * anisotropy_T - anisotropy_T**2)
    field_T = ratio * flop_T
    energies = {}
    for name, initial in {
        "collinear": [(0.02, 0.0, 1.0), (0.0, 0.0, -1.0)],
        "flopped": [(1.0, 0.0, 0.3), (-1.0, 0.0, 0.3)],
    }.items():
        problem = uniaxial_afm(comm, exchange_T, anisotropy_T, field_T, initial)
        relax_sublattices(problem, 1e-6)
        energies[name] = problem.energies()["total"] / problem.volume
        neel = problem.neel_vector()
        if name == "collinear":
            assert abs(neel[2]) > 0.999, neel
        else:
            assert abs(neel[2]) < 1e-3, neel
    lam, k = exchange_T * MS, anisotropy_T * MS / 2
    assert energies["collinear"] == pytest.approx(-lam - 2 * k, rel=1e-9)
    flopped = -lam - (MS * field_T) ** 2 / (2 * (lam - k))
    assert energies["flopped"] == pytest.approx(flopped, rel=1e-8)
    lower = "collinear" if ratio < 1 else "flopped"
    assert energies[lower] < min(energies.values()) + 1e-12 * abs(lam)
    assert energies[lower] < max(energies.values())


# -- domain wall ----------------------------------------------------------------------------------


@pytest.mark.mpi
def test_static_wall_width_of_neel_vector(comm):
    exchange, stiffness_12, anisotropy = 2.0e-12, 1.0e-12, 2.0e5
    width = math.sqrt((2 * exchange - stiffness_12) / (2 * anisotropy))  # 2.74 nm
    length, cells = 24 * width, 480  # h = Delta/20
    mesh = dolfinx_mesh.create_interval(comm, cells, [-length / 2, length / 2])
    device_mesh, coefficients = sublattice_magnet(
        mesh,
        exchange=exchange,
        interlattice_exchange_J_per_m3=10.0 * MS,
        interlattice_exchange_stiffness_J_per_m=stiffness_12,
        uniaxial_anisotropy_J_per_m3=anisotropy,
    )
    terms = [
        IntralatticeExchange(coefficients),
        InterlatticeExchange(coefficients),
        InterlatticeStiffness(coefficients),
        SublatticeAnisotropy(coefficients),
    ]

    def initial(x):  # a wall of 1.5 times the width, l rotating in the xz plane
        theta = 2 * np.arctan(np.exp(x[0] / (1.5 * width)))
        neel = np.stack([np.sin(theta), np.zeros_like(theta), np.cos(theta)])
        return np.stack([neel, -neel])

    problem = SublatticeProblem(device_mesh, coefficients, terms, initial)
    relax_sublattices(problem, 1e-4)
    # l_z = -tanh((x - X)/Delta): its average fixes X, the exchange energy fixes Delta
    neel_z = problem.neel_vector()[2]
    centre = -neel_z * length / 2
    energy = problem.energies()
    exchange_energy = energy["exchange"] + energy["interlattice_stiffness"]
    # per unit cross-section (1D: the chain is 1 m^2): (2A - A_12) int |l'|^2 = (2A - A_12) 2/Delta
    measured = 2 * (2 * exchange - stiffness_12) / exchange_energy
    assert abs(centre) < width
    # measured at h = Delta/20: 8e-5 and 3e-4 (2.1e-3 and 2.2e-3 when lambda m_1.m_2 was
    # integrated exactly, with its spurious stiffness lambda h^2/6)
    assert measured == pytest.approx(width, rel=1e-3)
    anisotropy_energy = energy["uniaxial_anisotropy"] + 2 * anisotropy * length
    assert anisotropy_energy == pytest.approx(2 * anisotropy * 2 * width, rel=1e-3)


# -- moving wall: Lorentz contraction ------------------------------------------------------------

WALL_EXCHANGE_T, WALL_ANISOTROPY_T = 100.0, 0.1
"""B_E = lambda/M_s and B_A = 2K/M_s: lambda/K = 2000, so that the sigma model's corrections,
O((K/lambda) gamma_L^2), stay near 1e-3"""
WALL_EXCHANGE, WALL_STIFFNESS_12 = 1.0e-12, -1.0e-12
"""A and A_12 (J/m): A_eff = 2A - A_12 = 3e-12 (A_12 < 0, the sign a nearest-neighbour
interlattice exchange gives)"""
WALL_DAMPING = 0.01
WALL_ETA, WALL_SIGMA_V = 1e-25, 1e6
"""eta (J s/m) and sigma_v (S/m) of the valley torque that drives the wall"""


def magnon_velocity() -> float:
    """c = gamma sqrt(2 B_E A_eff / M_s) (docs/theory.md §3a, "Moving wall of l")."""
    stiffness = 2 * WALL_EXCHANGE - WALL_STIFFNESS_12
    return GAMMA * math.sqrt(2 * WALL_EXCHANGE_T * stiffness / MS)


def static_wall_width() -> float:
    """Delta = sqrt(A_eff / (2K)), K = M_s B_A / 2."""
    return math.sqrt((2 * WALL_EXCHANGE - WALL_STIFFNESS_12) / (MS * WALL_ANISOTROPY_T))


def moving_wall(comm, speed_ratio: float, cells_per_width: int) -> dict[str, float]:
    """Drive a 180 degree wall of l (easy axis x, l_x = -tanh((x - X)/Delta), l turning in
    the xz plane) in a chain of 40 Delta by the staggered valley field of a uniform valley
    gradient along x, b = -(eta sigma_v/(2 e M_s)) d(phi_v)/dx, of the size that the closed
    form gives for v = speed_ratio c; from rest for 10 velocity relaxation times
    tau = 1/(2 alpha gamma B_E) (steady to e^-10).  Returns the velocity fitted over the
    last 2 tau and, at the end, the widths of the exchange and the anisotropy energies and
    the ratio of the kinetic (interlattice exchange) to the exchange energy."""
    c, width = magnon_velocity(), static_wall_width()
    lorentz = 1 / math.sqrt(1 - speed_ratio**2)
    drive_T = WALL_DAMPING * speed_ratio * lorentz * c / (GAMMA * width)
    length = 40 * width
    mesh = dolfinx_mesh.create_interval(comm, 40 * cells_per_width, [-length / 2, length / 2])
    lam, anisotropy = WALL_EXCHANGE_T * MS, WALL_ANISOTROPY_T * MS / 2
    stiffness = 2 * WALL_EXCHANGE - WALL_STIFFNESS_12
    device_mesh, coefficients = sublattice_magnet(
        mesh,
        axis=(1.0, 0.0, 0.0),
        exchange=WALL_EXCHANGE,
        damping=WALL_DAMPING,
        interlattice_exchange_J_per_m3=lam,
        interlattice_exchange_stiffness_J_per_m=WALL_STIFFNESS_12,
        uniaxial_anisotropy_J_per_m3=anisotropy,
    )
    terms = [
        IntralatticeExchange(coefficients),
        InterlatticeExchange(coefficients),
        InterlatticeStiffness(coefficients),
        SublatticeAnisotropy(coefficients),
    ]
    start = -12 * width

    def initial(x):  # the static wall at X = start
        theta = 2 * np.arctan(np.exp((x[0] - start) / width))
        neel = np.stack([np.cos(theta), np.zeros_like(theta), np.sin(theta)])
        return np.stack([neel, -neel])

    problem = SublatticeProblem(device_mesh, coefficients, terms, initial)
    indicator = coefficients.base.indicator()
    coupling = ValleyCouplingCoefficients(
        eta=WALL_ETA * indicator,
        beta=0.0 * indicator,
        conductivity=WALL_SIGMA_V * indicator,
    )
    gradient = 2 * ELEMENTARY_CHARGE * MS * drive_T / (WALL_ETA * WALL_SIGMA_V)
    valley_potential = fem.Function(compat.function_space(mesh, "Lagrange", 1))
    valley_potential.interpolate(lambda x: -gradient * x[0])
    torque = StaggeredValleyTorque(problem, valley_potential, coupling)
    llg = SublatticeLLG(problem, extra_torques=[torque])
    relaxation_s = 1 / (2 * WALL_DAMPING * GAMMA * WALL_EXCHANGE_T)
    times, centres = [], []
    for _ in range(40):
        llg.step(relaxation_s / 4)
        times.append(problem.time_s)
        centres.append(problem.neel_vector()[0] * length / 2)  # <l_x> = 2X/L
    times, centres = np.array(times[-9:]), np.array(centres[-9:])
    energy = problem.energies()
    exchange = energy["exchange"] + energy["interlattice_stiffness"]
    return {
        "speed": np.polyfit(times, centres, 1)[0],
        "early_speed": np.polyfit(times[:5], centres[:5], 1)[0],
        "late_speed": np.polyfit(times[4:], centres[4:], 1)[0],
        # per unit cross-section (the chain is 1 m^2), l_x = -tanh: the exchange energy
        # A_eff int |l'|^2 = 2 A_eff/Delta, the anisotropy energy above -2K L 4 K Delta
        "exchange_width": 2 * stiffness / exchange,
        "anisotropy_width": (energy["uniaxial_anisotropy"] + 2 * anisotropy * length)
        / (4 * anisotropy),
        "kinetic_ratio": (energy["interlattice_exchange"] + lam * length) / exchange,
        "norm_deviation": problem.max_norm_deviation(),
    }


@pytest.mark.mpi
@pytest.mark.parametrize("speed_ratio", [0.2, 0.6, 0.8])
def test_moving_wall_lorentz_contraction(comm, speed_ratio):
    """Measured at h = Delta/20 (serial; the same on 2 ranks): |v/v_closed - 1| = 4.7e-4,
    6.8e-4, 1.35e-3 at v/c = 0.2, 0.6, 0.8; the widths within 3.4e-4, 9.9e-4, 3.7e-3 of
    Delta sqrt(1 - v^2/c^2); the kinetic ratio within 6.9e-4, 1.1e-3, 2.3e-3 of v^2/c^2.
    The contraction is 2%, 20%, 40%."""
    c, width = magnon_velocity(), static_wall_width()
    wall = moving_wall(comm, speed_ratio, cells_per_width=20)
    assert wall["norm_deviation"] < 1e-12
    speed = wall["speed"]
    # steady: the two halves of the last 2 tau agree
    assert wall["early_speed"] == pytest.approx(wall["late_speed"], rel=5e-4)
    # the damped sine-Gordon balance v/sqrt(1 - v^2/c^2) = gamma b Delta/alpha
    assert speed / c == pytest.approx(speed_ratio, rel=2e-3)
    contracted = width * math.sqrt(1 - (speed / c) ** 2)
    assert wall["exchange_width"] == pytest.approx(contracted, rel=5e-3)
    assert wall["anisotropy_width"] == pytest.approx(contracted, rel=5e-3)
    assert wall["kinetic_ratio"] == pytest.approx((speed / c) ** 2, rel=4e-3)


@pytest.mark.slow
@pytest.mark.mpi
def test_moving_wall_converges_at_second_order(comm):
    """At v/c = 0.8 on h = Delta/10, Delta/20, Delta/40 (measured, serial): the errors of v,
    the two widths and the kinetic ratio fall by 4.06, 4.02, 4.00, 4.07 per halving of h
    (P1, O(h^2)); Richardson-extrapolated they are -5.8e-4, -1.35e-3, -1.55e-3, +1.7e-3: the
    sigma model's own corrections, O((K/lambda) gamma_L^2) = 1.4e-3 at lambda/K = 2000."""
    c, width = magnon_velocity(), static_wall_width()
    errors = []
    for cells in (10, 20, 40):
        wall = moving_wall(comm, 0.8, cells_per_width=cells)
        ratio = wall["speed"] / c
        contracted = width * math.sqrt(1 - ratio**2)
        errors.append(
            [
                ratio / 0.8 - 1,
                wall["exchange_width"] / contracted - 1,
                wall["anisotropy_width"] / contracted - 1,
                wall["kinetic_ratio"] / ratio**2 - 1,
            ]
        )
    coarse, medium, fine = np.array(errors)
    rates = (coarse - medium) / (medium - fine)
    assert np.all((rates > 3.6) & (rates < 4.4)), rates
    limits = fine - (medium - fine) / 3
    assert np.all(np.abs(limits) < 2.5e-3), limits


# -- triangular (Mn3Sn-type) order -------------------------------------------------------------


@pytest.mark.mpi
@pytest.mark.parametrize("angle", [0.3, 1.2])
def test_triangular_ground_state_and_weak_moment(comm, angle):
    lam, dmi, anisotropy = 100.0 * MS, 20.0 * MS, 0.2 * MS
    device_mesh, coefficients = sublattice_magnet(
        macrospin_mesh(comm),
        order="triangular",
        interlattice_exchange_J_per_m3=lam,
        interlattice_dmi_J_per_m3=dmi,
        uniaxial_anisotropy_J_per_m3=anisotropy,
    )
    terms = [
        IntralatticeExchange(coefficients),
        InterlatticeExchange(coefficients),
        HomogeneousDMI(coefficients),
        SublatticeAnisotropy(coefficients),
    ]
    # start near the regular (+ chirality) triangle, slightly out of plane: the DMI must
    # turn it into the inverse one
    start = [
        (
            math.cos(angle + 2 * math.pi * k / 3 + 0.4 * k),
            math.sin(angle + 2 * math.pi * k / 3),
            0.05,
        )
        for k in range(3)
    ]
    problem = SublatticeProblem(device_mesh, coefficients, terms, start)
    relax_sublattices(problem, 1e-7 * lam / MS)
    m = problem.averages()
    phases = np.angle(m[:, 0] + 1j * m[:, 1])
    steps = np.angle(np.exp(1j * (phases[[1, 2, 0]] - phases)))
    # inverse triangle: each next sublattice turned by -120 degrees (to O(K/lambda))
    assert np.allclose(steps, -2 * math.pi / 3, atol=3 * anisotropy / lam), steps
    assert np.max(np.abs(m[:, 2])) < 1e-6
    net = m.sum(axis=0)
    expected = anisotropy / (lam + math.sqrt(3) * dmi)
    assert np.linalg.norm(net) == pytest.approx(expected, rel=5 * anisotropy / lam)
    # the weak moment turns opposite to the spins: its angle is -phi for m_1 at phi
    # (easy axes at 0, 120, 240 degrees)
    phi = phases[0]
    assert np.angle(net[0] + 1j * net[1]) == pytest.approx(np.angle(np.exp(-1j * phi)), abs=1e-2)


# -- linear Neel coupling: 180 degree switching --------------------------------------------------


def switching_field(lam, anisotropy, orbital):
    """The smallest B along +z at which l = -z loses stability: the root of the Hessian
    determinant (4K - M_W B)(4(lambda + K) - M_W B) - 4 M_s^2 B^2 = 0."""
    a = orbital**2 - 4 * MS**2
    b = -orbital * (4 * anisotropy + 4 * (lam + anisotropy))
    c = 16 * anisotropy * (lam + anisotropy)
    roots = np.roots([a, b, c])
    return float(min(r.real for r in roots if r.real > 0 and abs(r.imag) < 1e-9))


@pytest.mark.mpi
@pytest.mark.parametrize("ratio", [0.95, 1.05])
def test_neel_vector_switched_by_linear_coupling(comm, ratio):
    exchange_T, anisotropy_T = 20.0, 0.2
    orbital = 3.0 * MS
    lam, anisotropy = exchange_T * MS, anisotropy_T * MS / 2
    threshold = switching_field(lam, anisotropy, orbital)
    barrier = 2 * anisotropy  # coherent rotation of l at B = 0, per volume
    assert threshold == pytest.approx(2 * barrier / orbital, rel=0.02)
    field_T = ratio * threshold
    initial = [(0.02, 0.0, -1.0), (-0.02, 0.0, 1.0)]  # l along -z, against M_W l.B
    problem = uniaxial_afm(comm, exchange_T, anisotropy_T, field_T, initial, orbital=orbital)
    relax_sublattices(problem, 1e-6)
    neel = problem.neel_vector()
    assert neel[2] == pytest.approx(-1.0 if ratio < 1 else 1.0, abs=1e-3), neel
    # the opposite sign of M_W favours the start: nothing switches
    problem = uniaxial_afm(comm, exchange_T, anisotropy_T, field_T, initial, orbital=-orbital)
    relax_sublattices(problem, 1e-6)
    assert problem.neel_vector()[2] == pytest.approx(-1.0, abs=1e-3)


# -- device files ---------------------------------------------------------------------------------


def afm_film_table(order: str = "antiferromagnet", material: str = "EuCd2As2") -> dict:
    """A 2D sublattice film (a fresh copy per call)."""
    table = magnet_film_table()
    table["geometry"].update(length=20.0, width=10.0, mesh_size=5.0)
    table["regions"]["channel"] = {
        "material": material,
        "magnetization_direction": [1, 0, 0.1],
        "magnetic_order": order,
    }
    table["magnetization"] = {"demagnetization": "none"}
    table["fields"] = {"magnetic_field_T": [0.0, 0.0, 0.2]}
    table["dynamics"] = {"end_time_s": 2e-12, "time_step_s": 1e-12, "snapshot_every": 1}
    return table


@pytest.mark.mpi
def test_sublattice_device_runs_through_the_run_loop(comm, shared_tmp_path):
    from weylfem.config import device_from_mapping
    from weylfem.output.series import read_series
    from weylfem.run import run_device

    device = device_from_mapping(afm_film_table(), "dev.toml")
    results = run_device(device, shared_tmp_path / "out", comm, quiet=True)
    assert results["model"] == "sublattice magnetization dynamics"
    assert results["magnetization"]["sublattices"] == 2
    assert "interlattice_exchange" in results["magnetization"]["energy_terms"]
    series = read_series(shared_tmp_path / "out" / "series.csv")
    assert len(series["time_s"]) == 3
    l0 = np.array([series[f"l_{c}"][0] for c in "xyz"])
    assert l0 == pytest.approx(np.array([1, 0, 0.1]) / math.hypot(1, 0.1), rel=1e-12)
    for c in "xyz":  # the net moment starts at zero: m_2 = -m_1
        assert series[f"n_{c}"][0] == pytest.approx(0.0, abs=1e-14)
    assert (shared_tmp_path / "out" / "sublattices.xdmf").is_file()


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        (
            lambda t: t["magnetization"].update(demagnetization="open_boundary"),
            "magnetization.demagnetization",
            "'thin_film'",
        ),
        (
            lambda t: t["regions"]["channel"].update(material="permalloy"),
            "regions.channel.material",
            "interlattice_exchange_J_per_m3 > 0",
        ),
        (
            lambda t: t["regions"]["channel"].update(
                magnetic_order="triangular", magnetization_direction=[0, 0, 1]
            ),
            "regions.channel.magnetization_direction",
            "kagome (xy) plane",
        ),
        (
            lambda t: t["regions"]["channel"].update(magnetic_order="spiral"),
            "regions.channel.magnetic_order",
            "",
        ),
    ],
)
def test_sublattice_device_errors(change, key, fragment):
    table = afm_film_table()
    change(table)
    expect_error(table, key, fragment)
