"""Nonlocal strip: a long strip with an injector pair and detector pairs on its edges.

The device of nonlocal chiral-anomaly experiments (Zhang et al., Nat. Commun. 8, 13741
(2017)): current is injected across the strip at one place and the voltage across it
is read at given distances along it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from weylfem.geometry.base import (
    Geometry,
    add_block,
    add_patch,
    add_physical_groups,
    boundary_of,
    classify,
    near,
)
from weylfem.schema import check, positive


@dataclass(frozen=True, kw_only=True)
class NonlocalStripGeometry(Geometry):
    """A strip along x from 0 to `length`, `width` along y, `thickness` along z (3D).

    Contact pairs are patches `contact_length` long (along x; the full thickness in 3D)
    on the y = 0 and y = width faces, centred at x = `injector_position` (the injector)
    and at x = `injector_position + d` for each d in `detector_distances` (detector 1,
    2, ...).  Physical groups: region ``channel``; boundaries ``injector_bottom``,
    ``injector_top``, ``detector_i_bottom``, ``detector_i_top`` and ``walls`` (the rest,
    including both strip ends).
    """

    kind: Literal["nonlocal_strip"] = "nonlocal_strip"
    length: float = check(positive, default=20.0)
    width: float = check(positive, default=1.0)
    thickness: float = check(positive, default=0.5)
    injector_position: float = check(positive, default=2.0)
    """injector centre along x"""
    detector_distances: tuple[float, ...] = (4.0, 8.0, 12.0)
    """detector centres along x, measured from the injector centre"""
    contact_length: float = check(positive, default=0.5)

    def pairs(self) -> dict[str, float]:
        """Centre along x of every contact pair, by name prefix (injector, detector_i)."""
        centres = {"injector": self.injector_position}
        for i, distance in enumerate(self.detector_distances, start=1):
            centres[f"detector_{i}"] = self.injector_position + distance
        return centres

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks (yields key, message)."""
        yield from super().validate()
        size = self.contact_length
        lo, hi = size / 2, self.length - size / 2
        inside = f"inside the strip: centres between {lo} and {hi}"
        ordered = sorted(self.pairs().values())
        if not lo <= self.injector_position <= hi:
            yield "injector_position", f"expected the injector {inside}"
        elif not all(lo <= x <= hi for x in ordered):
            yield "detector_distances", f"expected every detector {inside}"
        elif any(b - a <= size for a, b in zip(ordered, ordered[1:], strict=False)):
            apart = f"more than contact_length ({size}) apart"
            yield "detector_distances", f"expected contact centres (injector included) {apart}"

    def cell_groups(self) -> tuple[str, ...]:
        """Names of the region groups this geometry creates."""
        return ("channel",)

    def facet_groups(self) -> tuple[str, ...]:
        """Names of the boundary groups this geometry creates."""
        names = [f"{pair}_{side}" for pair in self.pairs() for side in ("bottom", "top")]
        return (*names, "walls")

    def add_to_gmsh(self, gmsh) -> None:
        """Create the OCC geometry and its physical groups in the current gmsh model."""
        occ, dim = gmsh.model.occ, self.dimension
        t, half = self.thickness, self.contact_length / 2
        body = add_block(occ, dim, 0, 0, self.length, self.width, t)
        patches = [
            add_patch(occ, dim, (x - half, y, 0), (x + half, y, 0), (0, 0, t))
            for x in self.pairs().values()
            for y in (0.0, self.width)
        ]
        occ.fragment([(dim, body)], [(dim - 1, p) for p in patches])
        occ.synchronize()
        bodies = [tag for _, tag in gmsh.model.getEntities(dim)]
        tol = 1e-7 * self.length

        def patch(x: float, y: float):
            return lambda c: near(c[1], y, tol) and abs(c[0] - x) < half

        rules = [
            (f"{pair}_{side}", patch(x, y))
            for pair, x in self.pairs().items()
            for side, y in (("bottom", 0.0), ("top", self.width))
        ]
        facets = classify(gmsh, dim - 1, boundary_of(gmsh, dim, bodies), rules, default="walls")
        add_physical_groups(gmsh, dim, {"channel": bodies})
        add_physical_groups(gmsh, dim - 1, facets)
