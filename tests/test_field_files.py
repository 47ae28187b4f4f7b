"""Magnetic-field and magnetization files (.npz grids), per-region fields, and bad files.

A field file holds the axes x, y (, z) in metres and `values` of shape (nx, ny[, nz], 3),
interpolated multilinearly at the mesh nodes (weylfem/field_files.py).
"""

import math

import numpy as np
import pytest
from mpi4py import MPI
from scipy.integrate import solve_bvp

from weylfem.config import device_from_mapping, load_device
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.errors import ConfigError
from weylfem.materials import MATERIALS
from weylfem.meshing import mesh_device
from weylfem.transport import TransportProblem

pytestmark = pytest.mark.mpi

UM = 1e-6
LENGTH, WIDTH = 20.0, 1.0  # um


def bar_table(fields: dict, dimension: int = 2, degree: int = 1, **geometry) -> dict:
    """A Co3Sn2S2 bar along x with whole-face contacts, charge_valley."""
    return {
        "geometry": {
            "kind": "bar",
            "dimension": dimension,
            "length": LENGTH,
            "width": WIDTH,
            "thickness": 0.5,
            "mesh_size": 0.25 if dimension == 2 else 0.5,
            **geometry,
        },
        "regions": {"channel": {"material": "Co3Sn2S2"}},
        "contacts": {"source": {"voltage_V": 1.0e-3}, "drain": {"voltage_V": 0.0}},
        "fields": fields,
        "physics": {"transport": "charge_valley", "element_degree": degree},
        "solver": {"kind": "direct"},
    }


def conductance(table: dict, mesh=None, **options) -> tuple[float, object]:
    device = device_from_mapping(table, "test")
    mesh = mesh if mesh is not None else mesh_device(device, MPI.COMM_WORLD)
    solution = TransportProblem(device, mesh, **options).solve()
    return solution.conductance_matrix_S[0, 0], mesh


def write_field(path, comm, function, dimension: int = 2, points: int = 6):
    """Sample function(x, y[, z]) -> (..., 3) on a grid 1 um beyond the bar; rank 0 writes."""
    axes = {
        "x": np.linspace(-1, LENGTH + 1, points) * UM,
        "y": np.linspace(-1, WIDTH + 1, 3) * UM,
        "z": np.linspace(-1, 1.5, 3) * UM,
    }
    names = "xyz"[:dimension]
    grid = np.meshgrid(*(axes[n] for n in names), indexing="ij")
    if comm.rank == 0:
        np.savez(path, values=function(*grid), **{n: axes[n] for n in names})
    comm.barrier()
    return str(path)


def uniform(field):
    return lambda *grid: np.broadcast_to(np.asarray(field, float), (*grid[0].shape, 3)).copy()


@pytest.mark.parametrize("dimension", [2, 3])
def test_uniform_file_reproduces_uniform_field(shared_tmp_path, comm, dimension):
    """A file of a uniform B gives the conductance of fields.magnetic_field_T to 1e-10;
    the field changes it by far more (12% at 15 T along the bar)."""
    field = [15.0, 2.0, -3.0]
    path = write_field(shared_tmp_path / "B.npz", comm, uniform(field), dimension)
    reference, mesh = conductance(bar_table({"magnetic_field_T": field}, dimension))
    from_file, _ = conductance(bar_table({"magnetic_field_file": path}, dimension), mesh)
    zero, _ = conductance(bar_table({}, dimension), mesh)
    assert from_file == pytest.approx(reference, rel=1e-10)
    assert (reference - zero) / zero > 0.1


def one_dimensional_conductance(material, field, length_m: float, area_m2: float) -> float:
    """Exact conductance of the bar for B = (field(x), 0, 0), from the 1D boundary-value
    problem (lengths in lambda_v = sqrt(sigma_v/kappa0), phi_v in Gamma B0 J / (sigma kappa0),
    B0 = 1 T):
    u'' = (1 + beta b^2) u - b, u(0) = u(L) = 0, and the voltage drop (lambda_v J / sigma) w(L)
    with w' = 1 - beta b u, w(0) = 0; beta = Gamma^2 B0^2 / (sigma kappa0)."""
    sigma = material.conductivity_S_per_m
    gamma = material.anomaly_coefficient_A_per_m2_V_T
    kappa0 = (
        ELEMENTARY_CHARGE**2
        * material.density_of_states_per_J_m3
        / material.valley_relaxation_time_s
    )
    lam = material.valley_diffusion_length_m
    beta = gamma**2 / (sigma * kappa0)
    end = length_m / lam

    def rhs(s, y):
        b = field(s * lam)
        return np.vstack([y[1], (1 + beta * b**2) * y[0] - b, 1 - beta * b * y[0]])

    def boundary(start, stop):
        return np.array([start[0], stop[0], start[2]])

    s = np.linspace(0, end, 2001)
    result = solve_bvp(rhs, boundary, s, np.zeros((3, s.size)), tol=1e-10, max_nodes=200_000)
    assert result.status == 0, result.message
    return sigma * area_m2 / (lam * result.y[2, -1])


