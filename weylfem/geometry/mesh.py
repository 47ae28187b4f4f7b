"""Meshing on rank 0 with gmsh, size fields, and distribution to all ranks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mpi4py import MPI

from weylfem import compat, interrupts
from weylfem.collective import on_rank0
from weylfem.geometry.base import Geometry, Refinement
from weylfem.geometry.units import METRES_PER_UNIT


@dataclass
class DeviceMesh:
    """A distributed mesh in metres with its named region and boundary tags."""

    mesh: object
    cell_tags: object
    facet_tags: object
    cell_groups: dict[str, int]
    """region name -> cell tag value"""
    facet_groups: dict[str, int]
    """boundary or interface name -> facet tag value"""
    quality: dict[str, float]
    """gmsh element quality: minimum and mean signed inverse condition number (1 = ideal)"""

    @property
    def comm(self) -> MPI.Comm:
        """The mesh communicator."""
        return self.mesh.comm

    @classmethod
    def single_region(cls, mesh, region: str = "magnet", boundary: str = "boundary") -> DeviceMesh:
        """Wrap a DOLFINx mesh made in code (e.g. `dolfinx.mesh.create_box`): every cell is
        region `region` (tag 1) and every exterior facet is boundary `boundary` (tag 1)."""
        import numpy as np
        from dolfinx import mesh as dolfinx_mesh

        tdim = mesh.topology.dim
        cell_map = mesh.topology.index_map(tdim)
        cells = np.arange(cell_map.size_local + cell_map.num_ghosts, dtype=np.int32)
        cell_tags = dolfinx_mesh.meshtags(mesh, tdim, cells, np.ones_like(cells))
        mesh.topology.create_connectivity(tdim - 1, tdim)
        facets = dolfinx_mesh.exterior_facet_indices(mesh.topology).astype(np.int32)
        facet_tags = dolfinx_mesh.meshtags(mesh, tdim - 1, facets, np.ones_like(facets))
        return cls(mesh, cell_tags, facet_tags, {region: 1}, {boundary: 1}, {})

    def counts(self) -> dict[str, int]:
        """Global numbers of cells and vertices."""
        topology = self.mesh.topology
        return {
            "cells": topology.index_map(topology.dim).size_global,
            "vertices": topology.index_map(0).size_global,
        }

    def describe(self) -> dict[str, int]:
        """Global numbers of cells and vertices, MPI ranks and dimension (the start of the
        `mesh` table of results.json and mesh.json)."""
        return {
            **self.counts(),
            "ranks": self.comm.size,
            "dimension": self.mesh.topology.dim,
        }


def _physical_groups(gmsh, dim: int) -> dict[str, int]:
    return {gmsh.model.getPhysicalName(d, tag): tag for d, tag in gmsh.model.getPhysicalGroups(dim)}


DELAUNAY, HXT = 1, 10
"""gmsh's numbers of its 3D meshing algorithms"""
AUTO_HXT_VERTICES = 1e5

_ENTITY_LISTS = {1: "CurvesList", 2: "SurfacesList", 3: "VolumesList"}


def _size_field(
    gmsh,
    dim: int,
    mesh_size: float,
    refinement: Refinement,
    groups: dict[str, tuple[int, list[int]]],
    extent: float,
) -> list[int]:
    """gmsh fields that impose one refinement; returns their numbers.  `groups` maps a
    physical-group name to (dimension, entity tags); `extent` is the model's diagonal."""
    field = gmsh.model.mesh.field
    size = min(refinement.size, mesh_size)
    numbers = []
    for name in refinement.groups:
        group_dim, entities = groups[name]
        if group_dim == dim:
            number = field.add("Constant")
            field.setNumber(number, "VIn", size)
            field.setNumber(number, "VOut", mesh_size)
            field.setNumbers(number, _ENTITY_LISTS[dim], entities)
            numbers.append(number)
            continue
        distance = field.add("Distance")
        field.setNumbers(distance, _ENTITY_LISTS[group_dim], entities)
        field.setNumber(distance, "Sampling", min(max(20, math.ceil(2 * extent / size)), 500))
        threshold = field.add("Threshold")
        field.setNumber(threshold, "InField", distance)
        field.setNumber(threshold, "SizeMin", size)
        field.setNumber(threshold, "SizeMax", mesh_size)
        field.setNumber(threshold, "DistMin", refinement.distance)
        field.setNumber(
            threshold, "DistMax", refinement.distance + max(refinement.transition, size)
        )
        numbers.append(threshold)
    return numbers


def _mesher(gmsh, geometry: Geometry) -> str:
    """The 3D algorithm `geometry.mesh_algorithm` stands for: 'auto' is HXT above about
    AUTO_HXT_VERTICES vertices (bounding-box volume / mesh_size^3), Delaunay below."""
    if geometry.mesh_algorithm != "auto":
        return geometry.mesh_algorithm
    xmin, ymin, zmin, xmax, ymax, zmax = gmsh.model.getBoundingBox(-1, -1)
    volume = (xmax - xmin) * (ymax - ymin) * (zmax - zmin)
    return "hxt" if volume / geometry.mesh_size**3 > AUTO_HXT_VERTICES else "delaunay"


