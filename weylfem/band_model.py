"""A lattice-regularised k_z slice of TS Eq. 1, and its Hall conductance computed two ways.

The signs of docs/theory.md §1 ("Signs from one band model") rest on this model.  TS Eq. 1,

    H = v tau_z sigma.k - J sigma.M + Delta tau_x,

with M = M z has its tau_z = +1 (chirality +) node at k = +(J/v)M.  At fixed k_z the 2D slice,
with the in-plane momenta regularised on a square lattice of constant a and a Wilson term that
gaps the lattice doublers by a momentum-dependent Dirac mass (the Delta tau_x channel),

    H(k) = tau_z [ t (sigma_x sin k_x + sigma_y sin k_y) + t kappa sigma_z ] - b sigma_z
           + [ Delta + w (2 - cos k_x - cos k_y) ] tau_x,

is a 4-band insulator at half filling for kappa = k_z a off the nodes (energies in t = hbar v/a,
momenta in 1/a, b = J M).  At k_x = k_y = 0 the Wilson term vanishes, so the nodes sit exactly
where Eq. 1 puts them, kappa = +-sqrt(b^2 - Delta^2) (the chirality-+ node on the side of sign b),
and for |Delta + 2w| > |b| the doublers stay gapped.

Its Hall conductance sigma_xy (j_x = sigma_xy E_y, units e^2/h, carriers of charge q = -e) is
computed by two independent routes:

- `streda_hall_conductance`: Streda, sigma_xy = q dn/dB at fixed chemical potential in the gap,
  by counting the states below the gap on an L x L torus threaded by N_phi flux quanta h/e
  (Peierls phases for the charge q in the Landau gauge with the magnetic-translation twist at
  the seam); sigma_xy = -(e^2/h) dN/dN_phi for q = -e.
- `kubo_hall_conductance`: the current's linear response to E, the Kubo formula with the velocity
  operators dH/dk on a k grid (minimal coupling k -> k - qA/hbar, so hbar dk/dt = qE):
  sigma_xy = -(q^2/hbar) int d^2k/(2 pi)^2 sum_occ Omega_n,
  Omega_n = -2 Im sum_{m unocc} <n|d_x H|m><m|d_y H|n> / (E_n - E_m)^2.

`fukui_chern_number` is the Fukui-Hatsugai-Suzuki lattice Chern number of the occupied bands
(C = (1/2 pi) int Omega), exactly integer on any grid; sigma_xy = -(e^2/h) C.
numpy only; dense linear algebra, a fraction of a second per call for the sizes used in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_I2 = np.eye(2, dtype=complex)
_SX = np.array([[0, 1], [1, 0]], dtype=complex)
_SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
_SZ = np.array([[1, 0], [0, -1]], dtype=complex)
# Basis index 2*tau + s (tau: valley, s: spin), so kron(tau matrix, sigma matrix).
_TZ_SX = np.kron(_SZ, _SX)
_TZ_SY = np.kron(_SZ, _SY)
_TZ_SZ = np.kron(_SZ, _SZ)
_SZ4 = np.kron(_I2, _SZ)
_TX = np.kron(_SX, _I2)


@dataclass(frozen=True)
class SliceParameters:
    """One k_z slice of the lattice-regularised TS Eq. 1 (energies in t = hbar v / a)."""

    kappa: float
    """k_z a, the slice"""
    exchange: float
    """b = J M_z: the chirality-+ node is at kappa = sign(b) sqrt(b^2 - Delta^2)"""
    dirac_mass: float = 0.5
    """Delta, the parity-mixing mass of Eq. 1"""
    wilson: float = 1.0
    """w, the Wilson mass that gaps the doublers at (pi, 0), (0, pi), (pi, pi)"""

    @property
    def node_kappa(self) -> float:
        """kappa of the chirality-+ (tau_z = +1) node, sign(b) sqrt(b^2 - Delta^2)."""
        if abs(self.exchange) <= abs(self.dirac_mass):
            raise ValueError("no Weyl nodes: |b| <= |Delta| gives a gapped insulator (TS Eq. 2)")
        return math.copysign(math.sqrt(self.exchange**2 - self.dirac_mass**2), self.exchange)


def _onsite(p: SliceParameters) -> np.ndarray:
    """The k-independent part: t kappa tau_z sigma_z - b sigma_z + (Delta + 2w) tau_x."""
    return p.kappa * _TZ_SZ - p.exchange * _SZ4 + (p.dirac_mass + 2 * p.wilson) * _TX


def _hopping(p: SliceParameters) -> tuple[np.ndarray, np.ndarray]:
    """T_x, T_y with H(k) = onsite + sum_d (T_d e^{i k_d} + T_d^dagger e^{-i k_d})."""
    tx = _TZ_SX / 2j - p.wilson * _TX / 2
    ty = _TZ_SY / 2j - p.wilson * _TX / 2
    return tx, ty


def bloch_hamiltonian(kx: np.ndarray, ky: np.ndarray, p: SliceParameters) -> np.ndarray:
    """H(k) for arrays of k_x, k_y (same shape S): an array of shape S + (4, 4)."""
    kx = np.asarray(kx, dtype=float)[..., None, None]
    ky = np.asarray(ky, dtype=float)[..., None, None]
    return (
        p.kappa * _TZ_SZ
        - p.exchange * _SZ4
        + np.sin(kx) * _TZ_SX
        + np.sin(ky) * _TZ_SY
        + (p.dirac_mass + p.wilson * (2 - np.cos(kx) - np.cos(ky))) * _TX
    )


def _velocities(
    kx: np.ndarray, ky: np.ndarray, p: SliceParameters
) -> tuple[np.ndarray, np.ndarray]:
    """dH/dk_x and dH/dk_y (hbar times the velocity operators, in t a)."""
    kx = np.asarray(kx, dtype=float)[..., None, None]
    ky = np.asarray(ky, dtype=float)[..., None, None]
    return (
        np.cos(kx) * _TZ_SX + p.wilson * np.sin(kx) * _TX,
        np.cos(ky) * _TZ_SY + p.wilson * np.sin(ky) * _TX,
    )


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    k = 2 * np.pi * np.arange(n) / n
    return np.meshgrid(k, k, indexing="ij")


def kubo_hall_conductance(p: SliceParameters, n_k: int = 64, occupied: int = 2) -> float:
    """sigma_xy / (e^2/h) from the Kubo formula on an n_k x n_k grid (the lowest `occupied`
    bands filled).  The integrand is smooth and periodic, so the grid sum converges
    exponentially in n_k for a gapped slice."""
    kx, ky = _grid(n_k)
    energies, states = np.linalg.eigh(bloch_hamiltonian(kx, ky, p))
    vx, vy = _velocities(kx, ky, p)
    sh = np.conj(np.swapaxes(states, -1, -2))
    vx_nm = sh @ vx @ states
    vy_nm = sh @ vy @ states
    occ = slice(0, occupied)
    emp = slice(occupied, None)
    gap = energies[..., occ, None] - energies[..., None, emp]
    product = vx_nm[..., occ, emp] * vy_nm[..., emp, occ].swapaxes(-1, -2)
    curvature = -2 * np.imag(product / gap**2).sum(axis=(-1, -2))
    # sigma_xy = -(e^2/hbar) (1/N_k) sum Omega = -(e^2/h) 2 pi (1/N_k) sum Omega (Omega in a^2)
    return float(-2 * np.pi * curvature.mean())


def fukui_chern_number(p: SliceParameters, n_k: int = 32, occupied: int = 2) -> int:
    """Chern number C = (1/2 pi) int Omega of the lowest `occupied` bands (Fukui, Hatsugai and
    Suzuki, J. Phys. Soc. Jpn. 74, 1674 (2005)): the sum of the plaquette Berry phases of the
    occupied-subspace link variables, with Omega = curl of A = i<u|grad u>."""
    kx, ky = _grid(n_k)
    _, states = np.linalg.eigh(bloch_hamiltonian(kx, ky, p))
    u = states[..., :occupied]

    def link(shift_axis: int) -> np.ndarray:
        shifted = np.roll(u, -1, axis=shift_axis)
        overlap = np.linalg.det(np.conj(np.swapaxes(u, -1, -2)) @ shifted)
        return overlap / np.abs(overlap)

    ux, uy = link(0), link(1)
    plaquette = ux * np.roll(uy, -1, axis=0) / (np.roll(ux, -1, axis=1) * uy)
    # Berry phase around the plaquette is -Im log(U_x U_y(k+x) / U_x(k+y) U_y) for A = i<u|du>.
    flux = -np.angle(plaquette)
    return int(round(flux.sum() / (2 * np.pi)))


def torus_hamiltonian(
    p: SliceParameters, size: int, flux_quanta: int, charge_sign: int = -1
) -> np.ndarray:
    """The slice on an L x L torus (L = `size`) threaded by `flux_quanta` quanta h/e of B along
    +z, for carriers of charge q = charge_sign e: dense (4L^2 x 4L^2), site index x L + y.

    Peierls phases theta_{r'r} = (q/hbar) int_r^{r'} A.dl, Landau gauge A = B x y_hat: a hop
    +y at column x has 2 pi f x, with f = (q/e) N_phi / L^2 the flux per plaquette in quanta; a
    hop +x across the seam (x = L-1 -> 0) at row y has -2 pi f L y (the magnetic-translation
    twist), so every plaquette, the seam's included, encloses 2 pi f."""
    n = size
    f = charge_sign * flux_quanta / n**2
    onsite = _onsite(p)
    tx, ty = _hopping(p)
    # H_{r - d <- r} = T_d and H_{r + d <- r} = T_d^dagger: the hop r -> r + d carries T_d^dagger.
    hx, hy = tx.conj().T, ty.conj().T
    h = np.zeros((4 * n * n, 4 * n * n), dtype=complex)

    def index(x: int, y: int) -> int:
        return 4 * ((x % n) * n + (y % n))

    for x in range(n):
        for y in range(n):
            i = index(x, y)
            h[i : i + 4, i : i + 4] += onsite
            # hop +x: (x, y) -> (x + 1, y)
            theta = -2 * np.pi * f * n * y if x == n - 1 else 0.0
            j = index(x + 1, y)
            block = np.exp(1j * theta) * hx
            h[j : j + 4, i : i + 4] += block
            h[i : i + 4, j : j + 4] += block.conj().T
            # hop +y: (x, y) -> (x, y + 1)
            j = index(x, y + 1)
            block = np.exp(1j * 2 * np.pi * f * x) * hy
            h[j : j + 4, i : i + 4] += block
            h[i : i + 4, j : j + 4] += block.conj().T
    return h


