"""Valley torques attributed to the named surfaces and interfaces that bound a magnet.

The valley torque acts where phi_v varies: in the boundary layers, of width ~lambda_v,
that valley-relaxing surfaces and interfaces (and contacts) carve into the valley
imbalance (TS Sec. IV.B).  Every magnetic cell is attributed to the nearest of the given
facet groups (the relaxing ones, by default) that touch a magnetic cell (nearest by cell
and facet midpoints); the torque of a
group is the integral of t_v over its cells, split into field-like and damping-like
parts, and its torque per unit area divides that by the area of the group's facets on
the magnet.  For a film with one relaxing interface and a uniform bulk drive this is
TS Eq. 32: -(eta sigma / e) dphi [m x n - beta m x (m x n)].  The groups' torques add up
to the total valley torque on the magnet.  In a 2D device torques are per metre of
thickness and areas are lengths, so torques per area are in J/m^2 in every dimension.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem
from dolfinx import mesh as dmesh
from mpi4py import MPI
from scipy.spatial import cKDTree

from weylfem.geometry import DeviceMesh


@dataclass
class InterfaceTorque:
    """The valley torque attributed to one facet group (J; J/m^2 per unit area)."""

    area_m2: float
    field_like_J: np.ndarray
    damping_like_J: np.ndarray

    @property
    def total_J(self) -> np.ndarray:
        return self.field_like_J + self.damping_like_J

    def per_area(self) -> dict[str, np.ndarray]:
        """Field-like, damping-like and total torque per unit area (J/m^2)."""
        return {
            "field_like": self.field_like_J / self.area_m2,
            "damping_like": self.damping_like_J / self.area_m2,
            "total": self.total_J / self.area_m2,
        }

    def report(self) -> dict:
        """For results.json."""
        return {
            "area_m2": self.area_m2,
            "torque_J": {
                "field_like": self.field_like_J,
                "damping_like": self.damping_like_J,
                "total": self.total_J,
            },
            "torque_per_area_J_per_m2": self.per_area(),
        }


class InterfaceTorques:
    """Forms of the torque of every facet group of `groups` (name -> facet tag) that
    touches the magnetic cells (`magnetic`: the DG0 indicator of `magnetic_cells`);
    `densities` are the (field-like, damping-like) torque densities (UFL 3-vectors,
    J/m^3) and `dx` the measure of the magnetic cells."""

    def __init__(
        self,
        device_mesh: DeviceMesh,
        magnetic: fem.Function,
        magnetic_cells: np.ndarray,
        groups: Mapping[str, int],
        densities: tuple[ufl.core.expr.Expr, ufl.core.expr.Expr],
        dx: ufl.Measure,
    ):
        mesh = device_mesh.mesh
        self.comm = device_mesh.comm
        tdim = mesh.topology.dim
        ds = ufl.Measure("ds", domain=mesh, subdomain_data=device_mesh.facet_tags)
        dS = ufl.Measure("dS", domain=mesh, subdomain_data=device_mesh.facet_tags)
        on_magnet = magnetic("+") + magnetic("-") - magnetic("+") * magnetic("-")
        touching = _facets_touching(mesh, magnetic_cells)
        tags = device_mesh.facet_tags
        midpoints = {}
        self.areas = {}
        for name, tag in groups.items():
            facets = tags.indices[(tags.values == tag) & np.isin(tags.indices, touching)]
            gathered = self.comm.allgather(dmesh.compute_midpoints(mesh, tdim - 1, facets))
            points = np.concatenate(gathered)
            if len(points) == 0:
                continue
            area_form = fem.form(magnetic * ds(tag) + on_magnet * dS(tag))
            self.areas[name] = self.comm.allreduce(fem.assemble_scalar(area_form), op=MPI.SUM)
            midpoints[name] = points
        self.names = list(midpoints)
        centres = dmesh.compute_midpoints(mesh, tdim, magnetic_cells)
        distances = np.full((len(self.names), len(magnetic_cells)), np.inf)
        for i, name in enumerate(self.names):
            distances[i], _ = cKDTree(midpoints[name]).query(centres)
        nearest = np.argmin(distances, axis=0) if self.names else np.zeros(0, dtype=int)
        self._forms = {}
        for i, name in enumerate(self.names):
            share = fem.Function(magnetic.function_space)
            share.x.array[magnetic_cells[nearest == i]] = 1.0
            self._forms[name] = [
                [fem.form(share * density[c] * dx) for c in range(3)] for density in densities
            ]

    def evaluate(self) -> dict[str, InterfaceTorque]:
        """The torque of every group at the current m and phi_v (collective)."""

        def integral(forms) -> np.ndarray:
            local = np.array([fem.assemble_scalar(form) for form in forms])
            return self.comm.allreduce(local, op=MPI.SUM)

        return {
            name: InterfaceTorque(
                self.areas[name], integral(self._forms[name][0]), integral(self._forms[name][1])
            )
            for name in self.names
        }


def _facets_touching(mesh, cells: np.ndarray) -> np.ndarray:
    """Local indices of the facets of `cells`."""
    tdim = mesh.topology.dim
    mesh.topology.create_connectivity(tdim, tdim - 1)
    connectivity = mesh.topology.connectivity(tdim, tdim - 1)
    if len(cells) == 0:
        return np.zeros(0, dtype=np.int32)
    return np.unique(np.concatenate([connectivity.links(c) for c in cells]))
