"""Nonlocal chiral-anomaly transport on the nonlocal strip (docs/theory.md §2, TS Sec. IV.C).

A current I is injected across a 2D TaAs strip (along y, width W) at x = 0; floating
probe pairs at distances x read R_NL(x) = (V_bottom - V_top) / I.  The ohmic part (B = 0)
spreads over a few widths, R_NL ~ exp(-pi x / W).  With B along the injected current
the anomaly pumps a valley imbalance where E.B != 0; it diffuses along the strip and the
chiral magnetic effect turns it back into a voltage, so the valley part
R_v = R_NL(B) - R_NL(0) decays as exp(-x / lambda) with

    lambda^-2 = lambda_v^-2 + (Gamma B / sigma)^2

(the slowest mode of the strip: no net current across it, so sigma d_y phi_c = Gamma B phi_v,
and the anomaly term Gamma B d_y phi_c adds Gamma^2 B^2 / sigma to the relaxation), grows
as B^2 at small B and vanishes for B perpendicular to the injected current.
"""

import numpy as np
import pytest

from weylfem.experiments import four_probe_resistances, nonlocal_strip_table
from weylfem.materials import MATERIALS

pytestmark = pytest.mark.mpi

TAAS = MATERIALS["TaAs"]
LAMBDA_V = TAAS.valley_diffusion_length_m  # 4.445 um
GAMMA_OVER_SIGMA = TAAS.anomaly_coefficient_A_per_m2_V_T / TAAS.conductivity_S_per_m  # 1/(m T)
UM = 1e-6

VALLEY_DISTANCES = (4.0, 6.0, 8.0, 10.0, 12.0)
"""Detector distances (um) on the valley strip: 0.9 to 2.7 lambda_v, >= 4 W from the
injector, so the ohmic part is below exp(-4 pi) there."""
VALLEY_LENGTH = 40.0
"""The strip end lies 25 um = 5.6 lambda_v beyond the last detector: its insulating wall
reflects the valley signal by exp(-2 x 5.6) ~ 1e-5 there, negligible for the fits."""
NONLOCAL_FROM = 6.0
"""Distances (um) from which the signal is nonlocal: the B-independent ohmic part and any
short-range response (both ~ exp(-pi x / W)) are below 1e-8 of the injector's."""


def strip_table(distances, field_T=(0.0, 0.0, 0.0), **geometry) -> dict:
    """A 2D TaAs strip (40 um long unless given), 1 mA injected across it at x = 3 um,
    ideal floating detector pairs, one R_NL each (`weylfem.experiments`)."""
    return nonlocal_strip_table(distances, field_T, **{"length": VALLEY_LENGTH, **geometry})


def decay_length(distances_um, values) -> float:
    """lambda (m) of the least-squares fit log|values| = a - x / lambda."""
    slope = np.polyfit(np.asarray(distances_um) * UM, np.log(np.abs(values)), 1)[0]
    return -1.0 / slope


def expected_length(field_T: float) -> float:
    """lambda(B) = (lambda_v^-2 + (Gamma B / sigma)^2)^(-1/2)."""
    return 1.0 / np.sqrt(LAMBDA_V**-2 + (GAMMA_OVER_SIGMA * field_T) ** 2)


@pytest.fixture(scope="module")
def valley_part():
    """B (3-vector, T) -> R_NL(B) - R_NL(0) at VALLEY_DISTANCES, on one mesh."""
    ohmic, device_mesh = four_probe_resistances(strip_table(VALLEY_DISTANCES))
    solved = {}

    def part(field_T):
        field_T = tuple(field_T)
        if field_T not in solved:
            table = strip_table(VALLEY_DISTANCES, field_T)
            solved[field_T] = four_probe_resistances(table, device_mesh)[0] - ohmic
        return solved[field_T]

    part.ohmic = ohmic
    return part


def test_valley_part_decays_over_the_valley_length(valley_part):
    field = 0.1  # T: (Gamma B lambda_v / sigma)^2 = 1e-3, lambda within 0.06% of lambda_v
    part = valley_part((0.0, field, 0.0))
    fitted = decay_length(VALLEY_DISTANCES, part)
    print(f"B = {field} T: fitted {fitted / UM:.4f} um, lambda_v {LAMBDA_V / UM:.4f} um")
    assert fitted == pytest.approx(LAMBDA_V, rel=0.03)
    # a single exponential: every neighbouring pair of detectors gives the same length
    pairwise = -np.diff(VALLEY_DISTANCES) * UM / np.diff(np.log(np.abs(part)))
    assert pairwise == pytest.approx(fitted, rel=0.01)
    # the CME current Gamma phi_v B flows along the injected current (phi_v ~ B.E): an
    # open-circuit detector is reverse-biased, against the positive ohmic R_NL (resolved
    # at 4 um; it is at round-off, 1e-22 ohm m, by 12 um)
    assert np.all(part < 0) and valley_part.ohmic[0] > 0


