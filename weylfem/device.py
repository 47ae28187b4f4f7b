"""The device description: plain dataclasses, SI units stated in the key names.

A `Device` is what a TOML file (see `weylfem init`) or Python code describes:
geometry, regions with materials, contacts, interfaces and valley-relaxing walls,
applied fields, physics model, solver options and outputs.  It holds no DOLFINx
objects; `weylfem.transport` turns it into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from weylfem.geometry import Geometry
from weylfem.materials import Material
from weylfem.schema import check, non_negative

PetscOptionValue = str | int | float | bool


@dataclass(frozen=True)
class Region:
    """A conducting region (a cell group of the mesh) and its material."""

    material: str


@dataclass(frozen=True)
class Contact:
    """An ohmic contact (a facet group) held at a fixed voltage."""

    voltage_V: float


@dataclass(frozen=True)
class Interface:
    """An internal interface (a facet group between regions) that relaxes valley imbalance."""

    valley_conductance_S_per_m2: float = check(non_negative, default=0.0)


@dataclass(frozen=True)
class Wall:
    """An outer surface (a facet group) that relaxes valley imbalance (Robin condition)."""

    valley_conductance_S_per_m2: float = check(non_negative, default=0.0)


@dataclass(frozen=True)
class Fields:
    """Applied fields, uniform over the device."""

    magnetic_field_T: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Physics:
    """Which transport model to solve."""

    transport: Literal["ohmic"] = "ohmic"
    element_degree: Literal[1, 2, 3] = 1


@dataclass(frozen=True)
class SolverOptions:
    """Linear solver choice; `petsc_options` override the defaults (without prefix)."""

    kind: Literal["auto", "direct", "iterative"] = "auto"
    direct_max_dofs: int = 200_000
    rtol: float = 1e-10
    petsc_options: dict[str, PetscOptionValue] = field(default_factory=dict)

    def validate(self):
        """Cross-field checks (yields key, message)."""
        if not 0 < self.rtol < 1:
            yield "rtol", "expected a number in (0, 1)"
        if self.direct_max_dofs < 0:
            yield "direct_max_dofs", "expected an integer >= 0"


@dataclass(frozen=True)
class OutputOptions:
    """What `weylfem run` writes besides results.json."""

    fields_xdmf: bool = True
    png: bool = True


@dataclass(frozen=True)
class Device:
    """A complete device description."""

    geometry: Geometry
    regions: dict[str, Region]
    contacts: dict[str, Contact]
    name: str = "device"
    description: str = ""
    materials: dict[str, Material] = field(default_factory=dict)
    """Materials by name: the library ones used by regions plus user-defined ones."""
    interfaces: dict[str, Interface] = field(default_factory=dict)
    walls: dict[str, Wall] = field(default_factory=dict)
    fields: Fields = field(default_factory=Fields)
    physics: Physics = field(default_factory=Physics)
    solver: SolverOptions = field(default_factory=SolverOptions)
    output: OutputOptions = field(default_factory=OutputOptions)

    def material_of(self, region: str) -> Material:
        """The material of a region."""
        return self.materials[self.regions[region].material]