def plaquette_fluxes(size: int, flux_quanta: int, charge_sign: int = -1) -> np.ndarray:
    """The Peierls phase around every plaquette of `torus_hamiltonian`'s gauge (counterclockwise,
    in units of 2 pi, mod 1): all equal to f = (q/e) N_phi / L^2 mod 1 if the gauge is right."""
    n = size
    f = charge_sign * flux_quanta / n**2

    def phase_x(x: int, y: int) -> float:
        return -2 * np.pi * f * n * (y % n) if x % n == n - 1 else 0.0

    def phase_y(x: int, y: int) -> float:
        return 2 * np.pi * f * (x % n)

    out = np.empty((n, n))
    for x in range(n):
        for y in range(n):
            total = phase_x(x, y) + phase_y(x + 1, y) - phase_x(x, y + 1) - phase_y(x, y)
            out[x, y] = (total / (2 * np.pi)) % 1.0
    return out


def states_below(
    p: SliceParameters, size: int, flux_quanta: int, charge_sign: int = -1, energy: float = 0.0
) -> tuple[int, float]:
    """The number of torus states below `energy` and the smallest |E - energy| (the margin
    that makes the count unambiguous)."""
    eigenvalues = np.linalg.eigvalsh(torus_hamiltonian(p, size, flux_quanta, charge_sign))
    return int(np.count_nonzero(eigenvalues < energy)), float(np.min(np.abs(eigenvalues - energy)))


