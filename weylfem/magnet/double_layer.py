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

`double_layer_matrix` gives B's rows dense: 8 N^2 bytes for N surface nodes (0.2 GB at
N = 5e3, 20 GB at N = 5e4).  `DoubleLayerBlocks` gives any block B[I, J] from the
triangles at the nodes J alone, with the diagonal Omega/4 pi - 1 from the triangles
around the node (the solid angle of its cone: 2 pi minus the bending angles of its
edges), for the H-matrix of `weylfem.magnet.hmatrix`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

CHUNK_ENTRIES = 100_000
"""Observation points x triangles evaluated at once (about 30 MB of temporaries; larger
blocks fall out of the cache: 85 ns per pair here against 200 ns at 1e6)."""
CHUNK_PAIRS = 16_384
"""Point-triangle pairs evaluated at once from flat index arrays (temporaries in cache)."""
OPPOSITE = [1, 2, 0]
"""The edge whose length and direction weigh corner k: k + 1 (mod 3)."""


class TriangleGeometry:
    """The per-triangle quantities of Lindholm's weights (corners, edge lengths and
    directions, unit normal, twice the area, in-plane edge normals) and the incidence of
    the triangles' corners on the nodes, computed once for a surface."""

    def __init__(self, points: np.ndarray, triangles: np.ndarray):
        self.points = np.asarray(points, dtype=float)
        self.triangles = np.asarray(triangles, dtype=np.int64)
        self.corners = self.points[self.triangles]  # (T, 3 corners, 3)
        edges = np.roll(self.corners, -1, axis=1) - self.corners  # edge j: y_j to y_(j+1)
        self.lengths = np.linalg.norm(edges, axis=2)  # (T, 3)
        directions = edges / self.lengths[:, :, None]
        normal = np.cross(edges[:, 0], -edges[:, 2])
        self.double_area = np.linalg.norm(normal, axis=1)
        self.normal = normal / self.double_area[:, None]
        self.outward = np.cross(directions, self.normal[:, None, :])  # xi_j x n, (T, 3, 3)
        # weight of corner k: s_(k+1)/(2A) [eta_(k+1) Omega + zeta sum_j gamma_(k+1),j P_j]
        self.scale = self.lengths[:, OPPOSITE] / self.double_area[:, None]  # (T, 3)
        self.gamma = np.einsum("tkc,tjc->tkj", directions[:, OPPOSITE], directions)
        count = len(self.triangles)
        self.packed = np.vstack(
            [
                self.corners.reshape(count, 9).T,
                self.lengths.T,
                self.normal.T,
                self.outward.reshape(count, 9).T,
                self.scale.T,
                self.gamma.reshape(count, 9).T,
                self.double_area[None, :],
                self.triangles.T.astype(float),
            ]
        )
        """(40, T): corners (y_j)_c at 3 j + c, lengths 9 + j, normal 12 + c, outward
        15 + 3 j + c, scale 24 + k, gamma 27 + 3 k + j, 2 A 36, the corners' nodes 37 + k"""
        corner_node = self.triangles.reshape(-1)  # corner 3 t + k
        self.node_corners = scipy.sparse.csr_matrix(
            (np.arange(3 * count) + 1, (corner_node, np.arange(3 * count))),
            shape=(len(self.points), 3 * count),
        )
        """node -> its corners 3 t + k (the data is the corner + 1)"""

    def weights(self, x: np.ndarray, observers: np.ndarray, triangles) -> tuple:
        """Lindholm's three corner weights and the signed solid angle of the triangles
        `triangles` (an index array, or a slice) seen from the points `x` (..., 3) of node
        indices `observers` (broadcast against the triangles); both zero where the point is
        a corner of the triangle (it lies in the triangle's plane)."""
        # one gather of every per-triangle quantity: rows of `packed`, see __init__
        packed = self.packed[:, triangles]
        corners, lengths, normal = packed[0:9], packed[9:12], packed[12:15]
        outward, scale, gamma = packed[15:24], packed[24:27], packed[27:36]
        rho = [[corners[3 * j + c] - x[..., c] for c in range(3)] for j in range(3)]
        distance = [np.sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]) for r in rho]
        zeta = sum(rho[0][c] * normal[c] for c in range(3))
        eta = [sum(rho[j][c] * outward[3 * j + c] for c in range(3)) for j in range(3)]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = []
            for j in range(3):
                total = distance[j] + distance[(j + 1) % 3]
                log_ratio.append(np.log((total + lengths[j]) / (total - lengths[j])))
            solid = _solid_angle(rho, distance, zeta * packed[36])
            weights = np.empty((3, *solid.shape))
            for k in range(3):
                following = OPPOSITE[k]
                line = sum(gamma[3 * k + j] * log_ratio[j] for j in range(3))
                weights[k] = scale[k] * (eta[following] * solid + zeta * line)
        own = (packed[37] == observers) | (packed[38] == observers) | (packed[39] == observers)
        weights[:, own] = 0.0
        solid[own] = 0.0
        return weights, solid

    def vertex_solid_angles(self) -> np.ndarray:
        """The solid angle the body fills at each node, from the triangles around it alone:
        Omega = 2 pi - sum of the bending angles psi (the turn of the outward normal, positive
        where the surface is convex) of the edges at the node, the area of the spherical
        polygon the node's cone cuts from the unit sphere.  Equal, on a closed surface, to
        the sum of the other triangles' solid angles that `double_layer_matrix` takes."""
        triangles = self.triangles
        count = len(triangles)
        start = triangles.reshape(-1)
        end = np.roll(triangles, -1, axis=1).reshape(-1)
        owner = np.repeat(np.arange(count), 3)
        # the reverse of each directed edge, in the triangle across it
        nodes = len(self.points)
        key = start * nodes + end
        order = np.argsort(key)
        across = order[np.searchsorted(key[order], end * nodes + start)]
        first, second = self.normal[owner], self.normal[owner[across]]
        tangent = self.points[end] - self.points[start]
        tangent /= np.linalg.norm(tangent, axis=1)[:, None]
        bending = np.arctan2(
            np.einsum("ec,ec->e", np.cross(first, second), tangent),
            np.einsum("ec,ec->e", first, second),
        )
        # every undirected edge appears twice (once per triangle): half to each end each time
        total = np.bincount(start, bending, nodes) + np.bincount(end, bending, nodes)
        return 2 * np.pi - total / 2


