"""What every geometry builder shares: mesh size, units, refinement, physical groups.

A builder is a frozen dataclass deriving from `Geometry` with a `kind` literal and its
own dimensions (in `length_unit`).  It implements `cell_groups()`, `facet_groups()` and
`add_to_gmsh(gmsh)`, which creates the OCC geometry and its named physical groups in
the current gmsh model (on rank 0 only).  Meshing, sizes and distribution are common
(`weylfem.geometry.mesh`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from weylfem.geometry.units import LengthUnit
from weylfem.schema import check, non_negative, positive

Point = tuple[float, float, float]


@dataclass(frozen=True)
class Refinement:
    """Elements of `size` within `distance` of the named groups, growing to the global
    mesh size over a further `transition` (gmsh Distance + Threshold fields).  Lengths
    are in the geometry's `length_unit`; a region group refines the whole region."""

    groups: tuple[str, ...]
    size: float = check(positive)
    distance: float = check(non_negative, default=0.0)
    transition: float = check(non_negative, default=0.0)


@dataclass(frozen=True, kw_only=True)
class Geometry:
    """Fields common to every builder."""

    dimension: Literal[2, 3] = 3
    mesh_size: float = check(positive, default=0.5)
    """largest element edge, in length_unit"""
    length_unit: LengthUnit = "um"
    depth: float | None = check(positive, default=None)
    """2D only: the device's extent along z, in length_unit; currents, resistances, powers
    and energies are then those of the real device (None: per metre of depth)"""
    refine: tuple[Refinement, ...] = ()
    """explicit refinements toward named groups"""
    resolve_valley_layers: bool = False
    """refine toward valley-relaxing boundaries so that 5+ elements span one lambda_v"""
    resolve_exchange_length: bool = False
    """elements no larger than the exchange length in magnetic regions"""
    mesh_algorithm: Literal["auto", "hxt", "delaunay"] = "auto"
    """3D mesher: gmsh's Delaunay with Netgen's optimiser (about 1.5e3 vertices per second,
    fewer slivers in thin layers, near-symmetric meshes of symmetric devices), gmsh's HXT
    (about 4e4 vertices per second), or auto: HXT when the bounding box's volume /
    mesh_size^3 (about the vertex count of a box without refinements) exceeds 1e5"""

    def cell_groups(self) -> tuple[str, ...]:
        """Names of the region groups this geometry creates."""
        raise NotImplementedError

    def facet_groups(self) -> tuple[str, ...]:
        """Names of the boundary and interface groups this geometry creates."""
        raise NotImplementedError

    def add_to_gmsh(self, gmsh) -> None:
        """Create the OCC geometry and its physical groups in the current gmsh model."""
        raise NotImplementedError

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks: yields (key, expected)."""
        if self.depth is not None and self.dimension != 2:
            yield "depth", "expected no value unless dimension = 2 (a 3D device has its own)"
        groups = set(self.cell_groups()) | set(self.facet_groups())
        for i, refinement in enumerate(self.refine):
            for name in refinement.groups:
                if name not in groups:
                    yield (
                        f"refine[{i}].groups",
                        f"expected names of mesh groups ({', '.join(sorted(groups))}), "
                        f"got {name!r}",
                    )


def center_of(gmsh, dim: int, tag: int) -> Point:
    """Centre of mass of a gmsh OCC entity."""
    return tuple(gmsh.model.occ.getCenterOfMass(dim, tag))


def classify(
    gmsh,
    dim: int,
    tags: Iterable[int],
    rules: Sequence[tuple[str, Callable[[Point], bool]]],
    default: str | None,
) -> dict[str, list[int]]:
    """Sort entities into named groups by the first rule their centre of mass satisfies."""
    groups: dict[str, list[int]] = {name: [] for name, _ in rules}
    if default is not None:
        groups.setdefault(default, [])
    for tag in tags:
        center = center_of(gmsh, dim, tag)
        name = next((name for name, rule in rules if rule(center)), default)
        if name is not None:
            groups[name].append(tag)
    return groups


def add_physical_groups(gmsh, dim: int, groups: Mapping[str, Sequence[int]]) -> None:
    """Name groups of dimension `dim`, numbered 1, 2, ... in order; empty groups raise."""
    for number, (name, tags) in enumerate(groups.items(), start=1):
        if not tags:
            raise RuntimeError(f"geometry builder made no entities for group {name!r}")
        gmsh.model.addPhysicalGroup(dim, sorted(set(tags)), number, name=name)


def boundary_of(gmsh, dim: int, tags: Iterable[int]) -> list[int]:
    """Tags of the (dim-1)-entities on the boundary of the given dim-entities."""
    pairs = gmsh.model.getBoundary([(dim, t) for t in tags], combined=True, oriented=False)
    return [abs(t) for _, t in pairs]


def near(a: float, b: float, tolerance: float) -> bool:
    """|a - b| <= tolerance."""
    return abs(a - b) <= tolerance


def add_block(occ, dim: int, x: float, y: float, dx: float, dy: float, thickness: float) -> int:
    """The rectangle [x, x+dx] x [y, y+dy] of the xy plane (2D), or that rectangle
    extruded along z by `thickness` into a box (3D); returns its tag."""
    if dim == 3:
        return occ.addBox(x, y, 0, dx, dy, thickness)
    return occ.addRectangle(x, y, 0, dx, dy)


def add_patch(occ, dim: int, start: Point, end: Point, across: Point) -> int:
    """A contact patch to imprint on a face with `occ.fragment`: the segment from `start`
    to `end` (2D), or the rectangle spanned by that segment and the vector `across` (3D);
    returns its tag."""
    if dim == 2:
        return occ.addLine(occ.addPoint(*start), occ.addPoint(*end))
    shifted = [tuple(p + a for p, a in zip(point, across, strict=True)) for point in (end, start)]
    points = [occ.addPoint(*corner) for corner in (start, end, *shifted)]
    lines = [occ.addLine(points[i], points[(i + 1) % 4]) for i in range(4)]
    return occ.addPlaneSurface([occ.addCurveLoop(lines)])
