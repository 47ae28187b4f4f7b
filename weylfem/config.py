"""Reading and validating device descriptions (TOML files or Python mappings).

Everything is checked here, before any mesh is built or anything solved: unknown or
missing keys, types, nonphysical values, unknown materials, and names that match no
physical group of the geometry; what only the mesh shows (the shape of a demagnetization
shell) is checked by `check_mesh` once the mesh is built.  Builders assume valid input.
Errors are `ConfigError("FILE", "KEY", "expected ...")`.
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import os
import stat
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.device import (
    ADAPTIVE_NAMES,
    AppliedField,
    Contact,
    Coupling,
    Device,
    Dynamics,
    Fields,
    FourProbe,
    Interface,
    Magnetization,
    OutputOptions,
    Physics,
    Region,
    SolverOptions,
    Torques,
    Transient,
    Wall,
)
from weylfem.errors import ConfigError, has_controls
from weylfem.field_files import read_grid
from weylfem.geometry import GEOMETRIES, DeviceMesh
from weylfem.magnet import torques as _registered_torques  # noqa: F401  [torques.*]
from weylfem.magnet.checkpoint import check_checkpoint_file
from weylfem.magnet.demag import shell_spheres
from weylfem.magnet.fft_demag import CellGrid
from weylfem.magnet.tangent_plane import ITERATIVE_OPTIONS as TANGENT_PLANE_OPTIONS
from weylfem.materials import (
    COUPLING_INPUTS,
    HALL_INPUTS,
    MATERIALS,
    Material,
    derived_quantities,
)
from weylfem.schema import convert, from_table, shown
from weylfem.solvers import (
    DIRECT_OPTIONS,
    check_petsc_options,
    iterative_block_options,
    iterative_spd_options,
)

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
    "magnetization": Magnetization | None,
    "applied_field": AppliedField | None,
    "torques": Torques,
    "dynamics": Dynamics | None,
    "coupling": Coupling | None,
}
_REQUIRED = ("geometry", "regions")
_MAGNET_PARAMETERS = (
    "saturation_magnetization_A_per_m",
    "exchange_stiffness_J_per_m",
    "gilbert_damping",
)
_DEMAGNETIZATION_GROUPS = {
    "open_boundary": (("air", "shell"), ("infinity",)),
    "truncated": (("air",), ("infinity",)),
}
"""Region and boundary groups the mesh needs for each potential-based demagnetization."""


def default_device_text() -> str:
    """The annotated TOML of the built-in default device (what `weylfem init` writes)."""
    return resources.files("weylfem.data").joinpath("default_device.toml").read_text()


def default_device() -> Device:
    """The built-in default device."""
    return parse_device(default_device_text(), DEFAULT_DEVICE_SOURCE)


MAX_FILE_BYTES = 1 << 20
"""Largest device file read (1 MiB): a device file is a few kB; anything larger (or an
endless device such as /dev/zero) is refused, not read into memory."""
MAX_NESTING = 32
"""Deepest nesting of arrays, inline tables and tables in a device file (the deepest a
device needs is about 5); deeper input is refused before the TOML parser recurses."""


def load_device(path: str | Path) -> Device:
    """Read and validate a device TOML file: at most MAX_FILE_BYTES of UTF-8 text."""
    return parse_device(read_device_text(path), str(path))


def read_device_text(path: str | Path) -> str:
    """The text of a device file, read with the size cap MAX_FILE_BYTES (also from a
    device or a pipe) and decoded as UTF-8; ConfigError otherwise."""
    path = Path(path)
    source = str(path)
    limit = f"at most {MAX_FILE_BYTES} bytes ({MAX_FILE_BYTES >> 20} MiB)"
    try:
        # non-blocking open: a named pipe without a writer reads as empty instead of hanging
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as file:
            info = os.fstat(descriptor)
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_FILE_BYTES:
                raise ConfigError(
                    source, "(file)", f"expected a device file of {limit}, got {info.st_size} bytes"
                )
            if hasattr(os, "set_blocking"):
                os.set_blocking(descriptor, True)
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigError(source, "(file)", f"expected a readable TOML file ({reason})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(
            source, "(file)", f"expected a device file of {limit}, got more (not a regular file?)"
        )
    return decode_device_bytes(data, source)


_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode_device_bytes(data: bytes, source: str) -> str:
    """`data` decoded as UTF-8 (a UTF-8 byte-order mark is dropped); ConfigError naming
    what was found and its byte offset otherwise (NUL bytes included: binary files)."""
    expected = "expected a UTF-8 TOML file, got"
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            raise ConfigError(
                source,
                "(file)",
                f"{expected} {encoding} text (byte-order mark {mark.hex()} at byte offset 0;"
                " save it as UTF-8)",
            )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start : error.start + 1].hex()
        raise ConfigError(
            source,
            "(file)",
            f"{expected} the byte 0x{byte}, not UTF-8 ({error.reason}, byte offset"
            f" {error.start}): a binary file, or another encoding?",
        ) from None
    if "\x00" in text:
        raise ConfigError(
            source, "(file)", f"{expected} a NUL byte (byte offset {data.index(0)}): a binary file?"
        )
    return text.removeprefix("\ufeff")


def parse_device(text: str, source: str) -> Device:
    """Parse TOML text; `source` names it in error messages."""
    return device_from_mapping(parse_table(text, source), source)


def parse_table(text: str, source: str) -> dict[str, Any]:
    """The nested plain data of device TOML text (not yet checked as a device)."""
    _check_text_nesting(text, source)
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "(file)", f"expected valid TOML ({error})") from None
    except RecursionError:  # nesting the scan did not count: still one line
        raise ConfigError(source, "(file)", _too_deep()) from None
    _check_table_nesting(table, source)
    return table


def _too_deep(where: str = "") -> str:
    return f"expected arrays and tables nested at most {MAX_NESTING} deep, got deeper{where}"


def _check_text_nesting(text: str, source: str) -> None:
    """Refuse brackets and braces nested deeper than MAX_NESTING, counted outside strings
    and comments, before the recursive TOML parser sees them (it would exhaust the
    stack).  The scan is lexical: the parser still checks the syntax."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                if text[i] == "\\" and c == '"':
                    i += 1
                elif text[i] == "\n":
                    if len(quote) == 1:
                        break  # an unterminated string: the parser reports it
                    line += 1
                i += 1
            i += len(quote)
            continue
        if c == "\n":
            line += 1
        elif c in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise ConfigError(source, "(file)", _too_deep(f" (line {line})"))
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1


