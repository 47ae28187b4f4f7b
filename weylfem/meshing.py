"""Meshing a device: its geometry plus the refinements its physics asks for.

`resolve_valley_layers` refines toward every valley-relaxing boundary (contacts, walls
and interfaces with G_v > 0) so that at least `VALLEY_LAYER_ELEMENTS` elements span one
valley diffusion length λ_v of the adjacent material; `resolve_exchange_length` caps
the element size at the exchange length in magnetic regions.
"""

from __future__ import annotations

from mpi4py import MPI

from weylfem.device import Device
from weylfem.geometry import DeviceMesh, Refinement, build_device_mesh
from weylfem.geometry.units import METRES_PER_UNIT

VALLEY_LAYER_ELEMENTS = 5
"""Elements required across one λ_v next to a valley-relaxing boundary."""
LONGEST_EDGE_OVER_TARGET = {2: 1.35, 3: 2.5}
"""Largest cell diameter (longest edge) over the size requested from gmsh's size fields,
measured on refined bars (tests/test_geometry.py): about 1.3 for triangles and up to 2.4 for
tetrahedra.  Requested sizes are divided by it so that the *measured* size meets the
requirement."""
VALLEY_LAYER_DEPTH = 2.0
"""The fine layer extends this many λ_v from the boundary, then grows over as many more."""


def valley_relaxing_groups(device: Device) -> tuple[str, ...]:
    """Boundaries that relax valley imbalance: contacts that hold phi_v = 0 or have
    G_v > 0, and walls/interfaces with G_v > 0."""
    relaxing = [
        name
        for name, contact in device.contacts.items()
        if contact.valley_conductance_S_per_m2 is None or contact.valley_conductance_S_per_m2 > 0
    ]
    for entries in (device.walls, device.interfaces):
        relaxing += [
            name for name, entry in entries.items() if entry.valley_conductance_S_per_m2 > 0
        ]
    return tuple(relaxing)


def shortest_valley_length_m(device: Device) -> float | None:
    """The smallest λ_v among the device's region materials (None if none has one)."""
    lengths = [device.material_of(region).valley_diffusion_length_m for region in device.regions]
    lengths = [length for length in lengths if length is not None]
    return min(lengths) if lengths else None


def device_refinements(device: Device) -> list[Refinement]:
    """Refinements the device's physics asks for, in the geometry's length unit."""
    unit = METRES_PER_UNIT[device.geometry.length_unit]
    overshoot = LONGEST_EDGE_OVER_TARGET[device.geometry.dimension]
    refinements = []
    if device.geometry.resolve_valley_layers:
        length = shortest_valley_length_m(device) / unit
        refinements.append(
            Refinement(
                groups=valley_relaxing_groups(device),
                size=length / VALLEY_LAYER_ELEMENTS / overshoot,
                distance=VALLEY_LAYER_DEPTH * length,
                transition=VALLEY_LAYER_DEPTH * length,
            )
        )
    if device.geometry.resolve_exchange_length:
        for region in device.regions:
            length = device.material_of(region).exchange_length_m
            if length is not None:
                refinements.append(Refinement(groups=(region,), size=length / unit / overshoot))
    return refinements


def mesh_device(device: Device, comm: MPI.Comm = MPI.COMM_WORLD) -> DeviceMesh:
    """The distributed mesh of a device, with its physics-driven refinements."""
    return build_device_mesh(device.geometry, comm, device_refinements(device))
