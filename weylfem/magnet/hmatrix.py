"""A hierarchical matrix (H-matrix): a matrix of point-to-point interactions stored as dense
near-field blocks and low-rank far-field blocks, with memory and matvec cost about N log N.

The points of the rows and of the columns are each ordered by a cluster tree (boxes
bisected along their longest axis down to `leaf_size` points).  A pair of clusters is a
far-field block when min(diam) <= eta dist (bounding-box diameters and distance): the
smooth kernel is then approximated by U V^T, found by adaptive cross approximation (ACA)
with partial pivoting, stopped when the last cross is below `tolerance` times the
Frobenius norm estimate of the approximation, and recompressed by QR and SVD to that
tolerance.  Other pairs are split until one is a leaf, then stored dense.  The dense
blocks of a row cluster are stored side by side, the far-field factors stacked by
cluster, so that a product is a few dense products per cluster.  The entries come from a
function block(rows, columns) -> dense array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(eq=False)
class Cluster:
    """Points permutation[start:stop] of a cluster tree, their bounding box and children."""

    start: int
    stop: int
    low: np.ndarray
    high: np.ndarray
    children: tuple[Cluster, ...] = ()

    @property
    def diameter(self) -> float:
        return float(np.linalg.norm(self.high - self.low))

    def distance(self, other: Cluster) -> float:
        """Distance between the two bounding boxes."""
        gap = np.maximum(0.0, np.maximum(self.low - other.high, other.low - self.high))
        return float(np.linalg.norm(gap))


def cluster_tree(points: np.ndarray, leaf_size: int) -> tuple[np.ndarray, Cluster]:
    """The permutation of the points and the root of their cluster tree: each box with more
    than `leaf_size` points is bisected at the middle of its longest axis."""
    permutation = np.arange(len(points))

    def build(start: int, stop: int) -> Cluster:
        inside = points[permutation[start:stop]]
        low, high = inside.min(axis=0), inside.max(axis=0)
        cluster = Cluster(start, stop, low, high)
        if stop - start <= leaf_size:
            return cluster
        axis = int(np.argmax(high - low))
        order = np.argsort(inside[:, axis], kind="stable")
        permutation[start:stop] = permutation[start:stop][order]
        middle = 0.5 * (low[axis] + high[axis])
        split = start + int(np.searchsorted(inside[order, axis], middle))
        if split in (start, stop):  # all on one side of the middle: halve by count
            split = (start + stop) // 2
        cluster.children = (build(start, split), build(split, stop))
        return cluster

    return permutation, build(0, len(points))


@dataclass
class Partition:
    """The leaves of the block tree: near (dense) and far (low-rank) cluster pairs."""

    near: list[tuple[Cluster, Cluster]]
    far: list[tuple[Cluster, Cluster]]


def block_partition(rows: Cluster, columns: Cluster, eta: float) -> Partition:
    """The admissible (far) and inadmissible leaf (near) blocks of rows x columns."""
    partition = Partition([], [])
    stack = [(rows, columns)]
    while stack:
        row, column = stack.pop()
        distance = row.distance(column)
        if distance > 0 and min(row.diameter, column.diameter) <= eta * distance:
            partition.far.append((row, column))
        elif not row.children or not column.children:
            partition.near.append((row, column))
        else:
            stack.extend((a, b) for a in row.children for b in column.children)
    return partition


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of arange(start, start + length) over the pairs."""
    total = int(lengths.sum())
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total)


class Segments:
    """Consecutive segments of a flat array, of the given (positive) lengths."""

    def __init__(self, lengths: np.ndarray):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.starts = np.cumsum(self.lengths) - self.lengths
        self.owner = np.repeat(np.arange(len(self.lengths)), self.lengths)
        self.size = int(self.lengths.sum())

    def sum(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.starts, axis=-1)

    def argmax(self, values: np.ndarray) -> np.ndarray:
        """Position in its segment of each segment's first largest value."""
        largest = np.maximum.reduceat(values, self.starts)
        index = np.where(values == largest[self.owner], np.arange(self.size), self.size)
        return np.minimum.reduceat(index, self.starts) - self.starts


