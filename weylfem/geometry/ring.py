"""Corbino ring: an annulus with contacts on its inner and outer circles."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from weylfem.geometry.base import Geometry, add_physical_groups, boundary_of
from weylfem.schema import check, non_negative, positive


@dataclass(frozen=True, kw_only=True)
class RingGeometry(Geometry):
    """An annulus centred at the origin in the xy plane, `inner_radius` <= r <=
    `outer_radius`, extruded along z by `thickness` in 3D.

    Its Corbino resistance is R = ln(outer_radius/inner_radius) / (2 pi sigma thickness).
    With `notch_depth` > 0 a rectangular notch, `notch_width` wide along y, is cut from
    the outer edge at +x down to x = outer_radius - notch_depth.  Physical groups:
    region ``channel``; boundaries ``inner`` and ``outer`` (the whole inner and outer
    circles, less the notch) and ``walls`` (the flat top and bottom faces in 3D, the
    notch faces); a 2D ring without a notch has no walls.
    """

    kind: Literal["ring"] = "ring"
    inner_radius: float = check(positive, default=1.0)
    outer_radius: float = check(positive, default=3.0)
    thickness: float = check(positive, default=0.5)
    notch_depth: float = check(non_negative, default=0.0)
    """depth along x of the notch at the outer edge (0: no notch)"""
    notch_width: float = check(positive, default=0.5)

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks (yields key, message)."""
        yield from super().validate()
        r1, r2, depth = self.inner_radius, self.outer_radius, self.notch_depth
        if r1 >= r2:
            yield "inner_radius", f"expected less than outer_radius ({r2})"
        elif depth >= r2 - r1:
            yield "notch_depth", f"expected less than outer_radius - inner_radius ({r2 - r1})"
        elif depth > 0:
            sagitta = r2 - math.sqrt(max(r2**2 - self.notch_width**2 / 4, 0.0))
            if depth <= sagitta:
                expected = "expected more than the depth of the outer arc over notch_width"
                yield "notch_depth", f"{expected} ({sagitta}), so that the notch has side walls"

    def cell_groups(self) -> tuple[str, ...]:
        """Names of the region groups this geometry creates."""
        return ("channel",)

    def facet_groups(self) -> tuple[str, ...]:
        """Names of the boundary groups this geometry creates."""
        if self.dimension == 2 and self.notch_depth == 0:
            return ("inner", "outer")
        return ("inner", "outer", "walls")

    def add_to_gmsh(self, gmsh) -> None:
        """Create the OCC geometry and its physical groups in the current gmsh model."""
        occ, dim = gmsh.model.occ, self.dimension
        r1, r2 = self.inner_radius, self.outer_radius
        holes = [(2, occ.addDisk(0, 0, 0, r1, r1))]
        if self.notch_depth > 0:
            x0, w = r2 - self.notch_depth, self.notch_width
            holes.append((2, occ.addRectangle(x0, -w / 2, 0, 2 * self.notch_depth, w)))
        section, _ = occ.cut([(2, occ.addDisk(0, 0, 0, r2, r2))], holes)
        if dim == 3:
            occ.extrude(section, 0, 0, self.thickness)
        occ.synchronize()
        bodies = [tag for _, tag in gmsh.model.getEntities(dim)]
        facets: dict[str, list[int]] = {name: [] for name in self.facet_groups()}
        radii = {"inner": r1, "outer": r2}
        for tag in boundary_of(gmsh, dim, bodies):
            name = next((n for n, r in radii.items() if on_circle(gmsh, dim - 1, tag, r)), "walls")
            facets[name].append(tag)
        add_physical_groups(gmsh, dim, {"channel": bodies})
        add_physical_groups(gmsh, dim - 1, facets)


def on_circle(gmsh, dim: int, tag: int, radius: float) -> bool:
    """Whether a model entity lies on the circle (curve) or cylinder (surface) of `radius`
    about the z axis, judged at a grid of points of its parametrization."""
    low, high = gmsh.model.getParametrizationBounds(dim, tag)
    axes = [np.linspace(lo, hi, 5) for lo, hi in zip(low, high, strict=True)]
    params = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).ravel()
    xyz = np.reshape(gmsh.model.getValue(dim, tag, params), (-1, 3))
    return bool(np.allclose(np.hypot(xyz[:, 0], xyz[:, 1]), radius, rtol=0, atol=1e-7 * radius))