def test_linear_field_file_matches_1d_solution(shared_tmp_path, comm):
    """B_x = -5 T + (20 T) x / L (it changes sign mid-bar): multilinear interpolation is
    exact for it, so the file gives the same conductance as the field given in code
    (1e-10), and Delta G matches the 1D boundary-value problem (P2: measured 4e-8)."""
    low, high = -5.0, 15.0

    def field_x(x):
        return low + (high - low) * x / (LENGTH * UM)

    def linear(*grid):
        values = np.zeros((*grid[0].shape, 3))
        values[..., 0] = field_x(grid[0])
        return values

    path = write_field(shared_tmp_path / "B_linear.npz", comm, linear)
    table = bar_table({"magnetic_field_file": path}, degree=2, resolve_valley_layers=True)
    from_file, mesh = conductance(table)
    zero_table = bar_table({}, degree=2, resolve_valley_layers=True)
    in_code, _ = conductance(
        zero_table,
        mesh,
        magnetic_field=lambda x: np.vstack([field_x(x[0]), 0 * x[0], 0 * x[0]]),
    )
    zero, _ = conductance(zero_table, mesh)
    assert from_file == pytest.approx(in_code, rel=1e-10)
    material = device_from_mapping(table, "test").material_of("channel")
    exact = one_dimensional_conductance(material, field_x, LENGTH * UM, WIDTH * UM)
    assert from_file - zero == pytest.approx(exact - zero, rel=1e-6)
    # a uniform field of the same mean (5 T) gives half the Delta G (B^2 is not linear)
    mean, _ = conductance(
        bar_table({"magnetic_field_T": [5.0, 0, 0]}, degree=2, resolve_valley_layers=True), mesh
    )
    assert abs((mean - zero) / (from_file - zero) - 1) > 0.3


def test_region_field_overrides_device_field():
    """regions.channel.magnetic_field_T replaces fields.magnetic_field_T in that region."""
    table = bar_table({"magnetic_field_T": [15.0, 0.0, 0.0]})
    uniform_field, mesh = conductance(table)
    table["fields"]["magnetic_field_T"] = [0.0, 7.0, 0.0]  # transverse: no effect alone
    table["regions"]["channel"]["magnetic_field_T"] = [15.0, 0.0, 0.0]
    per_region, _ = conductance(table, mesh)
    del table["regions"]["channel"]["magnetic_field_T"]
    transverse, _ = conductance(table, mesh)
    assert per_region == pytest.approx(uniform_field, rel=1e-12)
    assert (per_region - transverse) / transverse > 0.1


def test_region_fields_of_a_stack():
    """Two regions, two fields: each region's cells carry its own B (the film's from the
    region, the substrate's the device-wide one), and swapping them changes G."""
    table = {
        "geometry": {
            "kind": "stack",
            "dimension": 2,
            "length": 10.0,
            "film_thickness": 0.5,
            "substrate_thickness": 1.0,
            "mesh_size": 0.25,
        },
        "regions": {
            "film": {"material": "Co3Sn2S2", "magnetic_field_T": [12.0, 0.0, 0.0]},
            "substrate": {"material": "TaAs"},
        },
        "contacts": {"source": {"voltage_V": 1.0e-3}, "drain": {"voltage_V": 0.0}},
        "fields": {"magnetic_field_T": [0.0, 3.0, 0.0]},
        "physics": {"transport": "charge_valley"},
        "solver": {"kind": "direct"},
    }
    device = device_from_mapping(table, "test")
    mesh = mesh_device(device, MPI.COMM_WORLD)
    problem = TransportProblem(device, mesh)
    field = problem.coefficients.magnetic_field.x.array.reshape(-1, 3)
    tags = mesh.cell_tags
    for region, expected in (("film", [12.0, 0, 0]), ("substrate", [0, 3.0, 0])):
        cells = tags.indices[tags.values == mesh.cell_groups[region]]
        cells = cells[cells < mesh.mesh.topology.index_map(2).size_local]
        assert np.allclose(field[cells], expected, rtol=0, atol=1e-14)
        count = mesh.comm.allreduce(cells.size, op=MPI.SUM)
        assert count > 0
    g = problem.solve().conductance_matrix_S[0, 0]
    table["regions"]["film"]["magnetic_field_T"] = [0.0, 3.0, 0.0]
    table["regions"]["substrate"]["magnetic_field_T"] = [12.0, 0.0, 0.0]
    swapped, _ = conductance(table, mesh)
    assert abs(swapped - g) > 1e-3 * g


