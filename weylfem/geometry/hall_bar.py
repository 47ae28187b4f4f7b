"""Hall bar: a bar with pairs of side arms ending in voltage probes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from weylfem.geometry.base import (
    Geometry,
    add_block,
    add_physical_groups,
    boundary_of,
    classify,
    near,
)
from weylfem.schema import check, positive


@dataclass(frozen=True, kw_only=True)
class HallBarGeometry(Geometry):
    """A bar along x from 0 to `length`, `width` along y, `thickness` along z (3D), with
    `probe_pairs` pairs of arms `arm_width` wide (along x) and `arm_length` long (along y),
    one below the bar (y < 0) and one above it (y > width) per pair.

    Pair i is centred at x = `probe_positions[i - 1]`, by default evenly spread:
    x = i * length / (probe_pairs + 1).  Physical groups: region ``channel`` (bar and
    arms); boundaries ``source`` (x = 0), ``drain`` (x = length), ``probe_i_bottom`` and
    ``probe_i_top`` (the outer end faces of the arms of pair i) and ``walls`` (the rest).
    """

    kind: Literal["hall_bar"] = "hall_bar"
    length: float = check(positive, default=10.0)
    width: float = check(positive, default=2.0)
    thickness: float = check(positive, default=0.5)
    probe_pairs: int = check(positive, default=2)
    probe_positions: tuple[float, ...] | None = None
    """arm centres along x (default: evenly spread)"""
    arm_width: float = check(positive, default=0.5)
    arm_length: float = check(positive, default=1.0)

    def positions(self) -> tuple[float, ...]:
        """Centres of the probe pairs along x, in length_unit."""
        if self.probe_positions is not None:
            return self.probe_positions
        step = self.length / (self.probe_pairs + 1)
        return tuple(i * step for i in range(1, self.probe_pairs + 1))

    def probe_names(self) -> tuple[str, ...]:
        """Names of the probe contacts, pair by pair, bottom before top."""
        return tuple(
            f"probe_{i}_{side}"
            for i in range(1, self.probe_pairs + 1)
            for side in ("bottom", "top")
        )

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks (yields key, message)."""
        yield from super().validate()
        given = self.probe_positions is not None
        if given and len(self.probe_positions) != self.probe_pairs:
            count = len(self.probe_positions)
            yield "probe_positions", f"expected {self.probe_pairs} positions, got {count}"
            return
        key = "probe_positions" if given else "arm_width"
        lo, hi = self.arm_width / 2, self.length - self.arm_width / 2
        if not all(lo < x < hi for x in self.positions()):
            yield key, f"expected every arm inside the bar: centres strictly between {lo} and {hi}"
        ordered = sorted(self.positions())
        if any(b - a <= self.arm_width for a, b in zip(ordered, ordered[1:], strict=False)):
            yield key, f"expected arms apart: centres more than arm_width ({self.arm_width}) apart"

    def cell_groups(self) -> tuple[str, ...]:
        """Names of the region groups this geometry creates."""
        return ("channel",)

    def facet_groups(self) -> tuple[str, ...]:
        """Names of the boundary groups this geometry creates."""
        return ("source", "drain", *self.probe_names(), "walls")

    def add_to_gmsh(self, gmsh) -> None:
        """Create the OCC geometry and its physical groups in the current gmsh model."""
        occ, dim = gmsh.model.occ, self.dimension
        t, w, a = self.thickness, self.arm_width, self.arm_length

        def block(x: float, y: float, dx: float, dy: float) -> tuple[int, int]:
            return (dim, add_block(occ, dim, x, y, dx, dy, t))

        bar = block(0, 0, self.length, self.width)
        arms = [block(x - w / 2, y, w, a) for x in self.positions() for y in (-a, self.width)]
        occ.fuse([bar], arms)
        occ.synchronize()
        bodies = [tag for _, tag in gmsh.model.getEntities(dim)]
        tol = 1e-7 * max(self.length, self.width + 2 * a)

        def probe(x: float, y: float):
            return lambda c: near(c[1], y, tol) and abs(c[0] - x) < w / 2

        rules = [
            ("source", lambda c: near(c[0], 0.0, tol)),
            ("drain", lambda c: near(c[0], self.length, tol)),
        ]
        for i, x in enumerate(self.positions(), start=1):
            rules.append((f"probe_{i}_bottom", probe(x, -a)))
            rules.append((f"probe_{i}_top", probe(x, self.width + a)))
        facets = classify(gmsh, dim - 1, boundary_of(gmsh, dim, bodies), rules, default="walls")
        add_physical_groups(gmsh, dim, {"channel": bodies})
        add_physical_groups(gmsh, dim - 1, facets)
