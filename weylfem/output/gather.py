"""A distributed device mesh and its P1 fields gathered on rank 0 as plain arrays
(`DeviceArrays`), for the pictures of `weylfem.output.maps`.  Points are numbered by
their index in the mesh as it was read (gmsh's numbering), so every partition gives the
same arrays; collective."""

from __future__ import annotations

import numpy as np
from dolfinx import fem

from weylfem import compat
from weylfem.geometry import DeviceMesh
from weylfem.output.device_arrays import DeviceArrays, canonical, metres_per_unit


def gather_device_arrays(
    device_mesh: DeviceMesh,
    length_unit: str,
    fields: list[fem.Function] = (),
    contact_roles: dict[str, str] | None = None,
) -> tuple[DeviceArrays, dict[str, np.ndarray]] | None:
    """On rank 0: the device arrays and the values of the P1 `fields` (by name) at their
    points; None on the other ranks."""
    mesh = device_mesh.mesh
    dim = mesh.topology.dim
    space = fields[0].function_space if fields else compat.function_space(mesh, "Lagrange", 1)
    numbers = compat.input_node_indices(space)
    coordinates = space.tabulate_dof_coordinates()[: len(numbers)]
    owned = mesh.topology.index_map(dim).size_local
    cells = numbers[compat.cell_dof_rows(space)[:owned]]
    regions = np.zeros(owned, dtype=np.int64)
    tags = device_mesh.cell_tags
    mine = tags.indices < owned
    regions[tags.indices[mine]] = tags.values[mine]
    facet_tags = device_mesh.facet_tags
    topology, _, _ = compat.entity_vtk_mesh(mesh, dim - 1, facet_tags.indices)
    facet_nodes = np.asarray(topology).reshape(len(facet_tags.indices), -1)[:, 1:]
    node_numbers = np.asarray(mesh.geometry.input_global_indices, dtype=np.int64)
    facets = node_numbers[facet_nodes] if len(facet_nodes) else np.zeros((0, dim), np.int64)
    values = {f.name: f.x.array.real[: len(numbers)].copy() for f in fields}
    piece = (numbers, coordinates, cells, regions, facets, facet_tags.values, values)
    pieces = mesh.comm.gather(piece, root=0)
    if mesh.comm.rank != 0:
        return None
    all_numbers = np.concatenate([p[0] for p in pieces])
    order, first = np.unique(all_numbers, return_index=True)
    points = np.concatenate([p[1] for p in pieces])[first]
    field_values = {name: np.concatenate([p[6][name] for p in pieces])[first] for name in values}

    def renumber(rows):
        return np.searchsorted(order, rows)

    cells, regions = canonical(
        renumber(np.concatenate([p[2] for p in pieces])),
        np.concatenate([p[3] for p in pieces]),
    )
    facets, facet_values = canonical(
        renumber(np.concatenate([p[4] for p in pieces]).astype(np.int64)),
        np.concatenate([np.asarray(p[5], dtype=np.int64) for p in pieces]),
    )
    arrays = DeviceArrays(
        points=points / metres_per_unit(length_unit),
        cells=cells,
        regions=regions,
        facets=facets,
        facet_tags=facet_values,
        dimension=dim,
        length_unit=length_unit,
        region_names=dict(device_mesh.cell_groups),
        facet_names=dict(device_mesh.facet_groups),
        contact_roles=dict(contact_roles or {}),
    )
    return arrays, field_values