def _check_table_nesting(table: Mapping[str, Any], source: str) -> None:
    """Refuse tables nested deeper than MAX_NESTING through dotted keys or table headers
    ([a.b.c...], which the parser reads without recursion).  Iterative."""
    pending: list[tuple[Any, int, str]] = [(table, 0, "")]
    while pending:
        value, depth, key = pending.pop()
        if depth > MAX_NESTING:
            raise ConfigError(source, key, _too_deep())
        if isinstance(value, Mapping):
            pending.extend((v, depth + 1, f"{key}.{k}" if key else k) for k, v in value.items())
        elif isinstance(value, list):
            pending.extend((v, depth + 1, key) for v in value)


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
    _check_name_characters(table, source)
    sections = {
        key: convert(table[key], hint, source, key)
        for key, hint in _SECTIONS.items()
        if key in table
    }
    physics = sections.get("physics", Physics())
    if "contacts" not in table and physics.transport != "none":
        raise ConfigError(source, "contacts", "missing; expected a table")
    if physics.transport == "none":
        for key in _TRANSPORT_SECTIONS:
            if sections.get(key):
                raise ConfigError(
                    source,
                    key,
                    f'expected no {key} with physics.transport = "none" (nothing carries a'
                    f" current), got {', '.join(sections[key])}: remove them, or choose"
                    ' transport = "ohmic" or "charge_valley"',
                )
    for key, names in _FILE_KEYS.items():
        if sections.get(key) is not None:
            sections[key] = _relative_to(sections[key], names, source)
    device = Device(
        geometry=_geometry(table["geometry"], source),
        materials=_materials(table.get("materials", {}), sections["regions"], source),
        contacts=sections.pop("contacts", {}),
        **sections,
    )
    _check_names(device, source)
    _check_magnetization(device, source)
    _check_magnitudes(device, source, _check_field_files(device, source))
    _check_petsc_options(device, source)
    return device


_NAMED_SECTIONS = ("regions", "materials", "contacts", "interfaces", "walls", "four_probe")
"""Sections whose table names are user-chosen names (printed in messages and results)."""
_TRANSPORT_SECTIONS = ("contacts", "interfaces", "walls", "four_probe")
"""Sections that only a transport model uses."""