def _apply_sizes(gmsh, geometry: Geometry, refinements: Sequence[Refinement]) -> None:
    gmsh.option.setNumber("Mesh.MeshSizeMax", geometry.mesh_size)
    if _mesher(gmsh, geometry) == "hxt":
        gmsh.option.setNumber("Mesh.Algorithm3D", HXT)
    else:
        # Netgen's optimiser removes the sliver tetrahedra Delaunay leaves in thin layers.
        gmsh.option.setNumber("Mesh.Algorithm3D", DELAUNAY)
        gmsh.option.setNumber("Mesh.OptimizeNetgen", 1)
    if not refinements:
        return
    groups = {
        gmsh.model.getPhysicalName(d, tag): (
            d,
            list(gmsh.model.getEntitiesForPhysicalGroup(d, tag)),
        )
        for d, tag in gmsh.model.getPhysicalGroups()
    }
    xmin, ymin, zmin, xmax, ymax, zmax = gmsh.model.getBoundingBox(-1, -1)
    extent = math.dist((xmin, ymin, zmin), (xmax, ymax, zmax))
    numbers = [
        number
        for refinement in refinements
        for number in _size_field(
            gmsh, geometry.dimension, geometry.mesh_size, refinement, groups, extent
        )
    ]
    if not numbers:
        return
    field = gmsh.model.mesh.field
    smallest = field.add("Min")
    field.setNumbers(smallest, "FieldsList", numbers)
    field.setAsBackgroundMesh(smallest)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
    gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)


def _quality(gmsh, dim: int) -> dict[str, float]:
    qualities = []
    for _, tag in gmsh.model.getEntities(dim):
        for element_tags in gmsh.model.mesh.getElements(dim, tag)[1]:
            qualities.extend(gmsh.model.mesh.getElementQualities(element_tags, "minSICN"))
    return {
        "min_sicn": min(qualities),
        "mean_sicn": sum(qualities) / len(qualities),
    }


def build_device_mesh(
    geometry: Geometry,
    comm: MPI.Comm = MPI.COMM_WORLD,
    refinements: Sequence[Refinement] = (),
) -> DeviceMesh:
    """Mesh `geometry` with gmsh on rank 0, distribute it and scale coordinates to metres.

    `refinements` come on top of the geometry's own `refine` list (see
    `weylfem.meshing.device_refinements` for those derived from the physics)."""
    import gmsh

    dim = geometry.dimension

    def generate() -> tuple:
        """Mesh with gmsh (rank 0): the physical groups and the quality."""
        gmsh.initialize(interruptible=False)
        interrupts.restore()  # gmsh.initialize resets SIGTERM to its default
        try:
            gmsh.option.setNumber("General.Terminal", 0)
            gmsh.model.add("weylfem")
            geometry.add_to_gmsh(gmsh)
            if not gmsh.model.mesh.getNodes()[0].size:
                _apply_sizes(gmsh, geometry, [*geometry.refine, *refinements])
                gmsh.model.mesh.generate(dim)
            groups = _physical_groups(gmsh, dim), _physical_groups(gmsh, dim - 1)
            return (*groups, _quality(gmsh, dim))
        except BaseException:
            gmsh.finalize()
            raise

    # a failure on rank 0 is raised on every rank (none is left waiting for the mesh)
    cell_groups, facet_groups, quality = on_rank0(comm, generate, "meshing with gmsh failed")
    try:
        mesh, cell_tags, facet_tags = compat.model_to_mesh(gmsh.model, comm, 0, gdim=dim)
    finally:
        if comm.rank == 0:
            gmsh.finalize()
    mesh.geometry.x[:] *= METRES_PER_UNIT[geometry.length_unit]
    mesh.topology.create_connectivity(dim - 1, dim)
    return DeviceMesh(mesh, cell_tags, facet_tags, cell_groups, facet_groups, quality)


def measure_groups(device_mesh: DeviceMesh) -> dict[str, float]:
    """Global measure (m^d for regions, m^(d-1) for facets) of every named group."""
    import ufl
    from dolfinx import fem

    mesh = device_mesh.mesh
    dx = ufl.Measure("dx", domain=mesh, subdomain_data=device_mesh.cell_tags)
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=device_mesh.facet_tags)
    dS = ufl.Measure("dS", domain=mesh, subdomain_data=device_mesh.facet_tags)
    one = fem.Constant(mesh, 1.0)
    sizes = {}
    for name, tag in device_mesh.cell_groups.items():
        sizes[name] = _assemble(one * dx(tag), device_mesh.comm)
    for name, tag in device_mesh.facet_groups.items():
        # exterior facets once, interior (interface) facets once: '+' side only
        sizes[name] = _assemble(one * ds(tag) + one("+") * dS(tag), device_mesh.comm)
    return sizes


def _assemble(integrand, comm: MPI.Comm) -> float:
    from dolfinx import fem

    return float(comm.allreduce(fem.assemble_scalar(fem.form(integrand)), op=MPI.SUM))