def test_strong_field_shortens_the_decay_length(valley_part):
    # at 1 T, (Gamma B lambda_v / sigma)^2 = 0.11: lambda = 0.949 lambda_v, resolved
    fitted = decay_length(VALLEY_DISTANCES, valley_part((0.0, 1.0, 0.0)))
    print(f"B = 1 T: fitted {fitted / UM:.4f} um, lambda(B) {expected_length(1.0) / UM:.4f} um")
    assert fitted == pytest.approx(expected_length(1.0), rel=0.01)
    assert fitted < 0.96 * LAMBDA_V


def test_valley_part_grows_as_field_squared(valley_part):
    small, double = (valley_part((0.0, b, 0.0)) for b in (0.05, 0.1))
    ratio = double / small
    print(f"R_v(2B) / R_v(B) at B = 0.05 T: {ratio}")
    assert ratio == pytest.approx(4.0, rel=0.01)
    # even in B (B enters twice, in the pumping and in the CME): phi_v -> -phi_v maps the
    # problem at B onto the one at -B exactly, also discretely
    assert valley_part((0.0, -0.1, 0.0)) == pytest.approx(double, rel=1e-8)


@pytest.mark.parametrize("field_T", [(0.1, 0.0, 0.0), (0.0, 0.0, 0.1)], ids=["B_x", "B_z"])
def test_valley_part_vanishes_for_field_across_the_current(valley_part, field_T):
    parallel = valley_part((0.0, 0.1, 0.0))
    across = valley_part(field_T)
    ratio = np.abs(across / parallel)
    print(f"B = {field_T} T: |R_v| / |R_v(B along I)| = {ratio}")
    nonlocal_ = np.array(VALLEY_DISTANCES) >= NONLOCAL_FROM
    assert np.all(ratio[nonlocal_] < 1e-6)
    if field_T[0]:
        # B along the strip pumps only a valley imbalance odd across it (E_x is odd in
        # y - W/2), which decays over W / pi like the ohmic part, not over lambda_v: from
        # 4 to 6 um by far more than the valley signal's exp(-2 um / lambda_v) = 0.64
        assert ratio[1] < 0.03 * ratio[0]
    else:
        # a 2D strip lies in the xy plane: B_z enters neither E.B nor the in-plane CME
        assert np.all(across == 0.0)


@pytest.mark.parametrize("width", [1.0, 2.0])
def test_ohmic_part_decays_over_width_over_pi(width):
    # one detector pair per strip: a floating pair is an equipotential patch on each edge
    # that carries the evanescent ohmic field along the edge, so detectors behind it would
    # see that field altered (by about 17% per pair half a width apart)
    distances = [f * width for f in (1.0, 1.5, 2.0)]
    values = [
        four_probe_resistances(
            strip_table([d], width=width, length=8.0 * width, mesh_size=0.1 * width)
        )[0][0]
        for d in distances
    ]
    rate = 1.0 / decay_length(distances, values)
    print(f"W = {width} um: fitted rate {rate * width * UM / np.pi:.4f} pi / W")
    assert rate == pytest.approx(np.pi / (width * UM), rel=0.03)


def test_three_dimensional_strip_has_the_same_valley_length():
    # the default device's configuration: a 3D strip, every contact through the thickness
    table = strip_table(VALLEY_DISTANCES, mesh_size=0.25, length=30.0)
    table["geometry"].update(dimension=3, thickness=0.5)
    ohmic, device_mesh = four_probe_resistances(table)
    parts = {}
    for field in (0.05, 0.1):
        table["fields"]["magnetic_field_T"] = [0.0, field, 0.0]
        parts[field] = four_probe_resistances(table, device_mesh)[0] - ohmic
    fitted = decay_length(VALLEY_DISTANCES, parts[0.1])
    ratio = parts[0.1] / parts[0.05]
    print(f"3D: fitted {fitted / UM:.4f} um; R_v(2B) / R_v(B) = {ratio}")
    assert fitted == pytest.approx(LAMBDA_V, rel=0.03)
    assert ratio == pytest.approx(4.0, rel=0.01)
