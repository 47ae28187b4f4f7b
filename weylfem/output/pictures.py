"""The pictures of a run's fields and of a mesh, from the DOLFINx objects of the run:
gathered on rank 0 as plain arrays (`weylfem.output.gather`) and drawn by
`weylfem.output.maps`, the functions `weylfem plot` draws the same pictures with from
the files.  Collective; rank 0 draws."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dolfinx import fem

from weylfem.device import Device
from weylfem.geometry import DeviceMesh
from weylfem.output.device_arrays import contact_roles
from weylfem.output.gather import gather_device_arrays
from weylfem.output.maps import draw_field, draw_mesh, field_title


def render_fields(
    directory: Path, device: Device, device_mesh: DeviceMesh, fields: list[fem.Function]
) -> dict[str, str]:
    """<name>.png of every P1 field (phi_c, phi_v) of a device; returns the outputs
    (key '<name>_png')."""
    roles = contact_roles(dataclasses.asdict(device))
    gathered = gather_device_arrays(device_mesh, device.geometry.length_unit, fields, roles)
    outputs = {f"{f.name}_png": f"{f.name}.png" for f in fields}
    if gathered is None:
        return outputs
    arrays, values = gathered
    for field in fields:
        title = field_title(device.name, field.name)
        path = Path(directory) / f"{field.name}.png"
        draw_field(path, arrays, values[field.name], field.name, title)
    return outputs


def render_png(path: Path, field: fem.Function, title: str, length_unit: str = "um") -> None:
    """The picture of one P1 field on a mesh without named groups (e.g. a demo's)."""
    device_mesh = DeviceMesh.single_region(field.function_space.mesh, "domain", "boundary")
    gathered = gather_device_arrays(device_mesh, length_unit, [field])
    if gathered is not None:
        arrays, values = gathered
        draw_field(Path(path), arrays, values[field.name], field.name, title)


def render_mesh_preview(
    path: Path, device_mesh: DeviceMesh, title: str, length_unit: str, roles: dict[str, str]
) -> None:
    """The picture of a mesh (regions, named boundaries, contacts labelled)."""
    gathered = gather_device_arrays(device_mesh, length_unit, [], roles)
    if gathered is not None:
        draw_mesh(Path(path), gathered[0], title)
