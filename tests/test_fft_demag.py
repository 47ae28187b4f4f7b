"""The cell-grid (FFT) demagnetization: demagnetizing factors against Aharoni's prisms, the
FFT convolution against the direct sum of Newell's tensors, the weak field as the exact
variation of the method's energy (symmetric, linear), and the device file.

For a box magnetized uniformly the cell averages are exact and the sum of Newell's tensors
over all pairs of cells is the box's tensor, so the factors are exact to rounding (measured:
4e-12 relative for the SP4 film, serial and on 2 ranks).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import expect_error, magnet_film_table
from test_demag import SATURATION_A_PER_M, UniformMagnet, aharoni_factors

from weylfem import compat
from weylfem.config import check_mesh, device_from_mapping, unused_settings
from weylfem.errors import ConfigError
from weylfem.geometry import MagnetBodyGeometry
from weylfem.magnet.fft_demag import GridDemagnetization
from weylfem.magnet.newell import demag_tensor
from weylfem.meshing import mesh_device
from weylfem.run import run_device

pytestmark = pytest.mark.mpi

SP4_FILM = {"length_unit": "nm", "lx": 500.0, "ly": 125.0, "lz": 3.0, "open_boundary": "none"}


def grid_film(mesh_size: float, layers: int, comm, **shape) -> UniformMagnet:
    geometry = MagnetBodyGeometry(
        **{**SP4_FILM, **shape},
        magnet_mesh_size=mesh_size,
        mesh_size=mesh_size,
        layers=layers,
        in_plane_mesh="grid",
    )
    return UniformMagnet(geometry, comm)


@pytest.mark.parametrize(
    ("layers", "cells"),
    [(1, (100, 25, 1)), (3, (100, 25, 3)), (3, (50, 25, 1))],
    ids=["one layer", "a cell per layer", "cells of 2 x 1 squares"],
)
def test_standard_problem_4_film_factors(layers, cells, comm):
    # measured: |error| < 1.1e-11 in every case, serial and on 2 ranks (the FEM-BEM method
    # on 3 layers: -2.04%, -1.63%, -0.87%)
    magnet = grid_film(5.0, layers, comm)
    demag = GridDemagnetization(magnet.coefficients, magnet.device_mesh, cells)
    assert demag.describe()["cells"] == list(cells)
    exact = aharoni_factors(500.0, 125.0, 3.0)
    for axis in range(3):
        magnet.set_direction(np.eye(3)[axis])
        demag.update(magnet.m)
        assert magnet.factor_from_energy(demag) == pytest.approx(exact[axis], rel=1e-9)
        assert magnet.factor_from_field(demag) == pytest.approx(exact[axis], rel=1e-9)


def test_cube_factors(comm):
    magnet = grid_film(0.25, 4, comm, length_unit="um", lx=1.0, ly=1.0, lz=1.0)
    demag = GridDemagnetization(magnet.coefficients, magnet.device_mesh, (4, 4, 4))
    for direction in ((1.0, 0.0, 0.0), (0.0, 0.6, 0.8)):
        magnet.set_direction(direction)
        demag.update(magnet.m)
        assert magnet.factor_from_energy(demag) == pytest.approx(1 / 3, rel=1e-10)


def swirl(magnet: UniformMagnet, phase: float) -> None:
    """A non-uniform m on the film (not normalised: the operator is linear)."""
    magnet.m.interpolate(
        lambda x: np.stack(
            [
                np.cos(3e7 * x[0] + phase),
                np.sin(5e7 * x[1] - phase) + 1e7 * x[0],
                0.3 + np.cos(2e7 * (x[0] + x[1])),
            ]
        )
    )
    magnet.m.x.scatter_forward()


def weak_field(demag: GridDemagnetization, magnet: UniformMagnet):
    """add_weak_field of magnet.m into a zero vector."""
    out = compat.petsc_vector(magnet.m).duplicate()
    out.zeroEntries()
    demag.add_weak_field(compat.petsc_vector(magnet.m), out)
    return out


def test_convolution_is_the_direct_sum(comm):
    # the cell fields of a non-uniform m: the FFT convolution against sum_c' N(c - c') M_c'
    # summed directly from the same tensor (offsets taken in the wrap-around layout)
    magnet = grid_film(25.0, 2, comm, lx=150.0, ly=100.0, lz=6.0)
    shape = (6, 4, 2)
    demag = GridDemagnetization(magnet.coefficients, magnet.device_mesh, shape)
    swirl(magnet, 0.4)
    averages = demag.cell_averages(magnet.m.x.array.reshape(-1, 3)).copy()
    fields = demag.cell_fields(averages)
    tensor = demag_tensor(shape, tuple(demag.cell_size))
    rows = ((0, 3, 4), (3, 1, 5), (4, 5, 2))
    padded = tensor.shape[1:]
    direct = np.zeros_like(fields)
    for target in np.ndindex(*shape):
        for source in np.ndindex(*shape):
            offset = tuple((t - s) % p for t, s, p in zip(target, source, padded, strict=True))
            for a in range(3):
                direct[(a, *target)] -= sum(
                    tensor[(rows[a][b], *offset)] * averages[(b, *source)] for b in range(3)
                )
    assert np.abs(fields - direct).max() <= 1e-12 * np.abs(direct).max()
    # and a uniform M_s m gives cell averages M_s m (each cell full)
    magnet.set_direction((0.0, 1.0, 0.0))
    uniform = demag.cell_averages(magnet.m.x.array.reshape(-1, 3))
    assert np.allclose(uniform[1], SATURATION_A_PER_M, rtol=1e-12)
    assert np.abs(uniform[[0, 2]]).max() == 0.0


def test_weak_field_is_the_variation_of_the_energy(comm):
    # E(m) = -(1/2) <f(m), m> with f linear: <f(a), b> = <a, f(b)> (the operator is
    # symmetric, so f is the exact variation of E); and update's nodal field is the weak
    # field over the lumped mass, so the assembled -variation reproduces it where m is linear
    magnet = grid_film(25.0, 2, comm, lx=150.0, ly=100.0, lz=6.0)
    demag = GridDemagnetization(magnet.coefficients, magnet.device_mesh, (6, 4, 2))
    swirl(magnet, 0.1)
    a = compat.petsc_vector(magnet.m).copy()
    f_a = weak_field(demag, magnet)
    swirl(magnet, 1.3)
    f_b = weak_field(demag, magnet)
    b = compat.petsc_vector(magnet.m)
    assert f_a.dot(b) == pytest.approx(a.dot(f_b), rel=1e-12)
    assert f_a.dot(a) < 0  # the demagnetizing energy -(1/2) <f(a), a> is positive
    # linearity: f(a + 2b) = f(a) + 2 f(b)
    b.axpy(0.5, a)  # m = b + a/2
    b.scale(2.0)  # m = a + 2b
    b.ghostUpdate()
    magnet.m.x.scatter_forward()
    combined = weak_field(demag, magnet)
    expected = f_a.copy()
    expected.axpy(2.0, f_b)
    combined.axpy(-1.0, expected)
    assert combined.norm() <= 1e-12 * expected.norm()
    # uniform m: the energy of update's nodal field equals the method's energy
    magnet.set_direction((0.6, 0.0, 0.8))
    demag.update(magnet.m)
    energy = magnet.integrate(demag.density(magnet.m))
    f = weak_field(demag, magnet)
    assert energy == pytest.approx(-0.5 * f.dot(compat.petsc_vector(magnet.m)), rel=1e-12)
    variation = magnet.assemble(demag.variation(magnet.m, magnet.m, magnet.dx))
    assert variation == pytest.approx(2 * energy, rel=1e-12)


def standard_problem_4_table(mesh_size: float = 10.0) -> dict:
    """The SP4 film, one layer on the grid, with the cell-grid demagnetization."""
    return {
        "name": "SP4, fft",
        "geometry": {
            "kind": "magnet_body",
            **SP4_FILM,
            "magnet_mesh_size": mesh_size,
            "mesh_size": mesh_size,
            "layers": 1,
            "in_plane_mesh": "grid",
        },
        "regions": {"magnet": {"material": "permalloy", "magnetization_direction": [1, 0.1, 0]}},
        "physics": {"transport": "none"},
        "magnetization": {
            "demagnetization": "fft",
            "fft_cells": [round(500 / mesh_size), round(125 / mesh_size), 1],
            "uniform_through_thickness": True,
        },
        "dynamics": {
            "end_time_s": 2e-11,
            "time_step_s": 1e-11,
            "scheme": "rkf45",
            "relax_first": True,
            "relax_method": "barzilai_borwein",
            "relax_torque_tolerance_T": 1e-3,
        },
    }


@pytest.mark.serial
def test_device_file():
    device = device_from_mapping(standard_problem_4_table(), "dev.toml")
    assert device.magnetization.fft_cells == (50, 12, 1)
    assert unused_settings(device) == []
    for change, key, fragment in (
        ({"fft_cells": None}, "magnetization.fft_cells", "expected 3 cell counts"),
        ({"fft_cells": [50, 0, 1]}, "magnetization.fft_cells", "expected integers >= 1"),
        ({"fft_cells": [50, 12]}, "magnetization.fft_cells", "expected"),
        (
            {"demagnetization": "fem_bem"},
            "magnetization.fft_cells",
            "expected no value unless demagnetization = 'fft'",
        ),
    ):
        table = standard_problem_4_table()
        table["magnetization"].update(change)
        table["magnetization"] = {k: v for k, v in table["magnetization"].items() if v is not None}
        expect_error(table, key, fragment)
    table = standard_problem_4_table()
    table["geometry"].pop("layers")
    expect_error(table, "geometry.in_plane_mesh", "expected 'free' unless the magnet is meshed")
    film = magnet_film_table()  # 2D: the cells are cuboids
    film["magnetization"] = {"demagnetization": "fft", "fft_cells": [10, 4, 1]}
    expect_error(film, "magnetization.demagnetization", "expected a 3D geometry for 'fft'")


@pytest.mark.parametrize(
    ("geometry", "cells", "crossing"),
    [
        ({"in_plane_mesh": "free"}, [50, 12, 1], True),
        ({}, [50, 12, 1], False),
        ({}, [20, 6, 1], True),
    ],
    ids=["free triangles", "the grid", "cells not dividing the grid"],
)
def test_mesh_check(geometry, cells, crossing, comm):
    # every element must lie in one cell: refused after meshing, on every rank, before any
    # operator is built
    table = standard_problem_4_table()
    table["geometry"].update(geometry)
    table["magnetization"]["fft_cells"] = cells
    device = device_from_mapping(table, "dev.toml")
    device_mesh = mesh_device(device, comm)
    if not crossing:
        check_mesh(device, device_mesh, "dev.toml")
        return
    with pytest.raises(ConfigError) as info:
        check_mesh(device, device_mesh, "dev.toml")
    message = str(info.value)
    assert message.startswith("dev.toml: magnetization.fft_cells: expected cells each"), message
    assert "elements cross cell faces" in message


def test_run_reports_the_grid(shared_tmp_path, comm):
    # `weylfem run` of the film at 10 nm (relaxation and 20 ps): results.json states the grid
    run_device(
        device_from_mapping(standard_problem_4_table(), "dev.toml"),
        shared_tmp_path,
        comm=comm,
        quiet=True,
    )
    results = json.loads((shared_tmp_path / "results.json").read_text())
    solver = results["magnetization"]["demagnetization_solver"]
    assert solver["cells"] == [50, 12, 1]
    assert solver["fft_size"] == [100, 24, 1]
    assert solver["cell_size"] == pytest.approx([1e-8, 125e-9 / 12, 3e-9], rel=1e-9)
    assert solver["evaluations"] > 0
    average = results["final"]["average_magnetization"]
    assert 0.9 < average[0] < 1.0 and 0.05 < average[1] < 0.2  # near the s-state after 20 ps
