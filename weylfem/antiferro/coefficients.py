"""Coefficients of a sublattice magnet: the ferromagnet's DG0 coefficients
(`weylfem.magnet.coefficients`) shared by the sublattices, per-sublattice M_s, gamma,
alpha and easy axes, and the magnetic orders a region may have.

The sublattices of one material are equivalent by symmetry, so a device file gives one
M_s, gamma and alpha for all of them; the Python API may give each its own
(`with_sublattice_values`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import ufl
from dolfinx import fem

from weylfem.magnet.coefficients import MagnetCoefficients

SUBLATTICE_COUNTS = {"antiferromagnet": 2, "triangular": 3}
"""Magnetic orders of a sublattice magnet and their numbers of sublattices."""

KAGOME_NORMAL = (0.0, 0.0, 1.0)
"""The kagome plane of a triangular magnet is the mesh's xy plane; its normal (the
direction of the homogeneous DMI vector) is z."""


def kagome_easy_axes() -> tuple[tuple[float, float, float], ...]:
    """In-plane single-ion easy axes of the three kagome sublattices, at 0, 120 and 240
    degrees from x (the Liu-Balents model)."""
    return tuple(
        (math.cos(2 * math.pi * k / 3), math.sin(2 * math.pi * k / 3), 0.0) for k in range(3)
    )


@dataclass
class SublatticeCoefficients:
    """The coefficients of `count` sublattices on the magnetic regions of `base`."""

    base: MagnetCoefficients
    order: str
    saturation: tuple[ufl.core.expr.Expr, ...]
    """M_s of each sublattice (A/m)"""
    gyromagnetic_ratio: tuple[ufl.core.expr.Expr, ...]
    damping: tuple[ufl.core.expr.Expr, ...]
    easy_axes: tuple[ufl.core.expr.Expr, ...]
    """unit easy axis of each sublattice's uniaxial anisotropy"""

    @property
    def count(self) -> int:
        """Number of sublattices."""
        return SUBLATTICE_COUNTS[self.order]

    @property
    def exchange(self) -> fem.Function:
        """Intralattice exchange stiffness A (J/m)."""
        return self.base.exchange

    def parameter(self, name: str) -> fem.Function:
        """The DG0 function of a material quantity over the magnetic regions."""
        return self.base.parameter(name)

    def with_sublattice_values(
        self,
        saturation: Sequence[float] | None = None,
        gyromagnetic_ratio: Sequence[float] | None = None,
        damping: Sequence[float] | None = None,
    ) -> SublatticeCoefficients:
        """A copy whose sublattices have their own constant M_s, gamma or alpha (on the
        magnetic cells)."""
        indicator = self.base.indicator()

        def values(given, current):
            if given is None:
                return current
            if len(given) != self.count:
                raise ValueError(f"expected {self.count} sublattice values, got {len(given)}")
            return tuple(float(v) * indicator for v in given)

        return dataclasses.replace(
            self,
            saturation=values(saturation, self.saturation),
            gyromagnetic_ratio=values(gyromagnetic_ratio, self.gyromagnetic_ratio),
            damping=values(damping, self.damping),
        )


def build_sublattice_coefficients(base: MagnetCoefficients, order: str) -> SublatticeCoefficients:
    """Equivalent sublattices of the regions' materials: M_s, gamma, alpha of the material
    on each; easy axes: the region's axis on both sublattices of an antiferromagnet, the
    kagome axes (`kagome_easy_axes`) of a triangular magnet."""
    count = SUBLATTICE_COUNTS[order]
    mesh = base.saturation_magnetization.function_space.mesh
    if order == "triangular":
        axes = tuple(fem.Constant(mesh, axis) for axis in kagome_easy_axes())
    else:
        axes = (base.anisotropy_axis,) * count
    return SublatticeCoefficients(
        base=base,
        order=order,
        saturation=(base.saturation_magnetization,) * count,
        gyromagnetic_ratio=(base.gyromagnetic_ratio,) * count,
        damping=(base.damping,) * count,
        easy_axes=axes,
    )
