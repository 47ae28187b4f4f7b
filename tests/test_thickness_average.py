"""A film uniform through its thickness (`magnetization.uniform_through_thickness`,
weylfem.magnet.thickness): the LLG equation restricted to m independent of z.

- Standing spin waves of a 3D film meshed in layers, started from an m that varies through
  the thickness: the restriction makes m its column means, keeps it uniform on every
  column to round-off while rk45 steps it, and each mode's phase advances at the closed
  form omega(k_n) = gamma (B - mu_0 M_s + 2A k_n^2/M_s) (a wrong weight in the column mean
  shifts the exchange frequencies).
- A permalloy film with the FEM-BEM demagnetization: the same <m> as the free 3D m on
  the same one-layer mesh, in fewer steps (its exchange modes across the thickness are
  gone).
- The device file refuses it without layers and with the steppers that don't take it.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import expect_error
from dolfinx import mesh as dolfinx_mesh
from test_magnet_dynamics import (
    FILM_FIELD_T,
    FILM_LENGTH_M,
    NORM_TOLERANCE,
    film_frequencies,
    film_mode_rates,
    film_waves,
    gathered,
    magnet,
)

from weylfem.config import device_from_mapping
from weylfem.magnet.adaptive import AdaptiveIntegrator
from weylfem.magnet.energy import Exchange, ThinFilmDemagnetization, Zeeman
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.run import run_device

WIDTH_M, THICKNESS_M = 2e-9, 3e-9
"""the spin-wave film's cross-section (its modes run along x)"""


def columns(points: np.ndarray) -> np.ndarray:
    """The column (nodes of equal x, y) of each of the film's nodes `points` (n, 3)."""
    _, column = np.unique(np.round(points[:, :2] / FILM_LENGTH_M, 9), axis=0, return_inverse=True)
    return column.reshape(-1)


def column_spread(problem: MicromagneticProblem, comm) -> float:
    """max over the film's columns of the spread of m."""
    points = gathered(comm, problem.space.tabulate_dof_coordinates()[problem.magnetic_nodes])
    m = gathered(comm, problem.owned_magnetization())
    column = columns(points)
    return max(float(np.ptp(m[column == c], axis=0).max()) for c in range(column.max() + 1))


@pytest.mark.mpi
def test_spin_waves_of_a_film_uniform_through_its_thickness(comm):
    """Modes n = 1..4 of a 50 nm x 2 nm x 3 nm film, 1 nm cells, two layers: started with an
    m that varies through the thickness, made uniform on every column, kept uniform to
    1e-13 by rk45, at the closed-form frequencies to 1 % (measured +0.05, -0.02, -0.18,
    -0.41 %, as in 1D: the lumped mass lowers the discrete exchange frequency by (k h)^2/12
    of it)."""
    mesh = dolfinx_mesh.create_box(
        comm,
        [np.zeros(3), np.array([FILM_LENGTH_M, WIDTH_M, THICKNESS_M])],
        [50, 2, 2],
        dolfinx_mesh.CellType.tetrahedron,
    )
    device, coefficients = magnet(mesh, 0.0)

    def initial(x):
        waves = film_waves(x)
        waves[1] = 0.3 * (x[2] / THICKNESS_M - 0.5)  # m_y varies through the thickness
        return waves

    terms = [
        Exchange(coefficients),
        Zeeman(coefficients, (0.0, 0.0, FILM_FIELD_T)),
        ThinFilmDemagnetization(coefficients, normal=(0.0, 0.0, 1.0)),
    ]
    problem = MicromagneticProblem(device, coefficients, terms, initial)
    assert column_spread(problem, comm) > 0.29
    before = gathered(comm, problem.owned_magnetization())
    problem.make_uniform_through_thickness()
    assert column_spread(problem, comm) < 1e-14
    # each column's m is the M_s-weighted (lumped-mass) mean of the m it had, normalised
    points = gathered(comm, problem.space.tabulate_dof_coordinates()[problem.magnetic_nodes])
    weights = gathered(comm, problem.nodal_weights)
    column = columns(points)
    means = np.zeros((column.max() + 1, 3))
    np.add.at(means, column, weights[:, None] * before)
    means /= np.linalg.norm(means, axis=1)[:, None]
    after = gathered(comm, problem.owned_magnetization())
    np.testing.assert_allclose(after, means[column], atol=1e-14)
    assert problem.thickness_average.describe() == {"columns": 51 * 3, "nodes_per_column": 3}

    spreads = []
    expected = film_frequencies()
    integrator = AdaptiveIntegrator(problem, 1e-6)
    measured, _, deviation = film_mode_rates(
        integrator,
        points[:, 0],
        weights,
        expected,
        20,
        sample=lambda problem: spreads.append(column_spread(problem, comm)),
    )
    np.testing.assert_allclose(measured, expected, rtol=1e-2)
    assert max(spreads) < 1e-13
    assert deviation < NORM_TOLERANCE