def test_magnetization_file_is_normalised_and_used(shared_tmp_path, comm):
    """m from a file (values (0, 0, 2), normalised on use) gives the Hall-bar voltages of
    magnetization_direction = [0, 0, 1]; m = 0 gives no Hall voltage."""
    probes = [f"probe_{i}_{side}" for i in (1, 2) for side in ("bottom", "top")]
    table = {
        "geometry": {
            "kind": "hall_bar",
            "dimension": 2,
            "length": LENGTH,
            "width": WIDTH,
            "arm_width": 0.25,
            "arm_length": 0.5,
            "probe_pairs": 2,
            "mesh_size": 0.25,
        },
        "regions": {"channel": {"material": "Co3Sn2S2", "magnetization_direction": [0, 0, 1]}},
        "contacts": {
            "source": {"voltage_V": 1.0e-3},
            "drain": {"voltage_V": 0.0},
            **{name: {"floating": True} for name in probes},
        },
        "physics": {"transport": "ohmic"},
        "solver": {"kind": "direct"},
    }

    def voltages(table, mesh=None):
        device = device_from_mapping(table, "test")
        mesh = mesh if mesh is not None else mesh_device(device, MPI.COMM_WORLD)
        return TransportProblem(device, mesh).solve().voltages_V, mesh

    direction, mesh = voltages(table)
    del table["regions"]["channel"]["magnetization_direction"]
    none, _ = voltages(table, mesh)

    def doubled(*grid):
        values = np.zeros((*grid[0].shape, 3))
        values[..., 2] = 2.0
        return values

    axes = {"x": np.linspace(-1, LENGTH + 1, 3) * UM, "y": np.linspace(-2, WIDTH + 2, 3) * UM}
    if comm.rank == 0:
        grid = np.meshgrid(axes["x"], axes["y"], indexing="ij")
        np.savez(shared_tmp_path / "m.npz", values=doubled(*grid), **axes)
    comm.barrier()
    table["fields"] = {"magnetization_file": str(shared_tmp_path / "m.npz")}
    from_file, _ = voltages(table, mesh)
    assert from_file == pytest.approx(direction, abs=1e-10 * 1.0e-3)
    # V_top - V_bottom = theta m_z W E_x (test_charge_valley), theta = -0.0753 for Co3Sn2S2;
    # E_x ~ 1 mV / 20 um
    hall = direction[3] - direction[2]  # probe_1_top - probe_1_bottom
    theta = MATERIALS["Co3Sn2S2"].hall_angle
    assert hall / theta > 0.5 * WIDTH * 1.0e-3 / LENGTH
    assert abs(none[3] - none[2]) < 1e-2 * abs(hall)  # m = 0: mesh asymmetry only (4e-4 hall)


def test_relative_field_file_is_read_from_the_device_folder(shared_tmp_path, comm):
    """fields.magnetic_field_file relative to the TOML file's folder when loaded from a file."""
    field = [15.0, 0.0, 0.0]
    write_field(shared_tmp_path / "B.npz", comm, uniform(field))
    text = f"""
[geometry]
kind = "bar"
dimension = 2
length = {LENGTH}
width = {WIDTH}
mesh_size = 0.25
[regions.channel]
material = "Co3Sn2S2"
[contacts.source]
voltage_V = 1.0e-3
[contacts.drain]
voltage_V = 0.0
[fields]
magnetic_field_file = "B.npz"
[physics]
transport = "charge_valley"
"""
    toml = shared_tmp_path / "device.toml"
    if comm.rank == 0:
        toml.write_text(text)
    comm.barrier()
    device = load_device(toml)
    assert device.fields.magnetic_field_file == str(shared_tmp_path / "B.npz")
    mesh = mesh_device(device, MPI.COMM_WORLD)
    from_file = TransportProblem(device, mesh).solve().conductance_matrix_S[0, 0]
    reference, _ = conductance(bar_table({"magnetic_field_T": field}), mesh)
    assert from_file == pytest.approx(reference, rel=1e-10)