def _check_name_characters(table: Mapping[str, Any], source: str) -> None:
    """Names (of regions, materials, contacts, ..., and the device's) must be printable:
    a newline or an escape sequence in a name would break or colour every line that
    names it (summaries, results, error messages)."""
    named = [
        (f"{section}.{name}", name)
        for section in _NAMED_SECTIONS
        if isinstance(table.get(section), Mapping)
        for name in table[section]
    ]
    if isinstance(table.get("name"), str):
        named.append(("name", table["name"]))
    for key, name in named:
        if (key != "name" and not name.strip()) or has_controls(name):
            raise ConfigError(
                source,
                key,
                "expected a name of printable characters, not blank and without control"
                f" characters (newlines, tabs, escape sequences), got {name!r}",
            )


def _geometry(table: Any, source: str):
    if not isinstance(table, Mapping):
        raise ConfigError(source, "geometry", f"expected a table, got {shown(table)}")
    kind = table.get("kind")
    if kind not in GEOMETRIES:
        raise ConfigError(source, "geometry.kind", f"expected one of: {', '.join(GEOMETRIES)}")
    path = table.get("path")
    if kind == "file" and isinstance(path, str) and Path(source).is_file():
        table = {**table, "path": str(Path(source).parent / path)}
    return from_table(GEOMETRIES[kind], table, source, "geometry")


_FILE_KEYS = {
    "fields": ("magnetic_field_file", "magnetization_file"),
    "magnetization": ("initial_state_file",),
}
"""Keys of each section that name files."""


def _relative_to(section: Any, names: tuple[str, ...], source: str) -> Any:
    """Files named relative to the device file are read from its directory."""
    if not Path(source).is_file():
        return section
    folder = Path(source).parent
    files = {
        name: str(folder / value) for name in names if (value := getattr(section, name)) is not None
    }
    return dataclasses.replace(section, **files)


def _materials(table: Any, regions: Mapping[str, Region], source: str) -> dict[str, Material]:
    """User-defined materials (optionally `base`d on a library one) plus the library ones used."""
    if not isinstance(table, Mapping):
        raise ConfigError(source, "materials", f"expected a table, got {shown(table)}")
    materials: dict[str, Material] = {}
    for name, entry in table.items():
        key = f"materials.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(source, key, f"expected a table, got {shown(entry)}")
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
            if COUPLING_INPUTS & entry.keys():
                merged.update(dict.fromkeys(("valley_coupling_J_s_per_m", "pumping_damping")))
            if HALL_INPUTS & entry.keys():
                merged["anomalous_hall_conductivity_S_per_m"] = None
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
    transport = device.physics.transport != "none"
    for name in cells:
        if transport and name not in device.regions:
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
    if transport and not device.contacts:
        raise ConfigError(source, "contacts", "expected at least one contact")
    if transport and not any(c.drive == "voltage" for c in device.contacts.values()):
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


def _check_field_files(device: Device, source: str) -> dict[str, float]:
    """Read and check the field files (readable, axes, shape, finite values); returns the
    largest |B| of the magnetic-field file by key.  ConfigError at `source`: the key,
    naming the file, otherwise."""
    largest = {}
    for name in ("magnetic_field_file", "magnetization_file"):
        path, key = getattr(device.fields, name), f"fields.{name}"
        if path is None:
            continue
        try:
            values = read_grid(path, device.geometry.dimension, key)[1]
        except ConfigError as error:
            raise ConfigError(source, key, f"{error.expected} in {path}") from None
        if name == "magnetic_field_file" and values.size:
            with np.errstate(over="ignore"):
                largest[key] = float(np.max(np.linalg.norm(values, axis=-1)))
    return largest


