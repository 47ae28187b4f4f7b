"""Mesh control, imports and distribution: boundary layers resolved, tags kept, clear errors."""

import gmsh
import numpy as np
import pytest
from conftest import ROOT, bar_table
from mpi4py import MPI

from weylfem import compat
from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError
from weylfem.geometry import (
    GEOMETRIES,
    BarGeometry,
    Refinement,
    build_device_mesh,
    measure_groups,
)
from weylfem.meshing import (
    LONGEST_EDGE_OVER_TARGET,
    VALLEY_LAYER_ELEMENTS,
    mesh_device,
    shortest_valley_length_m,
)

pytestmark = pytest.mark.mpi

MIN_QUALITY = 0.3
"""Smallest accepted gmsh signed inverse condition number (SICN) of an element."""


def device_table(**geometry) -> dict:
    table = bar_table()
    table["geometry"].update(geometry)
    return table


def cell_sizes_near(device_mesh, x_targets, distance):
    """Largest cell diameter (m) among cells whose midpoint is within `distance` (m) in x."""
    mesh = device_mesh.mesh
    dim = mesh.topology.dim
    cells = np.arange(mesh.topology.index_map(dim).size_local, dtype=np.int32)
    midpoints = compat.cell_midpoints(mesh, cells)
    near = np.min([np.abs(midpoints[:, 0] - x) for x in x_targets], axis=0) <= distance
    sizes = compat.cell_diameters(mesh, cells)
    local_near = sizes[near].max() if near.any() else 0.0
    local_far = sizes[~near].max() if (~near).any() else 0.0
    comm = device_mesh.comm
    return comm.allreduce(local_near, op=MPI.MAX), comm.allreduce(local_far, op=MPI.MAX)


@pytest.mark.parametrize("dimension", [2, 3])
def test_valley_boundary_layers_are_resolved(dimension, comm):
    # contacts relax valley (phi_v = 0): 5+ elements must span lambda_v next to them
    table = device_table(
        dimension=dimension,
        length=8.0,
        width=1.0,
        thickness=0.5,
        mesh_size=0.5,
        resolve_valley_layers=True,
    )
    device = device_from_mapping(table, "layers")
    lam = shortest_valley_length_m(device)
    # Co3Sn2S2: sqrt(sigma_v tau_v / (e^2 N)) = sqrt(1.5e5 * 5e-11 / 7.685e7) = 0.3124 um
    assert lam == pytest.approx(0.3124e-6, rel=1e-3)
    device_mesh = mesh_device(device, comm)
    near, far = cell_sizes_near(device_mesh, [0.0, 8.0e-6], lam)
    assert near <= lam / VALLEY_LAYER_ELEMENTS, (near, lam)
    assert far > 1.5 * near  # the refinement is local, not a globally fine mesh
    assert device_mesh.quality["min_sicn"] >= MIN_QUALITY


def test_explicit_refinement_toward_a_group(comm):
    geometry = BarGeometry(
        dimension=2,
        length=8.0,
        width=1.0,
        mesh_size=0.5,
        refine=(Refinement(groups=("drain",), size=0.05, distance=0.4, transition=1.0),),
    )
    device_mesh = build_device_mesh(geometry, comm)
    near_drain, _ = cell_sizes_near(device_mesh, [8.0e-6], 0.4e-6)
    near_source, _ = cell_sizes_near(device_mesh, [0.0], 0.4e-6)
    assert near_drain <= 0.05e-6 * LONGEST_EDGE_OVER_TARGET[2]
    assert near_source > 0.3e-6


def test_refinement_names_must_exist():
    with pytest.raises(ConfigError) as info:
        device_from_mapping(device_table(refine=[{"groups": ["gate"], "size": 0.1}]), "dev.toml")
    assert str(info.value).startswith("dev.toml: geometry.refine[0].groups: expected names")
    assert "drain" in str(info.value)


def test_valley_layers_need_a_valley_material():
    table = device_table(resolve_valley_layers=True)
    table["regions"]["channel"]["material"] = "permalloy"
    with pytest.raises(ConfigError) as info:
        device_from_mapping(table, "dev.toml")
    assert str(info.value).startswith("dev.toml: geometry.resolve_valley_layers: expected")