def streda_hall_conductance(
    p: SliceParameters,
    size: int = 10,
    flux_quanta: tuple[int, ...] = (-2, -1, 0, 1, 2),
    charge_sign: int = -1,
) -> tuple[float, np.ndarray, float]:
    """sigma_xy / (e^2/h) from Streda's formula for carriers of charge q = charge_sign e (-1:
    electrons).  With N_phi quanta h/e through the L^2 a^2 torus, B = N_phi h/(e L^2 a^2), so
    sigma_xy = q dn/dB = charge_sign (e^2/h) dN/dN_phi, with N the number of states below E = 0
    (mid-gap); N must be exactly linear in N_phi (ValueError otherwise).  Returns
    sigma_xy / (e^2/h), the counts and the smallest distance of a level from E = 0 over all
    fluxes."""
    counts = []
    margin = math.inf
    for n_phi in flux_quanta:
        count, gap = states_below(p, size, n_phi, charge_sign)
        counts.append(count)
        margin = min(margin, gap)
    steps = np.diff(counts) / np.diff(np.asarray(flux_quanta, float))
    if not np.all(steps == steps[0]):
        raise ValueError(f"state counts {counts} are not linear in the flux: a level crosses E = 0")
    return float(charge_sign * steps[0]), np.asarray(counts), margin
