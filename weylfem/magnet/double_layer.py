"""The dense nodal double-layer matrix of a closed triangulated surface (P1 collocation).

For a closed surface Gamma with outward normal n, made of flat triangles, and a continuous
piecewise-linear density u(y) = sum_j u_j phi_j(y), the double-layer potential evaluated
from inside at the surface node x_i is (Fredkin and Koehler, IEEE Trans. Magn. 26, 415
(1990), Eq. (11))

    W(x_i) = (1/4 pi) int_Gamma u(y) d/dn(y) 1/|x_i - y| dS(y) + (Omega(x_i)/4 pi - 1) u(x_i)
           = sum_j B_ij u_j,

with d/dn(y) 1/|x - y| = (x - y).n/|x - y|^3 and Omega(x_i) the solid angle the body fills
at x_i (2 pi on a smooth part, pi/2 at the corner of a box).  B is the matrix this module
builds, once, in vectorized numpy, with no quadrature error: the integral over each
triangle T = (y_1, y_2, y_3) (counter-clockwise about n) of each hat function phi_k is
Lindholm's closed form (D. A. Lindholm, IEEE Trans. Magn. 20, 2025 (1984); restated in
Abert et al., J. Magn. Magn. Mater. 345, 29 (2013), "magnum.fe", Eqs. 15-18, and in
Knittel's FinMag notes), which follows from splitting phi_k into its value at the foot of
x and its in-plane gradient and applying the divergence theorem in the plane:

    int_T phi_k(y) (y - x).n / |y - x|^3 dS
        = s_(k+1) / (2 A) [ eta_(k+1) Omega_T + zeta sum_j (xi_(k+1) . xi_j) P_j ],

where, with rho_j = y_j - x, edge j from y_j to y_(j+1) of length s_j and unit direction
xi_j (indices mod 3): A the area, zeta = n . rho_1 the height of the plane above x,
eta_j = rho_j . (xi_j x n) the distance of the foot of x from the line of edge j (positive
inside), P_j = ln[(|rho_j| + |rho_(j+1)| + s_j) / (|rho_j| + |rho_(j+1)| - s_j)] the
integral of 1/|y - x| along edge j, and Omega_T the signed solid angle of T seen from x
(positive when x lies behind T), by van Oosterom and Strackee (IEEE Trans. Biomed. Eng.
30, 125 (1983)):  tan(Omega_T / 2) = rho_1 . (rho_2 x rho_3) / (|rho_1||rho_2||rho_3|
+ (rho_1.rho_2)|rho_3| + (rho_1.rho_3)|rho_2| + (rho_2.rho_3)|rho_1|).  The three
weights of a triangle sum to Omega_T.  Triangles that have x_i as a vertex contribute
nothing (x_i lies in their plane), and the solid angle at x_i is the sum of the other
triangles' Omega_T, so every row of B sums to -1 exactly: a constant density has the
double-layer potential -1 inside, and the potential u1 + u2 of Fredkin and Koehler does
not depend on the constant u1 is fixed up to.

B is dense: 8 N^2 bytes for N surface nodes (0.2 GB at N = 5e3, 20 GB at N = 5e4).
Each rank builds and holds the rows of the nodes it owns; the columns are all the nodes.
Larger surfaces need a compressed operator (an H-matrix or a fast multipole method).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

CHUNK_ENTRIES = 100_000
"""Observation points x triangles evaluated at once (about 30 MB of temporaries; larger
blocks fall out of the cache: 85 ns per pair here against 200 ns at 1e6)."""


def double_layer_matrix(points: np.ndarray, triangles: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The rows `rows` of B (len(rows), N) for the surface of N nodes `points` (N, 3) and
    triangles `triangles` (T, 3) of node indices, each counter-clockwise about the
    outward normal."""
    points = np.asarray(points, dtype=float)
    triangles = np.asarray(triangles, dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    count, nodes = len(triangles), len(points)
    corners = points[triangles]  # (T, 3 corners, 3)
    edges = np.roll(corners, -1, axis=1) - corners  # edge j from y_j to y_(j+1)
    lengths = np.linalg.norm(edges, axis=2)  # (T, 3)
    directions = edges / lengths[:, :, None]
    normal = np.cross(edges[:, 0], -edges[:, 2])
    double_area = np.linalg.norm(normal, axis=1)
    normal /= double_area[:, None]
    outward = np.cross(directions, normal[:, None, :])  # xi_j x n, (T, 3, 3)
    # weight of corner k: s_(k+1)/(2A) [eta_(k+1) Omega + zeta sum_j gamma_(k+1),j P_j]
    opposite = [1, 2, 0]
    scale = lengths[:, opposite] / double_area[:, None]  # (T, 3)
    gamma = np.einsum("tkc,tjc->tkj", directions[:, opposite], directions)  # (T, 3, 3)
    # incidence of (corner, triangle) -> node, to sum the corner weights into columns
    incidence = scipy.sparse.csr_matrix(
        (np.ones(3 * count), (np.arange(3 * count), triangles.T.reshape(-1))),
        shape=(3 * count, nodes),
    ).T.tocsr()

    result = np.empty((len(rows), nodes))
    step = max(1, CHUNK_ENTRIES // max(count, 1))
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        x = points[chunk]
        rho = [[corners[None, :, j, c] - x[:, c, None] for c in range(3)] for j in range(3)]
        distance = [np.sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]) for r in rho]
        zeta = sum(rho[0][c] * normal[:, c] for c in range(3))
        eta = [sum(rho[j][c] * outward[:, j, c] for c in range(3)) for j in range(3)]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = []
            for j in range(3):
                total = distance[j] + distance[(j + 1) % 3]
                log_ratio.append(np.log((total + lengths[:, j]) / (total - lengths[:, j])))
            solid = _solid_angle(rho, distance, zeta * double_area)
            weights = np.empty((3, len(chunk), count))
            for k in range(3):
                following = opposite[k]
                line = sum(gamma[:, k, j] * log_ratio[j] for j in range(3))
                weights[k] = scale[:, k] * (eta[following] * solid + zeta * line)
        own = (triangles[None, :, :] == chunk[:, None, None]).any(axis=2)  # x is a corner
        weights[:, own] = 0.0
        solid[own] = 0.0
        block = (incidence @ weights.transpose(0, 2, 1).reshape(3 * count, -1)).T
        block *= -1 / (4 * np.pi)
        block[np.arange(len(chunk)), chunk] += solid.sum(axis=1) / (4 * np.pi) - 1.0
        result[start : start + len(chunk)] = block
    return result


def _solid_angle(rho: list, distance: list, triple: np.ndarray) -> np.ndarray:
    """Signed solid angle of each triangle (corners rho[j][c], their lengths distance[j],
    rho_1 . (rho_2 x rho_3) = `triple`), positive when the point lies behind it."""

    def dot(i: int, j: int) -> np.ndarray:
        return rho[i][0] * rho[j][0] + rho[i][1] * rho[j][1] + rho[i][2] * rho[j][2]

    a, b, c = distance
    denominator = a * b * c + dot(0, 1) * c + dot(0, 2) * b + dot(1, 2) * a
    return 2.0 * np.arctan2(triple, denominator)


def surface_is_closed(triangles: np.ndarray) -> bool:
    """True if every edge of the triangles is shared by exactly two of them, once in each
    direction (a closed, consistently oriented surface)."""
    triangles = np.asarray(triangles, dtype=np.int64)
    directed = np.stack([triangles, np.roll(triangles, -1, axis=1)], axis=2).reshape(-1, 2)
    forward = {tuple(edge) for edge in directed.tolist()}
    if len(forward) != len(directed):
        return False
    return all((b, a) in forward for a, b in forward)