def permalloy_film(uniform: bool) -> dict:
    """A 200 x 50 x 3 nm permalloy film, 10 nm elements in one layer, FEM-BEM, 20 ps of
    rk45 under SP4's field 1 from m = (1, 0.3, 0.1)."""
    return {
        "name": "permalloy film",
        "geometry": {
            "kind": "magnet_body",
            "length_unit": "nm",
            "lx": 200.0,
            "ly": 50.0,
            "lz": 3.0,
            "open_boundary": "none",
            "magnet_mesh_size": 10.0,
            "mesh_size": 10.0,
            "layers": 1,
        },
        "regions": {"magnet": {"material": "permalloy", "magnetization_direction": [1, 0.3, 0.1]}},
        "physics": {"transport": "none"},
        "magnetization": {"demagnetization": "fem_bem", "uniform_through_thickness": uniform},
        "applied_field": {"amplitude_T": [-0.0246, 0.0043, 0.0]},
        "dynamics": {
            "end_time_s": 2e-11,
            "time_step_s": 1e-11,
            "scheme": "rk45",
            "checkpoint_every": 100,
        },
        "output": {"png": False, "fields_xdmf": False},
    }


@pytest.mark.mpi
def test_uniform_film_follows_the_free_film_in_fewer_steps(shared_tmp_path, comm):
    """Starting uniform, a 3 nm film stays nearly uniform through its thickness (the
    exchange length of permalloy is 5.7 nm): <m> after 20 ps with and without the
    restriction agree to 1e-4 (measured 2.1e-5), and the restricted run takes fewer steps
    (measured 9 against 42, 61 field evaluations against 265: the one-layer mesh's exchange
    modes across the 3 nm bound the free run's explicit step)."""
    results = {}
    for uniform in (False, True):
        device = device_from_mapping(permalloy_film(uniform), "film.toml")
        results[uniform] = run_device(device, shared_tmp_path / f"film-{uniform}", quiet=True)
    free, restricted = results[False], results[True]
    np.testing.assert_allclose(
        restricted["final"]["average_magnetization"],
        free["final"]["average_magnetization"],
        atol=1e-4,
    )
    moved = np.subtract(free["final"]["average_magnetization"], [1, 0.3, 0.1] / np.sqrt(1.1))
    assert np.abs(moved).max() > 1e-2  # the comparison is not of the initial state
    assert restricted["solver"]["accepted_steps"] < free["solver"]["accepted_steps"]
    nodes = restricted["magnetization"]["magnetic_nodes"]
    assert restricted["magnetization"]["uniform_through_thickness"] == {
        "columns": nodes // 2,
        "nodes_per_column": 2,
    }
    assert "uniform_through_thickness" not in free["magnetization"]


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        (
            lambda t: t["geometry"].pop("layers"),
            "magnetization.uniform_through_thickness",
            "expected geometry.layers",
        ),
        (lambda t: t["dynamics"].update(scheme="bdf2"), "dynamics.scheme", "expected 'rk45'"),
        (
            lambda t: t["dynamics"].update(relax_first=True),
            "dynamics.relax_method",
            "expected 'barzilai_borwein'",
        ),
        (
            lambda t: t["magnetization"].update(uniform_through_thickness="yes"),
            "magnetization.uniform_through_thickness",
            "expected",
        ),
    ],
)
def test_uniform_through_thickness_is_checked(change, key, fragment):
    table = copy.deepcopy(permalloy_film(True))
    change(table)
    expect_error(table, key, fragment)
