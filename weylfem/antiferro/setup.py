"""From a Device to a SublatticeProblem, in one ordered function, `build_sublattice_magnet`:

1. the ferromagnet's coefficients of the magnetic regions, shared by the sublattices
   (`build_sublattice_coefficients`: equivalent sublattices, per-sublattice easy axes);
2. energy terms: intralattice exchange always; the terms a material parameter switches
   on (`energy.OPTIONAL_TERMS`: interlattice exchange, stiffness and DMI, anisotropy);
   Zeeman of the static and time-dependent field (the ferromagnet's `Zeeman` term), with
   the Neel orbital Zeeman energy -M_W l.B of a collinear order whose material has
   sigma_AH mu_F != 0; the thin-film demagnetization of the net magnetization;
3. the initial directions: the region's magnetization_direction d is m_1; an
   antiferromagnet has m_2 = -d, a triangular magnet m_2, m_3 = d rotated about z by
   -120 and -240 degrees (the inverse-triangular order, after projecting d into the
   kagome plane).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from weylfem.antiferro.coefficients import SUBLATTICE_COUNTS, build_sublattice_coefficients
from weylfem.antiferro.energy import (
    OPTIONAL_TERMS,
    IntralatticeExchange,
    NeelOrbitalZeeman,
    NetThinFilmDemagnetization,
    SublatticeTerm,
    SublatticeZeeman,
)
from weylfem.antiferro.problem import SublatticeProblem
from weylfem.device import Device
from weylfem.geometry import DeviceMesh
from weylfem.magnet.energy import Zeeman
from weylfem.magnet.setup import magnet_coefficients, region_directions, zeeman_term


def magnetic_order(device: Device) -> str:
    """The magnetic order of the device's magnetic regions (one for all, checked by
    `weylfem.config`): 'ferromagnet', 'antiferromagnet' or 'triangular'."""
    orders = {device.regions[name].magnetic_order for name in device.magnetic_regions()}
    return orders.pop() if len(orders) == 1 else "ferromagnet"


def is_sublattice_magnet(device: Device) -> bool:
    """Whether the device's magnet is a sublattice (antiferromagnetic) one."""
    return device.magnetization is not None and magnetic_order(device) in SUBLATTICE_COUNTS


@dataclass
class SublatticeSetup:
    """The sublattice problem of a device and what results.json reports about it."""

    problem: SublatticeProblem
    regions: tuple[str, ...]
    zeeman: Zeeman | None = None

    def describe(self) -> dict:
        """Magnetic regions, order, sublattices and energy terms."""
        problem = self.problem
        return {
            "regions": list(self.regions),
            "magnetic_order": problem.coefficients.order,
            "sublattices": problem.count,
            "energy_terms": [term.name for term in problem.terms],
            "torques": [],
            "magnetic_nodes": problem.magnetic_node_count,
        }


def build_sublattice_magnet(device: Device, device_mesh: DeviceMesh) -> SublatticeSetup:
    """The SublatticeProblem of `device` (valid, its magnetic regions of one sublattice
    order) on its mesh."""
    regions = device.magnetic_regions()
    base = magnet_coefficients(device, device_mesh)
    coefficients = build_sublattice_coefficients(base, magnetic_order(device))
    materials = [device.material_of(name) for name in regions]
    terms: list[SublatticeTerm] = [IntralatticeExchange(coefficients)]
    for term in OPTIONAL_TERMS:
        if any(getattr(material, term.material_parameter) for material in materials):
            terms.append(term(coefficients))
    zeeman = zeeman_term(device, device_mesh, base, regions)
    if zeeman is not None:
        terms.append(SublatticeZeeman(coefficients, zeeman))
        orbital = NeelOrbitalZeeman.material_parameter
        if coefficients.count == 2 and any(getattr(m, orbital) for m in materials):
            terms.append(NeelOrbitalZeeman(coefficients, zeeman))
    if device.magnetization.demagnetization == "thin_film":
        terms.append(NetThinFilmDemagnetization(coefficients, device.magnetization.film_normal))
    count = coefficients.count
    problem = SublatticeProblem(device_mesh, coefficients, terms, [(0.0, 0.0, 1.0)] * count)
    problem.set_directions(_region_directions(device, problem, regions))
    return SublatticeSetup(problem, regions, zeeman)


def sublattice_directions(direction: np.ndarray, order: str) -> np.ndarray:
    """(k, 3, n) sublattice directions of an ordered state whose m_1 is `direction` (3, n)."""
    if order == "antiferromagnet":
        return np.stack([direction, -direction])
    in_plane = direction.copy()
    in_plane[2] = 0.0
    angles = [-2 * math.pi * k / 3 for k in range(3)]
    return np.stack([_rotated_about_z(in_plane, angle) for angle in angles])


def _rotated_about_z(vectors: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.stack([c * vectors[0] - s * vectors[1], s * vectors[0] + c * vectors[1], vectors[2]])


def _region_directions(
    device: Device, problem: SublatticeProblem, regions: tuple[str, ...]
) -> np.ndarray:
    """(nodes, k, 3): the regions' ordered states at the owned magnetic nodes."""
    values = region_directions(device, problem.device_mesh, problem.space, regions)
    values = values[problem.magnetic_nodes]
    return np.moveaxis(sublattice_directions(values.T, problem.coefficients.order), 2, 0)