def recompress(left: np.ndarray, right: np.ndarray, tolerance: float) -> tuple:
    """U V^T truncated to the singular values above `tolerance` times the largest (QR of
    both factors, SVD of the k x k core)."""
    if left.shape[1] == 0:
        return left, right
    q_left, r_left = np.linalg.qr(left)
    q_right, r_right = np.linalg.qr(right)
    u, sigma, vt = np.linalg.svd(r_left @ r_right.T)
    if sigma[0] == 0.0:
        return left[:, :0], right[:, :0]
    keep = int(np.count_nonzero(sigma > tolerance * sigma[0]))
    return q_left @ (u[:, :keep] * sigma[:keep]), q_right @ vt[:keep].T


class Blocks:
    """Cluster-pair blocks of the kernel's matrix: their row nodes and column nodes (flat,
    by block), the triangles at each block's columns, and batched evaluation of rows,
    columns and whole blocks (one kernel call for all blocks at once)."""

    def __init__(self, kernel, pairs: list, row_nodes, row_order, column_order):
        self.kernel = kernel
        rows = [row_order[r.start : r.stop] for r, _ in pairs]
        columns = [column_order[c.start : c.stop] for _, c in pairs]
        self.rows = Segments([len(r) for r in rows])
        self.columns = Segments([len(c) for c in columns])
        self.row_index = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        """the matrix rows of each block, flat"""
        self.row_node = row_nodes[self.row_index]
        self.column_node = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        incidences = [kernel.incidence(c) for c in columns]
        self.sources = Segments([len(t) for t, _ in incidences])
        self.triangles = np.concatenate([t for t, _ in incidences]) if pairs else None
        self.positions = np.concatenate([p for _, p in incidences]) if pairs else None

    def evaluate_rows(self, blocks: np.ndarray, local_rows: np.ndarray) -> np.ndarray:
        """Row local_rows[b] of each block b in `blocks`, flat (by block)."""
        counts = self.sources.lengths[blocks]
        pairs = ranges(self.sources.starts[blocks], counts)
        offsets = np.cumsum(self.columns.lengths[blocks]) - self.columns.lengths[blocks]
        positions = self.positions[pairs]
        targets = np.where(positions >= 0, positions + np.repeat(offsets, counts)[:, None], -1)
        observers = np.repeat(self.row_node[self.rows.starts[blocks] + local_rows], counts)
        size = int(self.columns.lengths[blocks].sum())
        return self.kernel.accumulate(observers, self.triangles[pairs], targets, size)

    def evaluate_columns(self, blocks: np.ndarray, local_columns: np.ndarray) -> np.ndarray:
        """Column local_columns[b] of each block b in `blocks`, flat (by block); the blocks
        hold no diagonal entry (far-field blocks)."""
        kernel = self.kernel
        node = self.column_node[self.columns.starts[blocks] + local_columns]
        corners = kernel.corner_start[node + 1] - kernel.corner_start[node]
        heights = self.rows.lengths[blocks]
        counts = heights * corners
        block_of_pair = np.repeat(np.arange(len(blocks)), counts)
        within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        row = within // corners[block_of_pair]
        corner = kernel.corner_list[
            kernel.corner_start[node][block_of_pair] + within % corners[block_of_pair]
        ]
        observers = self.row_node[self.rows.starts[blocks][block_of_pair] + row]
        offsets = (np.cumsum(heights) - heights)[block_of_pair]
        targets = np.full((len(row), 3), -1, dtype=np.int64)
        targets[np.arange(len(row)), corner % 3] = offsets + row
        return kernel.accumulate(observers, corner // 3, targets, int(heights.sum()))


def batched_cross(blocks: Blocks, tolerance: float, max_rank: int, rng) -> list:
    """ACA with partial pivoting of every block at once (one kernel call per step for all
    blocks still running): per block (U, V) with U V^T its approximation, stopped when the
    last cross is below `tolerance` times the Frobenius norm estimate, or None when its
    rank reached min(max_rank, m n / (m + n)) (dense storage is then about as cheap).
    Convergence also needs one more small cross and the residuals of a random reference
    row and column below the bound (as in Grasedyck's ACA+).  A zero residual row is
    retried at the largest residual entry of a random column, or at a random row; four
    misses in a row end the block."""
    rows, columns = blocks.rows, blocks.columns
    count = len(rows.lengths)
    limit = np.minimum(
        max_rank, (rows.lengths * columns.lengths) // (rows.lengths + columns.lengths)
    )
    limit = np.maximum(limit, 1)
    depth = int(limit.max(initial=1))
    left = np.zeros((depth, rows.size))
    right = np.zeros((depth, columns.size))
    rank = np.zeros(count, dtype=np.int64)
    norm2 = np.zeros(count)
    misses = np.zeros(count, dtype=np.int64)
    unused = np.ones(rows.size, dtype=bool)
    pivot_row = np.zeros(count, dtype=np.int64)
    running = np.ones(count, dtype=bool)
    confirming = np.zeros(count, dtype=bool)
    dense = np.zeros(count, dtype=bool)
    # a random reference row and column of each block (their residuals, updated with each
    # cross, check the convergence where the pivots have not been)
    probe_row = (rng.random(count) * rows.lengths).astype(np.int64)
    probe_column = (rng.random(count) * columns.lengths).astype(np.int64)
    everything = np.arange(count)
    reference_row = blocks.evaluate_rows(everything, probe_row)
    reference_column = blocks.evaluate_columns(everything, probe_column)
    for _ in range(4 * depth + 8):
        active = np.flatnonzero(running)
        if len(active) == 0:
            break
        unused[rows.starts[active] + pivot_row[active]] = False
        step = int(rank[active].max()) + 1
        height, width = rows.lengths[active], columns.lengths[active]
        local = Segments(width)
        column_slots = ranges(columns.starts[active], width)
        coefficient = left[:step, rows.starts[active] + pivot_row[active]]
        residual = blocks.evaluate_rows(active, pivot_row[active])
        residual -= np.sum(np.repeat(coefficient, width, axis=1) * right[:step, column_slots], 0)
        pivot_column = local.argmax(np.abs(residual))
        pivot = residual[local.starts + pivot_column]
        scale = np.sqrt(norm2[active] / (height * width))
        hit = np.abs(pivot) > np.maximum(1e-14 * scale, 1e-300)
        missed = active[~hit]
        if len(missed):
            misses[missed] += 1
            left_over = np.add.reduceat(unused, rows.starts)[missed] if rows.size else 0
            done = (misses[missed] > 3) | (left_over == 0) | confirming[missed]
            running[missed[done]] = False
            retry = missed[~done]
            if len(retry):
                probe = (rng.random(len(retry)) * columns.lengths[retry]).astype(np.int64)
                column = blocks.evaluate_columns(retry, probe)
                column_rows = ranges(rows.starts[retry], rows.lengths[retry])
                probe_slots = columns.starts[retry] + probe
                column -= np.sum(
                    np.repeat(right[:, probe_slots], rows.lengths[retry], axis=1)
                    * left[:, column_rows],
                    0,
                )
                column = np.where(unused[column_rows], np.abs(column), -1.0)
                best = Segments(rows.lengths[retry]).argmax(column)
                value = column[Segments(rows.lengths[retry]).starts + best]
                for b, row_best, found in zip(retry, best, value > 0, strict=True):
                    if found:
                        pivot_row[b] = row_best
                    else:
                        free = np.flatnonzero(
                            unused[rows.starts[b] : rows.starts[b] + rows.lengths[b]]
                        )
                        pivot_row[b] = rng.choice(free)
        good = active[hit]
        if len(good) == 0:
            continue
        misses[good] = 0
        keep = np.repeat(hit, width)
        v = residual[keep] / np.repeat(pivot[hit], width[hit])
        good_width, good_height = width[hit], height[hit]
        v_slots = column_slots[keep]
        u = blocks.evaluate_columns(good, pivot_column[hit])
        u_slots = ranges(rows.starts[good], good_height)
        pivot_slots = columns.starts[good] + pivot_column[hit]
        u -= np.sum(
            np.repeat(right[:step, pivot_slots], good_height, axis=1) * left[:step, u_slots], 0
        )
        u_segments, v_segments = Segments(good_height), Segments(good_width)
        cross2 = u_segments.sum(u * u) * v_segments.sum(v * v)
        overlap = u_segments.sum(left[:step, u_slots] * u) * v_segments.sum(
            right[:step, v_slots] * v
        )
        norm2[good] += cross2 + 2.0 * overlap.sum(axis=0)
        level = rank[good]
        left[np.repeat(level, good_height), u_slots] = u
        right[np.repeat(level, good_width), v_slots] = v
        rank[good] += 1
        # the residuals of the reference row and column
        reference_column[u_slots] -= u * np.repeat(
            v[v_segments.starts + probe_column[good]], good_height
        )
        reference_row[v_slots] -= np.repeat(u[u_segments.starts + probe_row[good]], good_width) * v
        column_error = u_segments.sum(reference_column[u_slots] ** 2) * good_width
        row_error = v_segments.sum(reference_row[v_slots] ** 2) * good_height
        bound = tolerance**2 * norm2[good]
        small = cross2 <= bound
        checked = (column_error <= bound) & (row_error <= bound)
        confirmed = small & confirming[good]
        converged = confirmed & checked
        full = ~converged & (rank[good] >= limit[good])
        running[good[converged | full]] = False
        dense[good[full]] = True
        confirming[good] = small
        # next row: the largest entry of the new column; to confirm convergence, the row
        # the crosses so far know least about (the smallest row of U: where the kernel has
        # zero sub-blocks, such as a flat face seen from itself, the largest entries stay
        # in the rows of one face and miss the others'); once confirmed, where the reference
        # column or row still has a residual above the bound, the largest entry of the
        # reference column's residual, or the reference row
        magnitude = np.abs(u)
        leverage = np.sum(left[: step + 1, u_slots] ** 2, axis=0)
        confirm = np.repeat(small, good_height)
        magnitude[confirm] = -leverage[confirm]
        from_column = confirmed & ~checked & (column_error >= row_error)
        magnitude = np.where(
            np.repeat(from_column, good_height), np.abs(reference_column[u_slots]), magnitude
        )
        candidates = np.where(unused[u_slots], magnitude, -np.inf)
        following = u_segments.argmax(candidates)
        exhausted = candidates[u_segments.starts + following] == -np.inf
        from_row = confirmed & ~checked & ~from_column
        from_row &= unused[rows.starts[good] + probe_row[good]]
        following[from_row] = probe_row[good][from_row]
        exhausted[from_row] = False
        running[good[exhausted]] = False
        pivot_row[good] = following
    result = []
    for b in range(count):
        if dense[b] or running[b]:
            result.append(None)
            continue
        u = left[: rank[b], rows.starts[b] : rows.starts[b] + rows.lengths[b]].T
        v = right[: rank[b], columns.starts[b] : columns.starts[b] + columns.lengths[b]].T
        result.append((u, v))
    return result


class HMatrix:
    """The H-matrix of the double-layer matrix's rows `row_nodes` (all columns) of the
    kernel `kernel` (`weylfem.magnet.double_layer.DoubleLayerBlocks`): its near field
    dense blocks grouped by row cluster, its far field the factors `left` (rows x ranks)
    and `right` (ranks x columns) grouped by cluster.  Admissible blocks with fewer than
    `min_far_size` rows or columns are stored dense (ACA would evaluate more entries than
    they hold); ranks beyond `max_rank` or m n / (m + n) store the block dense as well."""

    def __init__(
        self,
        kernel,
        row_nodes: np.ndarray,
        *,
        tolerance: float = 1e-5,
        leaf_size: int = 48,
        eta: float = 1.5,
        max_rank: int = 48,
        min_far_size: int = 64,
        batch: int = 4000,
        seed: int = 0,
    ):
        points = kernel.points
        row_nodes = np.asarray(row_nodes, dtype=np.int64)
        self.shape = (len(row_nodes), len(points))
        self.tolerance = tolerance
        row_order, row_root = cluster_tree(points[row_nodes], leaf_size)
        column_order, column_root = cluster_tree(points, leaf_size)
        partition = block_partition(row_root, column_root, eta)
        rng = np.random.default_rng(seed)

        small = [
            (row, column)
            for row, column in partition.far
            if min(row.stop - row.start, column.stop - column.start) < min_far_size
        ]
        far = [
            (row, column)
            for row, column in partition.far
            if min(row.stop - row.start, column.stop - column.start) >= min_far_size
        ]
        dense = list(partition.near) + small
        factors: list[tuple[Cluster, Cluster, np.ndarray, np.ndarray]] = []
        for start in range(0, len(far), batch):
            pairs = far[start : start + batch]
            blocks = Blocks(kernel, pairs, row_nodes, row_order, column_order)
            for pair, found in zip(
                pairs, batched_cross(blocks, tolerance, max_rank, rng), strict=True
            ):
                if found is None:
                    dense.append(pair)
                    continue
                left, right = recompress(*found, tolerance)
                if left.shape[1] > 0:
                    factors.append((*pair, left, right))
        self.far_blocks = len(factors)
        self.near_blocks = len(dense)
        self.ranks = [left.shape[1] for _, _, left, _ in factors]

        def indices(order: np.ndarray, cluster: Cluster) -> np.ndarray:
            return order[cluster.start : cluster.stop]

        # near field: per row cluster, its dense blocks side by side (one evaluation each)
        self.near: list[Group] = []
        for row_cluster, column_clusters in _grouped(dense, 0).items():
            rows = indices(row_order, row_cluster)
            columns = np.concatenate([indices(column_order, c) for _, c in column_clusters])
            self.near.append(Group(rows, columns, kernel.block(row_nodes[rows], columns)))
        # far field: the V^T of the blocks of each column cluster stacked (their ranks'
        # slots consecutive), the U of the blocks of each row cluster side by side
        self.right: list[Group] = []
        slots: dict[int, np.ndarray] = {}
        rank_offset = 0
        for column_cluster, blocks in _grouped(factors, 1).items():
            ranks = [block[3].shape[1] for block in blocks]
            first = rank_offset
            for block, rank in zip(blocks, ranks, strict=True):
                slots[id(block[2])] = np.arange(rank_offset, rank_offset + rank)
                rank_offset += rank
            stacked = np.vstack([block[3].T for block in blocks])
            self.right.append(
                Group(slice(first, rank_offset), indices(column_order, column_cluster), stacked)
            )
        self.left: list[Group] = []
        for row_cluster, blocks in _grouped(factors, 0).items():
            columns = np.concatenate([slots[id(block[2])] for block in blocks])
            stacked = np.hstack([block[2] for block in blocks])
            self.left.append(Group(indices(row_order, row_cluster), columns, stacked))
        self.total_rank = rank_offset

    @property
    def nbytes(self) -> int:
        """Memory of the dense blocks and factors and of their index arrays."""
        return sum(group.nbytes for group in (*self.near, *self.left, *self.right))

    def __matmul__(self, vector: np.ndarray) -> np.ndarray:
        crosses = np.empty(self.total_rank)
        for group in self.right:
            crosses[group.rows] = group.values @ vector[group.columns]
        result = np.zeros(self.shape[0])
        for group in self.near:
            result[group.rows] += group.values @ vector[group.columns]
        for group in self.left:
            result[group.rows] += group.values @ crosses[group.columns]
        return result


@dataclass
class Group:
    """Dense values (len(rows), len(columns)) added into the rows `rows` of a product from
    the entries `columns` of the vector (index arrays, or a slice of rows)."""

    rows: np.ndarray | slice
    columns: np.ndarray
    values: np.ndarray

    @property
    def nbytes(self) -> int:
        rows = self.rows.nbytes if isinstance(self.rows, np.ndarray) else 0
        return self.values.nbytes + self.columns.nbytes + rows


def _grouped(blocks: list[tuple], key: int) -> dict[Cluster, list]:
    """The blocks (tuples of clusters first) by their cluster at position `key` (0: row,
    1: column), in order of first appearance."""
    groups: dict[Cluster, list] = {}
    for block in blocks:
        groups.setdefault(block[key], []).append(block)
    return groups