def _check_magnetization(device: Device, source: str) -> None:
    """[dynamics] with its magnetic regions, initial state, demagnetization and drives."""
    drives = {"applied_field": device.applied_field} | {
        f"torques.{name}": torque for name, torque in device.torques.given().items()
    }
    if device.dynamics is None:
        if device.physics.transport == "none":
            raise ConfigError(
                source,
                "dynamics",
                "missing; expected a [dynamics] table with physics.transport = 'none'"
                " (there is nothing else to solve)",
            )
        for key, drive in drives.items():
            if drive is not None:
                raise ConfigError(
                    source, key, "expected a [dynamics] table (it drives the magnetization)"
                )
        return
    if device.physics.transport == "ohmic":
        raise ConfigError(
            source,
            "physics.transport",
            "expected 'none' (magnetization dynamics alone) or 'charge_valley' (coupled to the"
            " valleys) with [dynamics]; the ohmic model has no valley to couple to",
        )
    if device.transient is not None:
        raise ConfigError(
            source,
            "transient",
            "expected no [transient] with [dynamics] ([dynamics] sets the time steps; a"
            " transient valley balance is [coupling] valley = 'transient')",
        )
    magnetization = device.magnetization
    if magnetization is None:
        raise ConfigError(
            source,
            "magnetization",
            "missing; expected a [magnetization] table with [dynamics] (at least"
            " demagnetization = 'open_boundary', 'truncated', 'fem_bem', 'fft', 'thin_film' or"
            " 'none')",
        )
    regions = device.magnetic_regions()
    for name in regions:
        if name not in device.regions:
            raise ConfigError(
                source,
                "magnetization.regions",
                f"expected regions listed under [regions] ({', '.join(device.regions)}),"
                f" got {name!r}",
            )
    if not regions:
        raise ConfigError(
            source,
            "magnetization.regions",
            "expected at least one magnetic region; no region's material has"
            " saturation_magnetization_A_per_m",
        )
    initial_field = magnetization.initial_state_file or device.fields.magnetization_file
    for name in regions:
        material = device.material_of(name)
        missing = [key for key in _MAGNET_PARAMETERS if getattr(material, key) is None]
        if missing:
            raise ConfigError(
                source,
                f"regions.{name}.material",
                f"expected a magnetic material ({', '.join(_MAGNET_PARAMETERS)});"
                f" {material.name!r} has no {', '.join(missing)}",
            )
        if initial_field is None and device.regions[name].magnetization_direction is None:
            raise ConfigError(
                source,
                f"regions.{name}.magnetization_direction",
                "missing; expected the initial direction of m (or fields.magnetization_file"
                " or magnetization.initial_state_file)",
            )
    path = magnetization.initial_state_file
    if path is not None:
        check_checkpoint_file(path, source, "magnetization.initial_state_file")
    _check_sublattice_order(device, regions, source)
    _check_demagnetization_groups(device, regions, source)
    if magnetization.uniform_through_thickness:
        _check_uniform_through_thickness(device, regions, source)
    if device.physics.transport == "charge_valley":
        check_valley_coupling({name: device.material_of(name) for name in regions}, source)
        if device.dynamics.adaptive:
            raise ConfigError(
                source,
                "dynamics.scheme",
                "expected 'bdf2' or 'tangent_plane' with physics.transport = 'charge_valley'"
                " (the coupled run takes dm/dt over each step and its history from the"
                f" tangent-plane schemes; {ADAPTIVE_NAMES} are for the magnet alone), got"
                f" {device.dynamics.scheme!r}",
            )


def _check_sublattice_order(device: Device, regions: tuple[str, ...], source: str) -> None:
    """One magnetic order for all magnetic regions; what a sublattice magnet (docs/theory.md
    §4) supports: the magnet alone, local or no demagnetization, no spin torques, its
    material's interlattice exchange, an initial direction (in the kagome plane)."""
    for name, region in device.regions.items():
        if name not in regions and region.magnetic_order != "ferromagnet":
            raise ConfigError(
                source,
                f"regions.{name}.magnetic_order",
                f"expected 'ferromagnet' (the default) on a region that is not magnetic, got"
                f" {region.magnetic_order!r}",
            )
    orders = {device.regions[name].magnetic_order for name in regions}
    if len(orders) > 1:
        raise ConfigError(
            source,
            f"regions.{regions[0]}.magnetic_order",
            f"expected one magnetic order for all magnetic regions, got {sorted(orders)}",
        )
    order = orders.pop()
    if order == "ferromagnet":
        return
    magnetization = device.magnetization
    unsupported = {
        "physics.transport": (
            device.physics.transport != "none"
            and not (order == "antiferromagnet" and device.physics.transport == "charge_valley"),
            "'none', or 'charge_valley' with a collinear antiferromagnet (the valley coupling"
            " through the Neel vector; a triangular magnet has no l to couple)",
        ),
        "magnetization.demagnetization": (
            magnetization.demagnetization not in ("none", "thin_film"),
            "'none' or 'thin_film' with a sublattice magnet (the net moment is small)",
        ),
        "magnetization.initial_state_file": (
            magnetization.initial_state_file is not None,
            "no value with a sublattice magnet (give the regions' magnetization_direction)",
        ),
        "fields.magnetization_file": (
            device.fields.magnetization_file is not None,
            "no value with a sublattice magnet (give the regions' magnetization_direction)",
        ),
    }
    for name in device.torques.given():
        unsupported[f"torques.{name}"] = (True, "no spin torque on a sublattice magnet")
    for key, (bad, expected) in unsupported.items():
        if bad:
            raise ConfigError(source, key, f"expected {expected}")
    for name in regions:
        material = device.material_of(name)
        if not (material.interlattice_exchange_J_per_m3 or 0.0) > 0:
            raise ConfigError(
                source,
                f"regions.{name}.material",
                f"expected a material with interlattice_exchange_J_per_m3 > 0 for magnetic_order"
                f" {order!r}; {material.name!r} has"
                f" {material.interlattice_exchange_J_per_m3}",
            )
        direction = device.regions[name].magnetization_direction
        if order == "triangular" and math.hypot(direction[0], direction[1]) == 0:
            raise ConfigError(
                source,
                f"regions.{name}.magnetization_direction",
                "expected a direction with a component in the kagome (xy) plane for"
                f" magnetic_order 'triangular', got {list(direction)}",
            )


