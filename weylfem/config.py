"""Reading and validating device descriptions (TOML files or Python mappings).

Everything is checked here, before any mesh is built or anything solved: unknown or
missing keys, types, nonphysical values, unknown materials, and names that match no
physical group of the geometry.  Errors are `ConfigError("FILE", "KEY", "expected ...")`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import tomllib

from weylfem.device import (
    Contact,
    Device,
    Fields,
    FourProbe,
    Interface,
    OutputOptions,
    Physics,
    Region,
    SolverOptions,
    Transient,
    Wall,
)
from weylfem.errors import ConfigError
from weylfem.geometry import GEOMETRIES
from weylfem.materials import MATERIALS, Material
from weylfem.schema import convert, from_table

DEFAULT_DEVICE_SOURCE = "<default device>"

_SECTIONS: dict[str, Any] = {
    "name": str,
    "description": str,
    "regions": dict[str, Region],
    "contacts": dict[str, Contact],
    "interfaces": dict[str, Interface],
    "walls": dict[str, Wall],
    "four_probe": dict[str, FourProbe],
    "fields": Fields,
    "physics": Physics,
    "solver": SolverOptions,
    "output": OutputOptions,
    "transient": Transient | None,
}
_REQUIRED = ("geometry", "regions", "contacts")


def default_device_text() -> str:
    """The annotated TOML of the built-in default device (what `weylfem init` writes)."""
    return resources.files("weylfem.data").joinpath("default_device.toml").read_text()


def default_device() -> Device:
    """The built-in default device."""
    return parse_device(default_device_text(), DEFAULT_DEVICE_SOURCE)


def load_device(path: str | Path) -> Device:
    """Read and validate a device TOML file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(
            str(path), "(file)", f"expected a readable TOML file ({error.strerror})"
        ) from None
    return parse_device(text, str(path))