def bad_npz(path, comm, **arrays) -> str:
    if comm.rank == 0:
        np.savez(path, **arrays)
    comm.barrier()
    return str(path)


X_AXIS = np.linspace(-1, LENGTH + 1, 4) * UM
Y_AXIS = np.linspace(-1, WIDTH + 1, 3) * UM


@pytest.mark.parametrize(
    ("case", "arrays", "fragment"),
    [
        ("missing", {"x": X_AXIS, "values": np.zeros((4, 3, 3))}, "missing y"),
        (
            "shape",
            {"x": X_AXIS, "y": Y_AXIS, "values": np.zeros((4, 3, 2))},
            "expected 'values' of shape (4, 3, 3), got (4, 3, 2)",
        ),
        (
            "order",
            {"x": X_AXIS[::-1], "y": Y_AXIS, "values": np.zeros((4, 3, 3))},
            "expected axis 'x' to be a strictly increasing",
        ),
        (
            "finite",
            {"x": X_AXIS, "y": Y_AXIS, "values": np.full((4, 3, 3), np.inf)},
            "expected finite 'values', got 36 NaN or infinite ones",
        ),
    ],
)
def test_bad_field_file_is_refused_before_meshing(shared_tmp_path, comm, case, arrays, fragment):
    """What the file alone shows is checked when the device is read (by `weylfem check`)."""
    path = bad_npz(shared_tmp_path / f"{case}.npz", comm, **arrays)
    with pytest.raises(ConfigError) as info:
        device_from_mapping(bar_table({"magnetic_field_file": path}), "test")
    message = str(info.value)
    assert message.startswith("test: fields.magnetic_field_file: expected"), message
    assert fragment in message and message.endswith(f" in {path}"), message


def test_grid_not_covering_the_device_names_file_and_key(shared_tmp_path, comm):
    """Covers x <= 19.5 um of the 20 um bar: on one rank only under MPI."""
    x_axis = np.linspace(-1, 19.5, 4) * UM
    path = bad_npz(
        shared_tmp_path / "short.npz", comm, x=x_axis, y=Y_AXIS, values=np.zeros((4, 3, 3))
    )
    device = device_from_mapping(bar_table({"magnetic_field_file": path}), "test")
    mesh = mesh_device(device, MPI.COMM_WORLD)
    with pytest.raises(ConfigError) as info:
        TransportProblem(device, mesh)
    message = str(info.value)
    assert message.startswith(f"{path}: fields.magnetic_field_file: expected"), message
    assert "expected a grid covering the device" in message, message


def test_not_an_npz_file(shared_tmp_path, comm):
    path = shared_tmp_path / "B.txt"
    if comm.rank == 0:
        path.write_text("not numpy")
    comm.barrier()
    with pytest.raises(ConfigError) as info:
        device_from_mapping(bar_table({"magnetization_file": str(path)}), "test")
    assert str(info.value) == (
        "test: fields.magnetization_file: expected a NumPy .npz field file (not a NumPy file)"
        f" in {path}"
    )


def test_missing_field_file_is_a_config_error(shared_tmp_path):
    path = str(shared_tmp_path / "nowhere" / "B.npz")
    with pytest.raises(ConfigError) as info:
        device_from_mapping(bar_table({"magnetic_field_file": path}), "dev.toml")
    assert str(info.value) == (
        "dev.toml: fields.magnetic_field_file: expected a NumPy .npz field file"
        f" (No such file or directory) in {path}"
    )


def test_sanity_of_exact_reference():
    """The 1D boundary-value solver reproduces the closed form for a uniform field."""
    from weylfem.materials import MATERIALS

    material = MATERIALS["Co3Sn2S2"]
    sigma = material.conductivity_S_per_m
    gamma = material.anomaly_coefficient_A_per_m2_V_T
    kappa = ELEMENTARY_CHARGE**2 * material.density_of_states_per_J_m3
    kappa = kappa / material.valley_relaxation_time_s + gamma**2 * 10.0**2 / sigma
    lam = math.sqrt(material.sigma_v / kappa)
    length = LENGTH * UM
    layers = 1 - 2 * lam / length * math.tanh(length / (2 * lam))
    closed = 1 / (length / (sigma * UM) * (1 - gamma**2 * 100.0 / (sigma * kappa) * layers))
    numeric = one_dimensional_conductance(material, lambda x: 10.0 + 0 * x, length, UM)
    assert numeric == pytest.approx(closed, rel=1e-9)