MAGNITUDE_RANGE = (1e-100, 1e100)
"""Magnitudes (SI units) a nonzero number input must lie within, and the largest
magnitude of a derived coefficient and of its products with the field: far beyond any
physical value, and far enough inside floating-point range (1e+-308) that the assembled
operator (coefficients times powers of the cell size) and the solvers' norms of it stay
finite.  sigma = 1e300 S/m or B = 1e300 T are refused here instead of ending in a
failed factorization after meshing."""


def _out_of_range(value: float, lower: bool = True) -> bool:
    """True for a non-finite value, or a nonzero one outside MAGNITUDE_RANGE (only its
    upper end with lower = False)."""
    low, high = MAGNITUDE_RANGE
    size = abs(value)
    return not math.isfinite(value) or size > high or (lower and 0 < size < low)


def _range_message(value: float, unit: str, lower: bool = True) -> str:
    low, high = MAGNITUDE_RANGE
    bounds = f"between {low:g} and {high:g} {unit} (or 0)" if lower else f"at most {high:g} {unit}"
    return (
        f"expected a magnitude {bounds}: beyond that the operator leaves floating-point"
        f" range; got {value:.6g}"
    ).replace("  ", " ")


def _check_magnitudes(device: Device, source: str, file_fields: Mapping[str, float]) -> None:
    """Every number input, derived coefficient and product with the field that enters an
    operator lies within MAGNITUDE_RANGE; ConfigError naming the input otherwise."""
    for name, material in device.materials.items():
        if material is MATERIALS.get(name):
            continue  # a library material's numbers are checked by its tests
        _check_material_magnitudes(material, f"materials.{name}", source)
    numbers: list[tuple[str, float, str]] = []
    for name, contact in device.contacts.items():
        numbers += [
            (f"contacts.{name}.voltage_V", contact.voltage_V or 0.0, "V"),
            (f"contacts.{name}.current_A", contact.current_A or 0.0, "A"),
            (
                f"contacts.{name}.valley_conductance_S_per_m2",
                contact.valley_conductance_S_per_m2 or 0.0,
                "S/m^2",
            ),
        ]
    for section in ("walls", "interfaces"):
        for name, entry in getattr(device, section).items():
            key = f"{section}.{name}.valley_conductance_S_per_m2"
            numbers.append((key, entry.valley_conductance_S_per_m2, "S/m^2"))
    for section in ("transient", "dynamics"):
        if (entry := getattr(device, section)) is not None:
            numbers += [
                (f"{section}.time_step_s", entry.time_step_s, "s"),
                (f"{section}.end_time_s", entry.end_time_s, "s"),
            ]
    fields = _field_magnitudes(device, file_fields)
    numbers += [(key, size, "T") for key, size in fields.items()]
    for key, value, unit in numbers:
        lower = not key.endswith("_T")  # a weak field is harmless
        if _out_of_range(value, lower):
            raise ConfigError(source, key, _range_message(value, unit, lower))
    if fields:
        _check_field_products(device, fields, source)


