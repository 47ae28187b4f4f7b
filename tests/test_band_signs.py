"""The relative sign of the anomalous Hall effect and eta, from one band model (TS Eq. 1).

docs/theory.md §1, "Signs from one band model": a lattice-regularised k_z slice of TS Eq. 1
(`weylfem.band_model`) has its Hall conductance computed by Streda state counting on a torus with
flux and by the Kubo current response to E; both give the same integer, so the sign of sigma_AH
of a node pair with its + (tau_z = +1) node at +k0 along m follows, and with it the sign that the
package's sigma_AH, theta and eta must carry relative to each other.  Dense linear algebra, serial.
"""

import dataclasses
import math

import numpy as np
import pytest

from weylfem.band_model import (
    SliceParameters,
    fukui_chern_number,
    kubo_hall_conductance,
    plaquette_fluxes,
    streda_hall_conductance,
)
from weylfem.constants import ELEMENTARY_CHARGE, HBAR
from weylfem.materials import HALL_SIGN_OF_NODE_SHIFT, get_material

pytestmark = pytest.mark.serial

EXCHANGE = 1.0  # b = J M_z in units of hbar v / a; Delta = 0.5, w = 1 (SliceParameters defaults)


def slice_hall(kappa: float, exchange: float = EXCHANGE) -> int:
    """sigma_xy / (e^2/h) of the slice, Streda and Kubo agreeing to round-off (asserted)."""
    p = SliceParameters(kappa=kappa, exchange=exchange)
    streda, counts, margin = streda_hall_conductance(p)
    assert margin > 0.1, f"a torus level within {margin} of the gap centre: the count is unsafe"
    # N(N_phi) = N(0) + (sigma_xy / (e^2/h)) (-N_phi) for electrons, exactly.
    assert np.array_equal(counts - counts[2], streda * -np.array([-2, -1, 0, 1, 2]))
    kubo = kubo_hall_conductance(p, n_k=96)
    assert round(streda) == streda
    assert abs(kubo - streda) < 1e-10, (kubo, streda)
    # The Fukui-Hatsugai-Suzuki Chern number of the occupied bands: sigma_xy = -(e^2/h) C.
    assert fukui_chern_number(p) == -round(streda)
    return round(streda)


def test_peierls_gauge_has_uniform_flux():
    for size, n_phi in ((6, 1), (7, -3), (10, 2)):
        fluxes = plaquette_fluxes(size, n_phi)
        expected = (-n_phi / size**2) % 1.0
        assert np.allclose(fluxes, expected, atol=1e-12), (size, n_phi)


def test_streda_is_independent_of_the_carrier_charge_sign():
    """sigma_xy = q dn/dB with n counted in the field felt by the charge q: q^2, as it must be."""
    p = SliceParameters(kappa=0.0, exchange=EXCHANGE)
    electrons, counts_e, _ = streda_hall_conductance(p, charge_sign=-1)
    holes, counts_h, _ = streda_hall_conductance(p, charge_sign=+1)
    assert electrons == holes == 1.0
    assert np.array_equal(counts_e, counts_h[::-1])


def test_slice_hall_conductance_from_the_node_positions():
    """Between the nodes the slice is a Chern insulator whose sign is set by where the + node
    is; outside it is trivial.  Moving the + node to the other side flips it."""
    p = SliceParameters(kappa=0.0, exchange=EXCHANGE)
    node = p.node_kappa
    assert node == pytest.approx(math.sqrt(0.75))
    inside = [slice_hall(f * node) for f in (-0.6, -0.3, 0.0, 0.3, 0.6)]
    outside = [slice_hall(f * node) for f in (-1.8, -1.4, 1.4, 1.8)]
    assert inside == [1] * 5
    assert outside == [0] * 4
    assert slice_hall(0.0, exchange=-EXCHANGE) == -1


def band_model_sign() -> int:
    """s_band = sign(eta) sign(sigma_AH) in the package convention, from the lattice slice.

    The chirality-+ node is at kappa_+ z (b > 0: kappa_+ > 0), so with m = +-z it is displaced
    by k0 = kappa_+ m_z along m: eta = hbar k0.  sigma_xy of the node pair is the slice value
    times K/(2 pi) (C(k_z) is constant between the nodes, zero outside).  The package's Hall
    current sigma_AH m x E has sigma_xy = -sigma_AH m_z."""
    p = SliceParameters(kappa=0.0, exchange=EXCHANGE)
    signs = set()
    for m_z in (1.0, -1.0):
        eta = p.node_kappa * m_z  # in units of hbar / a
        sigma_xy_3d = slice_hall(0.0) * 2 * abs(p.node_kappa) / (2 * math.pi)  # e^2/h per a
        sigma_ah = -sigma_xy_3d / m_z
        signs.add(int(np.sign(eta) * np.sign(sigma_ah)))
    assert len(signs) == 1, "the relative sign cannot depend on which way m points"
    return signs.pop()


def test_band_model_sign_is_minus_one():
    """With the + node at +k0 m: sigma_AH = -e^2 k0 / (2 pi^2 hbar) per node pair."""
    assert band_model_sign() == -1


def test_node_pair_hall_conductivity_in_si():
    """sigma_xy (e^2/h) K/(2 pi) = e^2 K/(4 pi^2 hbar): the pair formula of docs/theory.md §1."""
    k0 = 3.0e9
    e2_over_h = ELEMENTARY_CHARGE**2 / (2 * math.pi * HBAR)
    sigma_pair = slice_hall(0.0) * e2_over_h * 2 * k0 / (2 * math.pi)
    assert sigma_pair == pytest.approx(ELEMENTARY_CHARGE**2 * k0 / (2 * math.pi**2 * HBAR))


def test_library_material_carries_the_band_model_sign():
    """The package's theta and eta obey sign(eta) sign(sigma_AH) = s_band, and theta has the
    sign of sigma_AH: for the library's magnetic Weyl semimetal (sigma_AH measured, eta from
    alpha_p with the band sign), for a material given by k0 alone, and for the constant
    `HALL_SIGN_OF_NODE_SHIFT` the materials module derives them with."""
    s_band = band_model_sign()
    assert HALL_SIGN_OF_NODE_SHIFT == s_band
    library = get_material("Co3Sn2S2")
    by_k0 = dataclasses.replace(
        library,
        anomalous_hall_conductivity_S_per_m=None,
        pumping_damping=None,
        node_half_separation_per_m=2.0e8,
    )
    for material in (library, by_k0):
        sigma_ah, theta, eta = material.sigma_ah, material.hall_angle, material.eta
        assert sigma_ah and theta and eta
        assert np.sign(theta) == np.sign(sigma_ah)
        assert np.sign(eta) * np.sign(sigma_ah) == s_band, (
            f"{material.name}: eta = {eta:.4g} J s/m and sigma_AH = {sigma_ah:.4g} S/m violate"
            f" sign(eta) sign(sigma_AH) = {s_band} (docs/theory.md §1)"
        )
