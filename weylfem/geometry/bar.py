"""Two-terminal bar: a rectangle (2D) or box (3D) with a contact on each end face."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from weylfem.geometry.units import LengthUnit
from weylfem.schema import check, positive


@dataclass(frozen=True)
class BarGeometry:
    """A bar along x from 0 to `length`; lengths are in `length_unit`.

    Physical groups: region ``channel``; facets ``source`` (x = 0), ``drain``
    (x = length) and ``walls`` (every other boundary facet).
    """

    kind: Literal["bar"] = "bar"
    dimension: Literal[2, 3] = 3
    length: float = check(positive, default=10.0)
    width: float = check(positive, default=2.0)
    thickness: float = check(positive, default=0.5)
    mesh_size: float = check(positive, default=0.5)
    length_unit: LengthUnit = "um"

    def validate(self):
        """Cross-field checks (yields key, message)."""
        smallest = min(
            self.length, self.width, self.thickness if self.dimension == 3 else self.width
        )
        if self.mesh_size > smallest:
            yield "mesh_size", f"expected at most the smallest bar dimension ({smallest})"

    def cell_groups(self) -> tuple[str, ...]:
        """Names of the region groups this geometry creates."""
        return ("channel",)

    def facet_groups(self) -> tuple[str, ...]:
        """Names of the boundary groups this geometry creates."""
        return ("source", "drain", "walls")

    def cross_section(self) -> float:
        """Area (3D) or width (2D) normal to the bar axis, in length_unit**(dimension-1)."""
        return self.width * self.thickness if self.dimension == 3 else self.width

    def add_to_gmsh(self, gmsh) -> None:
        """Create the OCC geometry and its physical groups in the current gmsh model."""
        occ = gmsh.model.occ
        if self.dimension == 3:
            body = occ.addBox(0, 0, 0, self.length, self.width, self.thickness)
        else:
            body = occ.addRectangle(0, 0, 0, self.length, self.width)
        occ.synchronize()
        dim = self.dimension
        source, drain, walls = [], [], []
        tolerance = 1e-6 * self.length
        for _, tag in gmsh.model.getBoundary([(dim, body)], oriented=False):
            x = gmsh.model.occ.getCenterOfMass(dim - 1, tag)[0]
            if abs(x) < tolerance:
                source.append(tag)
            elif abs(x - self.length) < tolerance:
                drain.append(tag)
            else:
                walls.append(tag)
        gmsh.model.addPhysicalGroup(dim, [body], 1, name="channel")
        gmsh.model.addPhysicalGroup(dim - 1, source, 1, name="source")
        gmsh.model.addPhysicalGroup(dim - 1, drain, 2, name="drain")
        gmsh.model.addPhysicalGroup(dim - 1, walls, 3, name="walls")
        gmsh.option.setNumber("Mesh.CharacteristicLengthMax", self.mesh_size)
