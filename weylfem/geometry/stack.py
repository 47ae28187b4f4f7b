"""Film on a substrate: two regions sharing one conforming interface."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from weylfem.geometry.base import (
    Geometry,
    add_patch,
    add_physical_groups,
    boundary_of,
    classify,
    near,
)
from weylfem.schema import check, positive


@dataclass(frozen=True, kw_only=True)
class StackGeometry(Geometry):
    """A film `film_thickness` thick on a substrate `substrate_thickness` thick, both
    `length` long along x.

    The layers are stacked along the last axis: z in 3D (both `width` wide along y,
    substrate 0 <= z <= substrate_thickness, film above), y in 2D (`width` unused).
    Contacts are on the film only: ``contacts = "ends"`` makes them the film's end faces
    (x = 0 and x = length); ``contacts = "top"`` makes them patches `contact_length`
    long (along x, the full width in 3D) at both ends of the film's top face.
    Physical groups: regions ``film`` and ``substrate``; boundaries ``source`` (at
    x = 0), ``drain`` (at x = length), the internal interface ``interface`` (the shared
    face) and ``walls`` (the rest).
    """

    kind: Literal["stack"] = "stack"
    length: float = check(positive, default=10.0)
    width: float = check(positive, default=2.0)
    film_thickness: float = check(positive, default=0.2)
    substrate_thickness: float = check(positive, default=0.5)
    contacts: Literal["ends", "top"] = "ends"
    contact_length: float | None = check(positive, default=None)
    """length of the top contacts along x (contacts = "top" only)"""

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks (yields key, message)."""
        yield from super().validate()
        if self.contacts == "ends" and self.contact_length is not None:
            yield "contact_length", "expected no contact_length with contacts = 'ends'"
        elif self.contacts == "top" and self.contact_length is None:
            yield "contact_length", "expected a number with contacts = 'top'"
        elif self.contacts == "top" and 2 * self.contact_length >= self.length:
            yield "contact_length", f"expected less than length/2 ({self.length / 2})"

    def cell_groups(self) -> tuple[str, ...]:
        """Names of the region groups this geometry creates."""
        return ("film", "substrate")

    def facet_groups(self) -> tuple[str, ...]:
        """Names of the boundary and interface groups this geometry creates."""
        return ("source", "drain", "interface", "walls")

    def add_to_gmsh(self, gmsh) -> None:
        """Create the OCC geometry and its physical groups in the current gmsh model."""
        occ, dim = gmsh.model.occ, self.dimension
        length, width = self.length, self.width
        bottom, top = self.substrate_thickness, self.substrate_thickness + self.film_thickness
        if dim == 3:
            substrate = occ.addBox(0, 0, 0, length, width, bottom)
            film = occ.addBox(0, 0, bottom, length, width, self.film_thickness)
        else:
            substrate = occ.addRectangle(0, 0, 0, length, bottom)
            film = occ.addRectangle(0, bottom, 0, length, self.film_thickness)
        patches = []
        if self.contacts == "top":
            for x0, x1 in ((0.0, self.contact_length), (length - self.contact_length, length)):
                # the top face is z = top in 3D and y = top in 2D
                start, end = (
                    ((x0, 0, top), (x1, 0, top)) if dim == 3 else ((x0, top, 0), (x1, top, 0))
                )
                patches.append(add_patch(occ, dim, start, end, (0, width, 0)))
        _, children = occ.fragment([(dim, film), (dim, substrate)], [(dim - 1, p) for p in patches])
        occ.synchronize()
        films = [tag for _, tag in children[0]]
        substrates = [tag for _, tag in children[1]]
        tol = 1e-7 * max(length, top)
        axis = dim - 1  # the stacking coordinate

        def contact(x_end: float):
            if self.contacts == "ends":
                return lambda c: near(c[0], x_end, tol) and c[axis] > bottom
            return lambda c: near(c[axis], top, tol) and abs(c[0] - x_end) < self.contact_length

        rules = [("source", contact(0.0)), ("drain", contact(length))]
        outer = boundary_of(gmsh, dim, films + substrates)  # without the shared face
        facets = classify(gmsh, dim - 1, outer, rules, default="walls")
        facets["interface"] = sorted(
            set(boundary_of(gmsh, dim, films)) & set(boundary_of(gmsh, dim, substrates))
        )
        add_physical_groups(gmsh, dim, {"film": films, "substrate": substrates})
        add_physical_groups(gmsh, dim - 1, {name: facets[name] for name in self.facet_groups()})