@pytest.mark.parametrize("dimension", [2, 3])
def test_tags_identical_on_one_and_all_ranks(dimension, comm):
    geometry = BarGeometry(dimension=dimension, contact_width=1.0, mesh_size=0.4)
    distributed = build_device_mesh(geometry, comm)
    serial = build_device_mesh(geometry, MPI.COMM_SELF)

    def owned_counts(device_mesh, tags, dim):
        size_local = device_mesh.mesh.topology.index_map(dim).size_local
        owned = tags.values[tags.indices < size_local]
        values, counts = np.unique(owned, return_counts=True)
        local = dict(zip(values.tolist(), counts.tolist(), strict=True))
        gathered = device_mesh.comm.allgather(local)
        return {v: sum(g.get(v, 0) for g in gathered) for v in set().union(*gathered)}

    for tags_of, dim in (
        (lambda m: m.cell_tags, dimension),
        (lambda m: m.facet_tags, dimension - 1),
    ):
        assert owned_counts(distributed, tags_of(distributed), dim) == owned_counts(
            serial, tags_of(serial), dim
        )
    assert distributed.cell_groups == serial.cell_groups
    assert distributed.facet_groups == serial.facet_groups


def write_msh(path, dimension: int) -> None:
    """A two-region mesh file (film on substrate, named interface) made with gmsh directly."""
    gmsh.initialize(interruptible=False)
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.model.add("two-regions")
    occ = gmsh.model.occ
    if dimension == 3:
        a, b = occ.addBox(0, 0, 0, 4, 1, 1), occ.addBox(0, 0, 1, 4, 1, 0.5)
    else:
        a, b = occ.addRectangle(0, 0, 0, 4, 1), occ.addRectangle(0, 1, 0, 4, 0.5)
    occ.fragment([(dimension, a)], [(dimension, b)])
    occ.synchronize()
    gmsh.model.addPhysicalGroup(dimension, [a], 1, name="substrate")
    gmsh.model.addPhysicalGroup(dimension, [b], 2, name="film")
    shared = set(gmsh.model.getAdjacencies(dimension, a)[1]) & set(
        gmsh.model.getAdjacencies(dimension, b)[1]
    )
    gmsh.model.addPhysicalGroup(dimension - 1, sorted(shared), 1, name="interface")
    ends = []
    for _, tag in gmsh.model.getBoundary([(dimension, b)], oriented=False):
        x = occ.getCenterOfMass(dimension - 1, tag)[0]
        if abs(x) < 1e-9 or abs(x - 4) < 1e-9:
            ends.append((x, tag))
    gmsh.model.addPhysicalGroup(dimension - 1, [t for x, t in ends if x < 1], 2, name="left")
    gmsh.model.addPhysicalGroup(dimension - 1, [t for x, t in ends if x > 1], 3, name="right")
    gmsh.option.setNumber("Mesh.MeshSizeMax", 0.25)
    gmsh.model.mesh.generate(dimension)
    gmsh.write(str(path))
    gmsh.finalize()


def file_device(path, dimension, contacts=("left", "right")) -> dict:
    return {
        "geometry": {"kind": "file", "path": str(path), "dimension": dimension},
        "regions": {"film": {"material": "Co3Sn2S2"}, "substrate": {"material": "TaAs"}},
        "contacts": {name: {"voltage_V": float(i)} for i, name in enumerate(contacts)},
    }


@pytest.mark.parametrize("dimension", [2, 3])
def test_import_msh_with_two_regions_and_interface(dimension, shared_tmp_path, comm):
    path = shared_tmp_path / f"stack{dimension}.msh"
    if comm.rank == 0:
        write_msh(path, dimension)
    comm.barrier()
    device = device_from_mapping(file_device(path, dimension), "dev.toml")
    device_mesh = mesh_device(device, comm)
    sizes = measure_groups(device_mesh)
    um = 1e-6
    thick = 0.5 if dimension == 3 else 1.0
    assert set(device_mesh.cell_groups) == {"film", "substrate"}
    assert set(device_mesh.facet_groups) == {"interface", "left", "right"}
    assert sizes["substrate"] == pytest.approx(4 * 1 * um**dimension, rel=1e-10)
    assert sizes["film"] == pytest.approx(4 * 0.5 * um**dimension, rel=1e-10)
    assert sizes["interface"] == pytest.approx(
        4 * (1 if dimension == 3 else 1) * um ** (dimension - 1), rel=1e-10
    )
    assert sizes["left"] == pytest.approx(
        (0.5 * thick if dimension == 3 else 0.5) * um ** (dimension - 1), rel=1e-10
    )


def test_import_names_not_in_file_are_listed(shared_tmp_path, comm):
    path = shared_tmp_path / "names.msh"
    if comm.rank == 0:
        write_msh(path, 2)
    comm.barrier()
    with pytest.raises(ConfigError) as info:
        device_from_mapping(file_device(path, 2, contacts=("left", "gate")), "dev.toml")
    assert str(info.value) == (
        "dev.toml: contacts.gate: expected the name of a mesh group (interface, left, right)"
    )