def parse_device(text: str, source: str) -> Device:
    """Parse TOML text; `source` names it in error messages."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "(file)", f"expected valid TOML ({error})") from None
    return device_from_mapping(table, source)


def device_from_mapping(table: Mapping[str, Any], source: str = "<mapping>") -> Device:
    """Build and validate a Device from nested plain data (as read from TOML)."""
    known = set(_SECTIONS) | {"geometry", "materials"}
    for key in table:
        if key not in known:
            raise ConfigError(
                source, key, f"unknown key; expected one of: {', '.join(sorted(known))}"
            )
    for key in _REQUIRED:
        if key not in table:
            raise ConfigError(source, key, "missing; expected a table")
    sections = {
        key: convert(table[key], hint, source, key)
        for key, hint in _SECTIONS.items()
        if key in table
    }
    if "fields" in sections:
        sections["fields"] = _relative_to(sections["fields"], source)
    device = Device(
        geometry=_geometry(table["geometry"], source),
        materials=_materials(table.get("materials", {}), sections["regions"], source),
        **sections,
    )
    _check_names(device, source)
    return device


def _geometry(table: Any, source: str):
    if not isinstance(table, Mapping):
        raise ConfigError(source, "geometry", f"expected a table, got {table!r}")
    kind = table.get("kind")
    if kind not in GEOMETRIES:
        raise ConfigError(source, "geometry.kind", f"expected one of: {', '.join(GEOMETRIES)}")
    path = table.get("path")
    if kind == "file" and isinstance(path, str) and Path(source).is_file():
        table = {**table, "path": str(Path(source).parent / path)}
    return from_table(GEOMETRIES[kind], table, source, "geometry")


def _relative_to(fields: Fields, source: str) -> Fields:
    """Field files named relative to the device file are read from its directory."""
    if not Path(source).is_file():
        return fields
    folder = Path(source).parent
    files = {
        name: str(folder / value)
        for name in ("magnetic_field_file", "magnetization_file")
        if (value := getattr(fields, name)) is not None
    }
    return dataclasses.replace(fields, **files)


def _materials(table: Any, regions: Mapping[str, Region], source: str) -> dict[str, Material]:
    """User-defined materials (optionally `base`d on a library one) plus the library ones used."""
    if not isinstance(table, Mapping):
        raise ConfigError(source, "materials", f"expected a table, got {table!r}")
    materials: dict[str, Material] = {}
    for name, entry in table.items():
        key = f"materials.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(source, key, f"expected a table, got {entry!r}")
        entry = dict(entry)
        base = entry.pop("base", None)
        merged: dict[str, Any] = {}
        if base is not None:
            if base not in MATERIALS:
                raise ConfigError(
                    source, f"{key}.base", f"expected a library material ({', '.join(MATERIALS)})"
                )
            merged = dataclasses.asdict(MATERIALS[base])
            merged["sources"] = list(merged["sources"])
        merged.update(entry)
        merged["name"] = name
        materials[name] = from_table(Material, merged, source, key)
    for region_name, region in regions.items():
        if region.material in materials:
            continue
        if region.material not in MATERIALS:
            choices = sorted(set(MATERIALS) | set(materials))
            raise ConfigError(
                source,
                f"regions.{region_name}.material",
                f"expected a known material ({', '.join(choices)}), got {region.material!r}",
            )
        materials[region.material] = MATERIALS[region.material]
    return materials


def _check_names(device: Device, source: str) -> None:
    """Every name must be a physical group of the geometry; every region needs a material."""
    cells = device.geometry.cell_groups()
    facets = device.geometry.facet_groups()
    for name in cells:
        if name not in device.regions:
            raise ConfigError(
                source, f"regions.{name}", "missing; every region of the mesh needs a material"
            )
    named = (
        ("regions", device.regions, cells),
        ("contacts", device.contacts, facets),
        ("interfaces", device.interfaces, facets),
        ("walls", device.walls, facets),
    )
    for section, entries, groups in named:
        for name in entries:
            if name not in groups:
                raise ConfigError(
                    source,
                    f"{section}.{name}",
                    f"expected the name of a mesh group ({', '.join(groups)})",
                )
    if not device.contacts:
        raise ConfigError(source, "contacts", "expected at least one contact")
    if not any(contact.drive == "voltage" for contact in device.contacts.values()):
        raise ConfigError(
            source, "contacts", "expected at least one voltage-driven contact (a reference)"
        )
    for name, probe in device.four_probe.items():
        for key in ("current", "voltage"):
            for i, contact in enumerate(getattr(probe, key)):
                if contact not in device.contacts:
                    raise ConfigError(
                        source,
                        f"four_probe.{name}.{key}[{i}]",
                        f"expected a contact ({', '.join(device.contacts)}), got {contact!r}",
                    )
        for key in ("current", "voltage"):
            pair = getattr(probe, key)
            if pair[0] == pair[1]:
                raise ConfigError(
                    source, f"four_probe.{name}.{key}", f"expected two different contacts: {pair}"
                )
    for name in ("magnetic_field_file", "magnetization_file"):
        path = getattr(device.fields, name)
        if path is not None and not Path(path).is_file():
            raise ConfigError(source, f"fields.{name}", f"expected a readable .npz file: {path}")
    if device.transient is not None and device.physics.transport != "charge_valley":
        raise ConfigError(
            source,
            "transient",
            "expected physics.transport = 'charge_valley' (the ohmic model has no dynamics)",
        )
    if device.physics.transport == "charge_valley":
        for region in device.regions:
            material = device.material_of(region)
            if material.valley_diffusion_length_m is None:
                raise ConfigError(
                    source,
                    f"regions.{region}.material",
                    f"expected a material with a valley diffusion length for the charge_valley"
                    f" model (v_F, mu_F, Weyl node pairs and tau_v); {material.name!r} has none",
                )
    materials = [device.material_of(region) for region in device.regions]
    if device.geometry.resolve_valley_layers and not any(
        m.valley_diffusion_length_m for m in materials
    ):
        raise ConfigError(
            source,
            "geometry.resolve_valley_layers",
            "expected a region material with a valley diffusion length (v_F, mu_F, tau_v)",
        )
    if device.geometry.resolve_exchange_length and not any(m.exchange_length_m for m in materials):
        raise ConfigError(
            source,
            "geometry.resolve_exchange_length",
            "expected a magnetic region material (saturation magnetization and exchange stiffness)",
        )
    for name in device.walls:
        if name in device.contacts:
            raise ConfigError(source, f"walls.{name}", "expected a boundary that is not a contact")


def unused_settings(device: Device) -> list[str]:
    """Settings the chosen model ignores, as warnings for the user."""
    warnings = []
    if device.physics.transport == "ohmic":
        uses_field = any(device.fields.magnetic_field_T) or device.fields.magnetic_field_file
        if uses_field or any(r.magnetic_field_T for r in device.regions.values()):
            warnings.append("the magnetic field is not used by the 'ohmic' transport model")
        if any(c.valley_conductance_S_per_m2 is not None for c in device.contacts.values()):
            warnings.append("contact valley conductances are not used by the 'ohmic' model")
        for section in ("walls", "interfaces"):
            if getattr(device, section):
                warnings.append(f"{section}: valley relaxation is not used by the 'ohmic' model")
    return warnings