def _check_material_magnitudes(material: Material, key: str, source: str) -> None:
    """A user material's inputs and derived coefficients within MAGNITUDE_RANGE."""
    inputs = [
        (f"{key}.{f.name}", getattr(material, f.name), f.metadata.get("unit", ""))
        for f in dataclasses.fields(material)
        if isinstance(getattr(material, f.name), float)
    ]
    for i, carrier in enumerate(material.carriers):
        inputs += [
            (f"{key}.carriers[{i}].mobility_m2_per_Vs", carrier.mobility_m2_per_Vs, "m^2/(V s)"),
            (f"{key}.carriers[{i}].conductivity_S_per_m", carrier.conductivity_S_per_m, "S/m"),
        ]
    for name, value, unit in inputs:
        if value is not None and _out_of_range(value):
            raise ConfigError(source, name, _range_message(value, unit))
    derived = [(q.symbol, q.name, q.value, q.unit) for q in derived_quantities(material)]
    n, tau = material.density_of_states_per_J_m3, material.valley_relaxation_time_s
    if n is not None and tau is not None:
        rate = ELEMENTARY_CHARGE**2 * n / tau
        derived.append(("e^2 N/tau_v", "valley relaxation coefficient", rate, "S/m^3"))
    for symbol, label, value, unit in derived:
        if _out_of_range(value, lower=False):
            raise ConfigError(
                source,
                key,
                f"expected inputs whose derived coefficients stay below {MAGNITUDE_RANGE[1]:g}"
                f" in SI units (beyond that the operator leaves floating-point range); got"
                f" {symbol} = {value:.6g} {unit} ({label})".rstrip(),
            )


def _field_magnitudes(device: Device, file_fields: Mapping[str, float]) -> dict[str, float]:
    """|B| (T) of every field input, by key: uniform, per region, applied, from files."""
    fields = {"fields.magnetic_field_T": _norm(device.fields.magnetic_field_T)}
    for name, region in device.regions.items():
        if region.magnetic_field_T is not None:
            fields[f"regions.{name}.magnetic_field_T"] = _norm(region.magnetic_field_T)
    if device.applied_field is not None:
        fields["applied_field.amplitude_T"] = _norm(device.applied_field.amplitude_T)
    fields.update(file_fields)
    return {key: size for key, size in fields.items() if size != 0}


def _norm(vector: tuple[float, ...]) -> float:
    """|vector|, inf when it overflows (math.hypot scales: finite components stay finite
    unless the norm itself overflows)."""
    return math.hypot(*vector)


def _check_field_products(device: Device, fields: Mapping[str, float], source: str) -> None:
    """The largest field times each material coefficient it multiplies (anomaly Gamma B,
    Son-Spivak dsigma/B^2 B^2, Drude (mu B)^2, precession gamma B, Zeeman M_s B) below
    the upper end of MAGNITUDE_RANGE; ConfigError naming the field input otherwise."""
    key = max(fields, key=fields.__getitem__)
    field = fields[key]
    for region in device.regions:
        material = device.material_of(region)
        products = [
            ("Gamma |B|", material.anomaly_coefficient_A_per_m2_V_T, 1),
            ("(dsigma/B^2) |B|^2", material.son_spivak_coefficient_S_per_m_T2, 2),
            ("gamma |B|", material.gyromagnetic_ratio_rad_per_s_T, 1),
            ("M_s |B|", material.saturation_magnetization_A_per_m, 1),
            *(("mu^2 |B|^2", c.mobility_m2_per_Vs**2, 2) for c in material.carriers),
        ]
        for symbol, coefficient, power in products:
            if coefficient is None:
                continue
            value = coefficient
            for _ in range(power):  # products, not **, which raises OverflowError
                value *= field
            if _out_of_range(value, lower=False):
                raise ConfigError(
                    source,
                    key,
                    f"expected a field whose products with the material coefficients stay"
                    f" below {MAGNITUDE_RANGE[1]:g} in SI units (beyond that the operator leaves"
                    f" floating-point range); got |B| = {field:.6g} T, {symbol} = {value:.6g}"
                    f" in region {region!r} ({material.name})",
                )