def test_import_errors(shared_tmp_path, comm):
    missing = shared_tmp_path / "absent.msh"
    with pytest.raises(ConfigError, match=r"dev.toml: geometry.path: expected a readable gmsh"):
        device_from_mapping(file_device(missing, 2), "dev.toml")
    garbage = shared_tmp_path / "garbage.msh"
    if comm.rank == 0:
        garbage.write_text("this is not a mesh\n")
    comm.barrier()
    with pytest.raises(ConfigError, match=r"geometry.path: expected a readable gmsh file"):
        device_from_mapping(file_device(garbage, 2), "dev.toml")
    # gmsh's script parser, which tried the garbage, reads the next script again
    from weylfem.geometry.file import read_groups

    read_groups.cache_clear()
    assert read_groups(str(ROOT / "meshes" / "stack.geo"))[1] == ("film", "substrate")
    with pytest.raises(ConfigError, match=r"geometry.path: expected a gmsh .geo or .msh file"):
        device_from_mapping(file_device(shared_tmp_path / "mesh.vtk", 2), "dev.toml")
    path = shared_tmp_path / "dims.msh"
    if comm.rank == 0:
        write_msh(path, 3)
    comm.barrier()
    with pytest.raises(ConfigError, match=r"geometry.dimension: expected 3"):
        device_from_mapping(file_device(path, 2), "dev.toml")


def test_exchange_length_caps_element_size_in_magnetic_regions(comm):
    table = device_table(
        dimension=2,
        length_unit="nm",
        length=400.0,
        width=100.0,
        mesh_size=50.0,
        resolve_exchange_length=True,
    )
    device = device_from_mapping(table, "magnet")
    exchange_length = device.material_of("channel").exchange_length_m
    assert exchange_length == pytest.approx(3.64e-8, rel=1e-2)  # Co3Sn2S2
    device_mesh = mesh_device(device, comm)
    largest, _ = cell_sizes_near(device_mesh, [200e-9], 1.0)  # every cell
    assert largest <= exchange_length
    unrefined = build_device_mesh(device.geometry, comm)
    assert cell_sizes_near(unrefined, [200e-9], 1.0)[0] > exchange_length


BUILDERS = [kind for kind in GEOMETRIES if kind != "file"]


@pytest.mark.parametrize("dimension", [2, 3])
@pytest.mark.parametrize("kind", BUILDERS)
def test_element_quality_of_every_builder(kind, dimension, comm):
    device_mesh = build_device_mesh(GEOMETRIES[kind](dimension=dimension), comm)
    assert device_mesh.quality["min_sicn"] >= MIN_QUALITY, device_mesh.quality


def test_mesh_size_is_respected(comm):
    coarse = build_device_mesh(BarGeometry(dimension=2, mesh_size=1.0), comm).counts()
    fine = build_device_mesh(BarGeometry(dimension=2, mesh_size=0.25), comm).counts()
    assert fine["cells"] > 10 * coarse["cells"]


@pytest.mark.mpi
def test_layered_film_is_extruded_through_its_thickness(comm):
    """`layers` = 2: every vertex lies on one of the three planes z = -lz/2, 0, lz/2, each
    plane holding the same number of vertices (the extruded triangles), and the volume is
    lx ly lz; a layered body with air around it is refused."""
    geometry = {"kind": "magnet_body", "lx": 1.0, "ly": 0.4, "lz": 0.1, "layers": 2}
    geometry.update(open_boundary="none", magnet_mesh_size=0.1, mesh_size=0.1)
    table = {
        "name": "film",
        "geometry": geometry,
        "regions": {"magnet": {"material": "permalloy", "magnetization_direction": [1, 0, 0]}},
        "physics": {"transport": "none"},
        "magnetization": {"demagnetization": "thin_film"},
        "dynamics": {"end_time_s": 1e-12, "time_step_s": 1e-13},
    }
    device = device_from_mapping(table, "film.toml")
    device_mesh = build_device_mesh(device.geometry, comm)
    space = compat.function_space(device_mesh.mesh, "Lagrange", 1)
    owned = space.dofmap.index_map.size_local
    z = np.concatenate(comm.allgather(space.tabulate_dof_coordinates()[:owned, 2]))
    planes = np.array([-0.05, 0.0, 0.05]) * 1e-6
    assert np.max(np.abs(z[:, None] - planes[None, :]).min(axis=1)) < 1e-15
    counts = [np.count_nonzero(np.abs(z - plane) < 1e-15) for plane in planes]
    assert counts[0] == counts[1] == counts[2] > 0
    assert sum(counts) == len(z)
    table["geometry"]["open_boundary"] = "shell"
    with pytest.raises(ConfigError, match="geometry.layers: expected no value unless"):
        device_from_mapping(table, "film.toml")
