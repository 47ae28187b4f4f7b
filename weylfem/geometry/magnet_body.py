"""A magnet in open space: the magnet, a ball of air around it and a transformation shell."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from weylfem.geometry.base import Geometry, add_physical_groups, boundary_of
from weylfem.schema import check, positive

SPHERE_ALGORITHM, CURVED_ALGORITHM = 5, 1
"""gmsh 2D algorithms of the curved surfaces: Delaunay on spheres, MeshAdapt on the others
(an ellipsoid's B-spline, whose degenerate poles defeat the default algorithm).  With the
default algorithm some tests left tetrahedra of SICN 0.2 next to these surfaces."""


@dataclass(frozen=True, kw_only=True)
class MagnetBodyGeometry(Geometry):
    """A magnet centred at the origin: a box `lx` x `ly` x `lz` (a thin film is a flat box)
    or an ellipsoid with those diameters (a sphere when they are equal); in 2D the
    rectangle or ellipse `lx` x `ly` of the xy plane (`lz` unused).

    `open_boundary` says what surrounds it: ``"shell"`` a ball of air r < `air_radius`
    (R1) and a spherical shell R1 < r < `shell_radius` (R2), which a demagnetization
    solver maps onto all of space beyond R1; ``"truncated"`` the air ball only, whose
    outer sphere stands for infinity; ``"none"`` nothing (the magnet alone, e.g. for the
    local thin-film approximation).  R1 defaults to twice the magnet's circumradius and
    R2 to 3 R1.

    `layers` (a 3D box alone, open_boundary ``"none"``) meshes the magnet as that many
    layers through its thickness `lz`: the `lx` x `ly` rectangle's triangles extruded into
    prisms, each cut into three tetrahedra.  A thin film meshed freely gets tetrahedra
    flattened between its faces, whose exchange modes are the fastest of the mesh and
    bound an explicit integrator's step; one layer of a 3 nm film at 5 nm elements lowers
    the largest exchange eigenvalue 2.6-fold (the free mesh: 2.71/nm^2, one layer 1.03/nm^2).

    `in_plane_mesh` ``"grid"`` (with `layers`) meshes the rectangle as a grid of
    round(lx / magnet_mesh_size) x round(ly / magnet_mesh_size) equal rectangles, each cut
    into two triangles along the same diagonal, so that every element lies in one cell of
    that grid (the cells of the "fft" demagnetization, whose projection is then exact)
    and the in-plane exchange stencil is the finite-difference one; ``"free"`` (default)
    leaves the triangles to gmsh.

    Elements are `magnet_mesh_size` within the magnet's bounding box and grow linearly
    with the distance d from that box, as magnet_mesh_size + size_growth d, up to
    `mesh_size` (explicit refinements replace this grading: gmsh keeps one background
    size field).  Physical groups: regions ``magnet``, ``air``, ``shell``; boundaries
    ``surface`` (of the magnet) and ``infinity`` (the outer sphere); those that exist.
    """

    kind: Literal["magnet_body"] = "magnet_body"
    shape: Literal["box", "ellipsoid"] = "box"
    lx: float = check(positive, default=1.0)
    ly: float = check(positive, default=1.0)
    lz: float = check(positive, default=0.2)
    open_boundary: Literal["shell", "truncated", "none"] = "shell"
    air_radius: float | None = check(positive, default=None)
    """R1 (default: twice the circumradius)"""
    shell_radius: float | None = check(positive, default=None)
    """R2, shell only (default: 3 R1)"""
    magnet_mesh_size: float = check(positive, default=0.1)
    """element size in the magnet (mesh_size is the largest, far from it)"""
    size_growth: float = check(positive, default=0.3)
    """growth of the element size per unit distance from the magnet"""
    layers: int | None = check(positive, default=None)
    """element layers through lz, extruded (a box alone in 3D; default: a free mesh)"""
    in_plane_mesh: Literal["free", "grid"] = "free"
    """the layers' triangles: gmsh's own, or a grid of magnet_mesh_size squares halved"""

    def validate(self) -> Iterator[tuple[str, str]]:
        """Cross-field checks (yields key, message)."""
        yield from super().validate()
        if self.magnet_mesh_size > self.mesh_size:
            yield "magnet_mesh_size", f"expected at most mesh_size ({self.mesh_size})"
        if self.layers is not None:
            if self.dimension != 3 or self.shape != "box" or self.open_boundary != "none":
                yield (
                    "layers",
                    (
                        "expected no value unless dimension = 3, shape = 'box' and"
                        " open_boundary = 'none'"
                    ),
                )
        if self.in_plane_mesh == "grid" and self.layers is None:
            yield "in_plane_mesh", "expected 'free' unless the magnet is meshed in layers"
        if self.open_boundary == "none":
            for key in ("air_radius", "shell_radius"):
                if getattr(self, key) is not None:
                    yield key, "expected no value with open_boundary = 'none'"
            return
        if self.open_boundary == "truncated" and self.shell_radius is not None:
            yield "shell_radius", "expected no value with open_boundary = 'truncated'"
        reach = self.circumradius()
        air, outer = self.radii()
        if air <= reach * (1 + 1e-6):
            yield "air_radius", f"expected more than the magnet's circumradius ({reach})"
        elif self.open_boundary == "shell" and outer <= air:
            yield "shell_radius", f"expected more than air_radius ({air})"

    def cell_groups(self) -> tuple[str, ...]:
        """Names of the region groups this geometry creates."""
        return {"shell": ("magnet", "air", "shell"), "truncated": ("magnet", "air")}.get(
            self.open_boundary, ("magnet",)
        )

    def facet_groups(self) -> tuple[str, ...]:
        """Names of the boundary groups this geometry creates."""
        return ("surface",) if self.open_boundary == "none" else ("surface", "infinity")

    def semi_axes(self) -> tuple[float, ...]:
        """Half the magnet's extents along the mesh axes."""
        return (self.lx / 2, self.ly / 2, self.lz / 2)[: self.dimension]

    def circumradius(self) -> float:
        """Radius of the smallest origin-centred sphere (circle in 2D) holding the magnet."""
        if self.shape == "box":
            return math.hypot(*self.semi_axes())
        return max(self.semi_axes())

    def radii(self) -> tuple[float, float]:
        """(R1, outer radius) with the defaults resolved: the air radius and the shell
        radius, or R1 twice without a shell (open_boundary 'shell' or 'truncated')."""
        air = self.air_radius if self.air_radius is not None else 2 * self.circumradius()
        if self.open_boundary == "truncated":
            return air, air
        return air, self.shell_radius if self.shell_radius is not None else 3 * air

    def add_to_gmsh(self, gmsh) -> None:
        """Create the OCC geometry and its physical groups in the current gmsh model."""
        occ, dim = gmsh.model.occ, self.dimension
        magnet, base = self._add_magnet(occ)
        pieces = {"magnet": [magnet]}
        if self.open_boundary != "none":
            air, outer = self.radii()
            balls = [_ball(occ, dim, r) for r in dict.fromkeys((air, outer))]
            _, children = occ.fragment([(dim, magnet)], [(dim, b) for b in balls])
            nested = [{tag for _, tag in child} for child in children]  # magnet, R1, R2
            pieces = {"magnet": sorted(nested[0]), "air": sorted(nested[1] - nested[0])}
            if self.open_boundary == "shell":
                pieces["shell"] = sorted(nested[2] - nested[1])
        occ.synchronize()
        volumes = [tag for tags in pieces.values() for tag in tags]
        facets = {"surface": boundary_of(gmsh, dim, pieces["magnet"])}
        if self.open_boundary != "none":
            facets["infinity"] = boundary_of(gmsh, dim, volumes)
        if self.in_plane_mesh == "grid":
            self._grid_base(gmsh, base)
        add_physical_groups(gmsh, dim, pieces)
        add_physical_groups(gmsh, dim - 1, facets)
        gmsh.model.mesh.field.setAsBackgroundMesh(self.size_field(gmsh))
        for option in ("ExtendFromBoundary", "FromPoints", "FromCurvature"):
            gmsh.option.setNumber(f"Mesh.MeshSize{option}", 0)
        for _, tag in gmsh.model.getEntities(2):
            surface = gmsh.model.getType(2, tag)
            if surface != "Plane":
                algorithm = SPHERE_ALGORITHM if surface == "Sphere" else CURVED_ALGORITHM
                gmsh.model.mesh.setAlgorithm(2, tag, algorithm)

    def _add_magnet(self, occ) -> tuple[int, int | None]:
        """The magnet's tag, and that of the rectangle its layers extrude (or None)."""
        semi = self.semi_axes()
        if self.shape == "box":
            if self.layers is not None:
                base = occ.addRectangle(-semi[0], -semi[1], -semi[2], self.lx, self.ly)
                extruded = occ.extrude([(2, base)], 0, 0, self.lz, [self.layers], [1.0])
                return next(tag for dim, tag in extruded if dim == 3), base
            if self.dimension == 3:
                return occ.addBox(*(-s for s in semi), self.lx, self.ly, self.lz), None
            return occ.addRectangle(-semi[0], -semi[1], 0, self.lx, self.ly), None
        if len(set(semi)) == 1:
            return _ball(occ, self.dimension, semi[0]), None
        tag = _ball(occ, self.dimension, 1.0)
        occ.dilate([(self.dimension, tag)], 0, 0, 0, self.lx / 2, self.ly / 2, self.lz / 2)
        return tag, None

    def grid_cells(self) -> tuple[int, int]:
        """The in-plane grid's rectangles along x and y (in_plane_mesh = "grid")."""
        return (
            max(1, round(self.lx / self.magnet_mesh_size)),
            max(1, round(self.ly / self.magnet_mesh_size)),
        )

    def _grid_base(self, gmsh, base: int) -> None:
        """Make the film's base rectangle `base` (which the layers extrude) a transfinite
        grid of grid_cells() rectangles halved into triangles."""
        cells = self.grid_cells()
        for _, curve in gmsh.model.getBoundary([(2, base)], oriented=False):
            x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(1, curve)
            along_x = x1 - x0 > y1 - y0
            gmsh.model.mesh.setTransfiniteCurve(curve, cells[0 if along_x else 1] + 1)
        gmsh.model.mesh.setTransfiniteSurface(base, "Right")

    def size_field(self, gmsh) -> int:
        """A gmsh Box field: magnet_mesh_size in the magnet's bounding box, growing by
        size_growth per unit distance from it to mesh_size; returns its number."""
        field = gmsh.model.mesh.field
        box = field.add("Box")
        for axis, half in zip("XYZ", (self.lx / 2, self.ly / 2, self.lz / 2), strict=True):
            field.setNumber(box, f"{axis}Min", -half)
            field.setNumber(box, f"{axis}Max", half)
        field.setNumber(box, "VIn", self.magnet_mesh_size)
        field.setNumber(box, "VOut", self.mesh_size)
        transition = (self.mesh_size - self.magnet_mesh_size) / self.size_growth
        field.setNumber(box, "Thickness", transition)
        return box


def _ball(occ, dim: int, radius: float) -> int:
    """An origin-centred ball (3D) or disk (2D)."""
    if dim == 3:
        return occ.addSphere(0, 0, 0, radius)
    return occ.addDisk(0, 0, 0, radius, radius)
