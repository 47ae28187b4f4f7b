"""Two-terminal bar: a rectangle (2D) or box (3D) with a contact on each end face."""

from __future__ import annotations

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
class BarGeometry(Geometry):
    """A bar along x from 0 to `length`, `width` along y, `thickness` along z (3D).

    Contacts cover a centred patch of each end face, `contact_width` wide along y
    (default: the whole face).  Physical groups: region ``channel``; boundaries
    ``source`` (x = 0), ``drain`` (x = length) and ``walls`` (the rest).  With
    `film_faces`, the walls are split so that a film's two faces can differ (one
    relaxing valley, say): ``bottom`` and ``top`` are the faces normal to the last axis
    (y = 0 and y = width in 2D, z = 0 and z = thickness in 3D) and ``walls`` the rest (the
    faces y = 0 and y = width in 3D; the end faces beside narrower contacts).
    """

    kind: Literal["bar"] = "bar"
    length: float = check(positive, default=10.0)
    width: float = check(positive, default=2.0)
    thickness: float = check(positive, default=0.5)
    contact_width: float | None = check(positive, default=None)
    film_faces: bool = False

    def validate(self):
        """Cross-field checks (yields key, message)."""
        yield from super().validate()
        dims = [self.length, self.width] + ([self.thickness] if self.dimension == 3 else [])
        if self.mesh_size > min(dims):
            yield "mesh_size", f"expected at most the smallest bar dimension ({min(dims)})"
        if self.contact_width is not None and self.contact_width > self.width:
            yield "contact_width", f"expected at most the width ({self.width})"

    def cell_groups(self) -> tuple[str, ...]:
        """Names of the region groups this geometry creates."""
        return ("channel",)

    def facet_groups(self) -> tuple[str, ...]:
        """Names of the boundary groups this geometry creates."""
        if not self.film_faces:
            return ("source", "drain", "walls")
        return ("source", "drain", "bottom", "top") + (("walls",) if self._side_walls else ())

    @property
    def _side_walls(self) -> bool:
        """Whether film faces leave other walls: the y faces in 3D, or the parts of the end
        faces beside narrower contacts."""
        partial = self.contact_width is not None and self.contact_width < self.width
        return self.dimension == 3 or partial

    def cross_section(self) -> float:
        """Area (3D) or width (2D) normal to the bar axis, in length_unit**(dimension-1)."""
        return self.width * self.thickness if self.dimension == 3 else self.width

    def contact_area(self) -> float:
        """Area (3D) or length (2D) of one contact, in length_unit**(dimension-1)."""
        width = self.width if self.contact_width is None else self.contact_width
        return width * self.thickness if self.dimension == 3 else width

    def add_to_gmsh(self, gmsh) -> None:
        """Create the OCC geometry and its physical groups in the current gmsh model."""
        occ, dim = gmsh.model.occ, self.dimension
        body = add_block(occ, dim, 0, 0, self.length, self.width, self.thickness)
        if self.contact_width is not None and self.contact_width < self.width:
            low = (self.width - self.contact_width) / 2
            high = low + self.contact_width
            across = (0, 0, self.thickness)
            cuts = [
                add_patch(occ, dim, (x, low, 0), (x, high, 0), across) for x in (0, self.length)
            ]
            occ.fragment([(dim, body)], [(dim - 1, c) for c in cuts])
        occ.synchronize()
        bodies = [t for _, t in gmsh.model.getEntities(dim)]
        tol = 1e-7 * self.length
        half = (self.width if self.contact_width is None else self.contact_width) / 2

        def on_end(x_end):
            return lambda c: near(c[0], x_end, tol) and abs(c[1] - self.width / 2) < half + tol

        rules = [("source", on_end(0.0)), ("drain", on_end(self.length))]
        if self.film_faces:
            axis, extent = (1, self.width) if dim == 2 else (2, self.thickness)
            rules += [
                ("bottom", lambda c: near(c[axis], 0.0, tol)),
                ("top", lambda c: near(c[axis], extent, tol)),
            ]
        default = "walls" if self._side_walls or not self.film_faces else None
        facets = classify(gmsh, dim - 1, boundary_of(gmsh, dim, bodies), rules, default=default)
        add_physical_groups(gmsh, dim, {"channel": bodies})
        add_physical_groups(gmsh, dim - 1, facets)
