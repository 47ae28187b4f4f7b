"""Magnetic material parameters as piecewise-constant (DG0) functions on the device mesh.

Only the regions named in `regions` are magnetic; every other cell (a non-magnetic
conductor, the air around a magnet) carries zeros and takes no part in the LLG.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import ufl
from dolfinx import fem

from weylfem import compat
from weylfem.geometry import DeviceMesh
from weylfem.materials import Material

Vector = tuple[float, float, float]


@dataclass(frozen=True)
class MagneticRegion:
    """A magnetic cell group: its material and its uniaxial easy axis (normalised on use)."""

    material: Material
    anisotropy_axis: Vector = (0.0, 0.0, 1.0)


@dataclass
class MagnetCoefficients:
    """DG0 coefficients of the magnetic terms (zero outside the magnetic regions)."""

    saturation_magnetization: fem.Function
    """M_s (A/m)"""
    exchange: fem.Function
    """A (J/m)"""
    anisotropy_axis: fem.Function
    """unit easy axis u (3-vector)"""
    damping: fem.Function
    """alpha"""
    gyromagnetic_ratio: fem.Function
    """gamma (rad s^-1 T^-1)"""
    cell_tags: tuple[int, ...]
    """cell tag values of the magnetic regions"""
    cells: np.ndarray
    """local indices of the magnetic cells (owned and ghost)"""
    device_mesh: DeviceMesh
    regions: Mapping[str, MagneticRegion]
    """the magnetic regions the coefficients come from (for `parameter`)"""
    _parameters: dict[str, fem.Function] = field(default_factory=dict, repr=False)

    def parameter(self, name: str) -> fem.Function:
        """The DG0 function of the material quantity `name` (a `Material` field or
        property, such as an energy term's `material_parameter`) over the magnetic regions,
        0 where a material has none and off the magnet; built once."""
        if name not in self._parameters:
            values = {r: [getattr(g.material, name) or 0.0] for r, g in self.regions.items()}
            self._parameters[name] = regionwise(self.device_mesh, name, values)
        return self._parameters[name]

    def indicator(self) -> fem.Function:
        """A DG0 function, 1 on the magnetic cells and 0 elsewhere."""
        mesh = self.saturation_magnetization.function_space.mesh
        indicator = fem.Function(compat.function_space(mesh, "DG", 0), name="magnet")
        indicator.x.array[self.cells] = 1.0
        return indicator

    def inverse_saturation(self) -> ufl.core.expr.Expr:
        """1/M_s on the magnetic cells (1 elsewhere, where M_s = 0 and no magnetic term is
        evaluated)."""
        saturation = self.saturation_magnetization
        return 1.0 / ufl.conditional(ufl.gt(saturation, 0.0), saturation, 1.0)

    def inertia(self) -> ufl.core.expr.Expr:
        """M_s/gamma on the magnetic cells (0 elsewhere, where gamma = 0)."""
        gamma = self.gyromagnetic_ratio
        return self.saturation_magnetization / ufl.conditional(ufl.gt(gamma, 0.0), gamma, 1.0)

    def measure(self, device_mesh: DeviceMesh) -> ufl.Measure:
        """dx restricted to the magnetic regions."""
        dx = ufl.Measure("dx", domain=device_mesh.mesh, subdomain_data=device_mesh.cell_tags)
        return dx(self.cell_tags)


def build_magnet_coefficients(
    device_mesh: DeviceMesh, regions: Mapping[str, MagneticRegion]
) -> MagnetCoefficients:
    """DG0 coefficients from the magnetic `regions` (cell-group name -> MagneticRegion),
    which are valid: at least one, each a cell group of the mesh, its material with M_s,
    A and alpha, its axis nonzero (`weylfem.config` checks a device's)."""

    def scalar(name: str, value) -> fem.Function:
        return regionwise(
            device_mesh, name, {r: [value(g.material) or 0.0] for r, g in regions.items()}
        )

    def axis(region: MagneticRegion) -> np.ndarray:
        u = np.asarray(region.anisotropy_axis, dtype=float)
        return u / np.linalg.norm(u)

    tags = tuple(device_mesh.cell_groups[name] for name in regions)
    cells = device_mesh.cell_tags.indices[np.isin(device_mesh.cell_tags.values, tags)]
    return MagnetCoefficients(
        saturation_magnetization=scalar("M_s", lambda m: m.saturation_magnetization_A_per_m),
        exchange=scalar("A", lambda m: m.exchange_stiffness_J_per_m),
        anisotropy_axis=regionwise(
            device_mesh, "anisotropy_axis", {r: axis(g) for r, g in regions.items()}, shape=(3,)
        ),
        damping=scalar("alpha", lambda m: m.gilbert_damping),
        gyromagnetic_ratio=scalar("gamma", lambda m: m.gyromagnetic_ratio_rad_per_s_T),
        cell_tags=tags,
        cells=np.sort(cells).astype(np.int32),
        device_mesh=device_mesh,
        regions=dict(regions),
    )


def regionwise(
    device_mesh: DeviceMesh, name: str, values: Mapping[str, object], shape: tuple[int, ...] = ()
) -> fem.Function:
    """A DG0 function equal to values[region] on each listed region and zero elsewhere."""
    field = fem.Function(compat.function_space(device_mesh.mesh, "DG", 0, shape), name=name)
    field.x.array[:] = 0.0
    tags = device_mesh.cell_tags
    for region, value in values.items():
        cells = tags.indices[tags.values == device_mesh.cell_groups[region]]
        v = np.asarray(value, dtype=float).reshape(-1)
        field.interpolate(lambda x, v=v: np.tile(v[:, None], (1, x.shape[1])), cells)
    field.x.scatter_forward()
    return field