def _check_petsc_options(device: Device, source: str) -> None:
    """solver.petsc_options tried on tiny solvers with the defaults of every solver the
    run may build (`weylfem.solvers.check_petsc_options`): unknown values and option
    names are refused before meshing."""
    options = device.solver.petsc_options
    if not options:
        return
    kinds = ("direct", "iterative") if device.solver.kind == "auto" else (device.solver.kind,)
    dimension = device.geometry.dimension
    solvers: dict[str, dict[str, str]] = {}
    if device.physics.transport == "charge_valley":
        solvers["transport"] = iterative_block_options(2, dimension)
    elif device.physics.transport == "ohmic":
        solvers["transport"] = iterative_spd_options(dimension)
    if device.dynamics is not None:
        solvers["LLG step"] = dict(TANGENT_PLANE_OPTIONS)
    configurations = {
        f"{kind} {name} solver": DIRECT_OPTIONS
        if kind == "direct"
        else {**iterative, "ksp_rtol": str(device.solver.rtol)}
        for name, iterative in solvers.items()
        for kind in kinds
    }
    problem = check_petsc_options(options, configurations)
    if problem is not None:
        key, expected = problem
        raise ConfigError(source, f"solver.petsc_options.{key}", expected)


def check_valley_coupling(materials: Mapping[str, Material], source: str) -> None:
    """Magnets coupled to the valleys (region name -> material) need eta and
    alpha >= alpha_p = (gamma/M_s) sigma_v (eta/e)^2 (else the model is not dissipative,
    docs/theory.md Sec. 3, "Valley–magnet coupling"); ConfigError naming `source` otherwise."""
    for name, material in materials.items():
        key = f"regions.{name}.material"
        if material.eta is None:
            raise ConfigError(
                source,
                key,
                f"expected valley_coupling_J_s_per_m, pumping_damping or"
                f" node_half_separation_per_m in {material.name!r} (eta couples m to the"
                " valleys)",
            )
        alpha_p = material.alpha_p
        if material.gilbert_damping < alpha_p:
            raise ConfigError(
                source,
                key,
                f"expected gilbert_damping alpha >= alpha_p in {material.name!r}; it has"
                f" alpha = {material.gilbert_damping:.4g} < alpha_p = {_alpha_p_origin(material)}:"
                " below it the coupled model creates energy (alpha includes the damping valley"
                " pumping causes): raise alpha, or lower |eta| or sigma_v",
            )


def _alpha_p_origin(material: Material) -> str:
    """alpha_p with the inputs it comes from, for the refusal message."""
    if material.pumping_damping is not None:
        return f"{material.alpha_p:.4g} (pumping_damping)"
    origin = (
        "valley_coupling_J_s_per_m"
        if material.valley_coupling_J_s_per_m is not None
        else "hbar k0, k0 from "
        + (
            "node_half_separation_per_m"
            if material.node_half_separation_per_m is not None
            else "anomalous_hall_conductivity_S_per_m"
        )
    )
    return (
        f"{material.alpha_p:.4g} = (gamma/M_s) sigma_v (eta/e)^2 with gamma ="
        f" {material.gyromagnetic_ratio_rad_per_s_T:.4g} rad/(s T), M_s ="
        f" {material.saturation_magnetization_A_per_m:.4g} A/m, sigma_v = {material.sigma_v:.4g}"
        f" S/m, eta = {material.eta:.4g} J s/m ({origin})"
    )


def _check_uniform_through_thickness(device: Device, regions: tuple[str, ...], source: str) -> None:
    """m uniform through the thickness needs the film meshed in layers, and the steppers
    that take the nodal field (rk45, rkf45, Barzilai-Borwein relaxation) of a ferromagnet."""
    key = "magnetization.uniform_through_thickness"
    if getattr(device.geometry, "layers", None) is None:
        raise ConfigError(
            source,
            key,
            "expected geometry.layers (the film meshed in layers through its thickness:"
            f" geometry.kind = 'magnet_body', a box alone in 3D), got kind"
            f" {device.geometry.kind!r} without layers",
        )
    dynamics = device.dynamics
    if dynamics.end_time_s > 0 and not dynamics.adaptive:
        raise ConfigError(
            source,
            "dynamics.scheme",
            f"expected {ADAPTIVE_NAMES} with {key} = true (the tangent-plane schemes solve"
            f" for the full 3D m), got {dynamics.scheme!r}",
        )
    if dynamics.relax_first and dynamics.relax_method != "barzilai_borwein":
        raise ConfigError(
            source,
            "dynamics.relax_method",
            f"expected 'barzilai_borwein' with {key} = true (the gradient flow is a"
            f" tangent-plane scheme), got {dynamics.relax_method!r}",
        )
    if device.regions[regions[0]].magnetic_order != "ferromagnet":
        raise ConfigError(source, key, "expected false with a sublattice magnet, got true")


