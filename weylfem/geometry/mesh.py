"""Meshing on rank 0 with gmsh and distribution to all ranks."""

from __future__ import annotations

from dataclasses import dataclass

from mpi4py import MPI

from weylfem import compat
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

    @property
    def comm(self) -> MPI.Comm:
        """The mesh communicator."""
        return self.mesh.comm

    def counts(self) -> dict[str, int]:
        """Global numbers of cells and vertices."""
        topology = self.mesh.topology
        return {
            "cells": topology.index_map(topology.dim).size_global,
            "vertices": topology.index_map(0).size_global,
        }


def _physical_groups(gmsh, dim: int) -> dict[str, int]:
    return {gmsh.model.getPhysicalName(d, tag): tag for d, tag in gmsh.model.getPhysicalGroups(dim)}


def build_device_mesh(geometry, comm: MPI.Comm = MPI.COMM_WORLD) -> DeviceMesh:
    """Mesh `geometry` with gmsh on rank 0, distribute it and scale coordinates to metres."""
    import gmsh

    dim = geometry.dimension
    groups = None
    if comm.rank == 0:
        gmsh.initialize(interruptible=False)
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add("weylfem")
        geometry.add_to_gmsh(gmsh)
        gmsh.model.mesh.generate(dim)
        groups = (_physical_groups(gmsh, dim), _physical_groups(gmsh, dim - 1))
    cell_groups, facet_groups = comm.bcast(groups, root=0)
    try:
        mesh, cell_tags, facet_tags = compat.model_to_mesh(gmsh.model, comm, 0, gdim=dim)
    finally:
        if comm.rank == 0:
            gmsh.finalize()
    mesh.geometry.x[:] *= METRES_PER_UNIT[geometry.length_unit]
    mesh.topology.create_connectivity(dim - 1, dim)
    return DeviceMesh(mesh, cell_tags, facet_tags, cell_groups, facet_groups)


def measure_groups(device_mesh: DeviceMesh) -> dict[str, float]:
    """Global measure (m^d for regions, m^(d-1) for facets) of every named group."""
    import ufl
    from dolfinx import fem

    mesh = device_mesh.mesh
    dx = ufl.Measure("dx", domain=mesh, subdomain_data=device_mesh.cell_tags)
    ds = ufl.Measure("ds", domain=mesh, subdomain_data=device_mesh.facet_tags)
    one = fem.Constant(mesh, 1.0)
    sizes = {}
    for measure, groups in ((dx, device_mesh.cell_groups), (ds, device_mesh.facet_groups)):
        for name, tag in groups.items():
            local = fem.assemble_scalar(fem.form(one * measure(tag)))
            sizes[name] = float(device_mesh.comm.allreduce(local, op=MPI.SUM))
    return sizes