def double_layer_matrix(points: np.ndarray, triangles: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The rows `rows` of B (len(rows), N) for the surface of N nodes `points` (N, 3) and
    triangles `triangles` (T, 3) of node indices, each counter-clockwise about the
    outward normal."""
    geometry = TriangleGeometry(points, triangles)
    rows = np.asarray(rows, dtype=np.int64)
    count, nodes = len(geometry.triangles), len(geometry.points)
    # incidence of (corner, triangle) -> node, to sum the corner weights into columns
    incidence = scipy.sparse.csr_matrix(
        (np.ones(3 * count), (np.arange(3 * count), geometry.triangles.T.reshape(-1))),
        shape=(3 * count, nodes),
    ).T.tocsr()

    result = np.empty((len(rows), nodes))
    step = max(1, CHUNK_ENTRIES // max(count, 1))
    every = slice(None)
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        x = geometry.points[chunk][:, None, :]
        weights, solid = geometry.weights(x, chunk[:, None], every)
        block = (incidence @ weights.transpose(0, 2, 1).reshape(3 * count, -1)).T
        block *= -1 / (4 * np.pi)
        block[np.arange(len(chunk)), chunk] += solid.sum(axis=1) / (4 * np.pi) - 1.0
        result[start : start + len(chunk)] = block
    return result


class DoubleLayerBlocks:
    """Entries of the double-layer matrix without the full rows: B[i, j] for j != i is
    -(1/4 pi) times the sum of the weights of the corners at node j of the triangles
    around j, seen from node i; B[i, i] = Omega_i/4 pi - 1, with Omega_i from the
    triangles around node i (`TriangleGeometry.vertex_solid_angles`)."""

    def __init__(self, points: np.ndarray, triangles: np.ndarray):
        self.geometry = TriangleGeometry(points, triangles)
        self.points = self.geometry.points
        self.diagonal = self.geometry.vertex_solid_angles() / (4 * np.pi) - 1.0
        node_corners = self.geometry.node_corners
        self.corner_start = node_corners.indptr
        """node j's corners are corner_list[corner_start[j]:corner_start[j + 1]]"""
        self.corner_list = node_corners.data - 1
        """corners 3 t + k (triangle t, corner k), grouped by node"""

    def incidence(self, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The triangles at the nodes `columns` and, for each (T, 3 corners), the position
        in `columns` of the corner's node (-1: not one of the columns)."""
        incidence = self.geometry.node_corners[columns].tocoo()
        corner = incidence.data - 1
        triangles, slot = np.unique(corner // 3, return_inverse=True)
        positions = np.full((len(triangles), 3), -1, dtype=np.int64)
        positions[slot.ravel(), corner % 3] = incidence.row
        return triangles, positions

    def accumulate(
        self, observers: np.ndarray, triangles: np.ndarray, targets: np.ndarray, size: int
    ) -> np.ndarray:
        """An array of `size` holding, at targets[p, k] (>= 0), the sum of -(1/4 pi) times
        the weight of corner k of triangle triangles[p] seen from node observers[p]."""
        result = np.zeros(size)
        step = CHUNK_PAIRS
        for start in range(0, len(observers), step):
            chunk = slice(start, start + step)
            seen = observers[chunk]
            weights, _ = self.geometry.weights(self.points[seen], seen, triangles[chunk])
            where = targets[chunk].T
            valid = where >= 0
            result += np.bincount(where[valid], weights[valid], minlength=size)
        result *= -1 / (4 * np.pi)
        return result

    def block(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """B[rows, columns] (len(rows), len(columns)), node indices."""
        rows = np.asarray(rows, dtype=np.int64)
        columns = np.asarray(columns, dtype=np.int64)
        triangles, positions = self.incidence(columns)
        valid = positions >= 0  # (triangle slot, corner) -> column
        gather = scipy.sparse.csr_matrix(
            (np.ones(int(valid.sum())), (np.flatnonzero(valid.T.ravel()), positions.T[valid.T])),
            shape=(3 * len(triangles), len(columns)),
        )
        result = np.empty((len(rows), len(columns)))
        step = max(1, CHUNK_ENTRIES // max(len(triangles), 1))
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            x = self.points[chunk][:, None, :]
            weights, _ = self.geometry.weights(x, chunk[:, None], triangles[None, :])
            flat = weights.transpose(1, 0, 2).reshape(len(chunk), -1)  # (rows, 3 T)
            result[start : start + len(chunk)] = (gather.T @ flat.T).T
        result *= -1 / (4 * np.pi)
        same_row, same_column = np.nonzero(rows[:, None] == columns[None, :])
        result[same_row, same_column] += self.diagonal[rows[same_row]]
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