def _check_demagnetization_groups(device: Device, regions: tuple[str, ...], source: str) -> None:
    """A potential-based demagnetization needs the space around the magnet in the mesh."""
    kind = device.magnetization.demagnetization
    if kind in ("fem_bem", "fft") and device.geometry.dimension != 3:
        why = {
            "fem_bem": "its boundary elements are the triangles of the magnet's surface",
            "fft": "its cells are cuboids of the magnet's volume",
        }[kind]
        raise ConfigError(
            source,
            "magnetization.demagnetization",
            f"expected a 3D geometry for {kind!r} ({why}), got geometry.dimension ="
            f" {device.geometry.dimension}",
        )
    if kind not in _DEMAGNETIZATION_GROUPS:
        return
    cells, facets = device.geometry.cell_groups(), device.geometry.facet_groups()
    needed_cells, needed_facets = _DEMAGNETIZATION_GROUPS[kind]
    if not (set(needed_cells) <= set(cells) and set(needed_facets) <= set(facets)):
        raise ConfigError(
            source,
            "magnetization.demagnetization",
            f"expected a mesh with the region groups {', '.join(needed_cells)} and the boundary"
            f" group {', '.join(needed_facets)} for {kind!r} (geometry.kind = 'magnet_body');"
            f" this one has regions {', '.join(cells)} and boundaries {', '.join(facets)}",
        )
    for name in needed_cells:
        if name in regions:
            raise ConfigError(
                source,
                "magnetization.regions",
                f"expected the magnet only; {name!r} is the space around it",
            )


def check_mesh(device: Device, device_mesh: DeviceMesh, source: str = "device") -> None:
    """What only the mesh shows: the open-boundary demagnetization's shell must lie between
    two concentric spheres.  Collective (the same ConfigError on every rank)."""
    magnetization = device.magnetization
    if device.dynamics is None:
        return
    if magnetization.demagnetization == "fft":
        _check_fft_grid(device, device_mesh, source)
    if magnetization.demagnetization != "open_boundary":
        return
    if shell_spheres(device_mesh) is None:
        raise ConfigError(
            source,
            "magnetization.demagnetization",
            "expected a shell between two concentric spheres",
        )


def _check_fft_grid(device: Device, device_mesh: DeviceMesh, source: str) -> None:
    """Every magnetic element of an 'fft' demagnetization must lie in one of its cells."""
    groups = [device_mesh.cell_groups[name] for name in device.magnetic_regions()]
    tags = device_mesh.cell_tags
    grid = CellGrid(
        device_mesh.mesh, tags.indices[np.isin(tags.values, groups)], device.magnetization.fft_cells
    )
    crossing, elements = grid.crossing_elements()
    if crossing:
        raise ConfigError(
            source,
            "magnetization.fft_cells",
            "expected cells each holding whole elements (a film in geometry.layers with"
            " in_plane_mesh = 'grid', and fft_cells dividing its grid and its layers); "
            f"{crossing} of {elements} elements cross cell faces of the"
            f" {' x '.join(map(str, grid.shape))} grid",
        )


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
    if device.magnetization is not None and device.dynamics is None:
        warnings.append("[magnetization] is used only by [dynamics]")
    elif _stray_field_missed(device):
        warnings.append(
            f"demagnetization = {device.magnetization.demagnetization!r} gives no stray field"
            " outside the magnet: the carriers of the non-magnetic regions feel no mu_0 H_d"
            " ('open_boundary' gives it)"
        )
    return warnings


def _stray_field_missed(device: Device) -> bool:
    """A coupled run whose carriers outside the magnet would feel its stray field, which
    the 'fem_bem' and 'fft' demagnetizations do not compute."""
    if device.magnetization is None or device.magnetization.demagnetization not in (
        "fem_bem",
        "fft",
    ):
        return False
    coupling = device.coupling
    if device.physics.transport != "charge_valley" or (coupling and not coupling.magnet_induction):
        return False
    magnetic = set(device.magnetic_regions())
    return any(name not in magnetic for name in device.regions)
