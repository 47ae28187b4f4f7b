"""The size estimate before meshing (weylfem.estimate): calibration against real meshes,
and the budget that `weylfem check`, `run` and `mesh` enforce unless --allow-large."""

import pytest
from conftest import bar_table, run_cli, write_toml

from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError
from weylfem.estimate import Budget, check_budget, estimate_run
from weylfem.meshing import mesh_device

pytestmark = pytest.mark.serial

ACCURACY = 2.0
"""Estimated cells are within this factor of gmsh's (measured: 0.97 to 1.3)."""


def bar(dimension: int, mesh_size: float, refine: bool = False, **geometry) -> dict:
    table = bar_table()
    table["geometry"].update(dimension=dimension, mesh_size=mesh_size, **geometry)
    if refine:
        table["geometry"]["refine"] = [
            {"groups": ["source"], "size": mesh_size / 4, "distance": 1.0, "transition": 1.0}
        ]
    return table


@pytest.mark.parametrize(
    "table",
    [
        bar(2, 0.1),
        bar(2, 0.1, refine=True),
        bar(3, 0.15, thickness=1.0),
        bar(3, 0.25, refine=True, thickness=1.0),
    ],
    ids=["2D", "2D refined", "3D", "3D refined"],
)
def test_estimated_cells_match_gmsh_within_a_factor_2(table):
    device = device_from_mapping(table, "bar.toml")
    estimate = estimate_run(device, "bar.toml")
    cells = mesh_device(device).counts()["cells"]
    assert 1 / ACCURACY < estimate.cells / cells < ACCURACY, (estimate.cells, cells)
    assert estimate.steps == 0 and not estimate.exact_cells


def test_valley_layers_are_estimated():
    """Refinement toward the contacts to lambda_v/5 (TaAs, lambda_v = 4.4 um) of a coarse 2D
    bar: the estimate follows the refined mesh and names the key behind it."""
    table = bar(2, 1.5, length=40.0, width=4.0)
    table["regions"]["channel"]["material"] = "TaAs"
    table["physics"]["transport"] = "charge_valley"
    table["geometry"]["resolve_valley_layers"] = True
    device = device_from_mapping(table, "bar.toml")
    estimate = estimate_run(device, "bar.toml")
    cells = mesh_device(device).counts()["cells"]
    assert 1 / ACCURACY < estimate.cells / cells < ACCURACY, (estimate.cells, cells)
    assert estimate.driver == "geometry.resolve_valley_layers"
    assert estimate.dofs == pytest.approx(2 * estimate.vertices)


def test_degree_and_unknowns_raise_the_dofs():
    table = bar(3, 0.25)
    ohmic = estimate_run(device_from_mapping(table, "bar.toml"))
    table["physics"]["element_degree"] = 2
    quadratic = estimate_run(device_from_mapping(table, "bar.toml"))
    assert quadratic.cells == ohmic.cells
    assert 6 < quadratic.dofs / ohmic.dofs < 9  # P2 on tetrahedra: ~7.2 nodes per vertex


def test_budget_refusal_names_the_estimate():
    device = device_from_mapping(bar(3, 0.25), "bar.toml")
    estimate = estimate_run(device, "bar.toml")
    with pytest.raises(ConfigError) as info:
        check_budget(device, "bar.toml", estimate, Budget(max_cells=100, max_memory_bytes=1e12))
    message = str(info.value)
    assert message.startswith("bar.toml: geometry.mesh_size: expected a mesh within the budget")
    assert f"got an estimated {estimate.cells:.3g} cells" in message
    assert message.endswith("use --allow-large to run anyway")
    check_budget(device, "bar.toml", estimate, Budget(max_cells=1e6, max_memory_bytes=1e12))


MPIRUN = ("mpirun", "-n", "2")


def weylfem(*args, cwd, launcher=()):
    return run_cli(*args, cwd=cwd, launcher=launcher, timeout=300)


def assert_refused(result, fragment: str):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0], lines[0]


def test_cli_refuses_a_mesh_beyond_the_budget_before_meshing(tmp_path):
    """mesh_size a thousand times too small: check, mesh and run exit 2 at once with the
    estimate (never reaching gmsh's meshing), also under mpirun -n 2; check --allow-large
    prints it."""
    write_toml(tmp_path / "huge.toml", bar(3, 0.25e-3))
    fragment = "huge.toml: geometry.mesh_size: expected a mesh within the budget (<= 5e+06 cells"
    for command in (["check"], ["mesh", "--out", "m"], ["run", "--out", "out"]):
        result = weylfem(command[0], "huge.toml", *command[1:], cwd=tmp_path)
        assert_refused(result, fragment)
        assert "got an estimated 3.2e+12 cells" in result.stderr
    under_mpi = weylfem("run", "huge.toml", "--out", "out", cwd=tmp_path, launcher=MPIRUN)
    assert under_mpi.returncode == 2 and "Traceback" not in under_mpi.stderr
    errors = [line for line in under_mpi.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and fragment in errors[0], under_mpi.stderr  # rank 0 only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.toml"]
    allowed = weylfem("check", "huge.toml", "--allow-large", cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert "estimate: ~3.2e+12 cells" in allowed.stdout
    assert "beyond (--allow-large) the budget" in allowed.stdout


def test_cli_refuses_too_many_steps(tmp_path):
    table = bar(2, 0.5)
    table["physics"]["transport"] = "charge_valley"
    table["regions"]["channel"]["material"] = "TaAs"
    table["transient"] = {"end_time_s": 1.0, "time_step_s": 1e-15}
    write_toml(tmp_path / "long.toml", table)
    assert_refused(
        weylfem("run", "long.toml", "--out", "out", cwd=tmp_path),
        "long.toml: transient.time_step_s: expected at most 1e+07 time steps within the budget,"
        " got 1e+15; use --allow-large to run anyway",
    )
    table["transient"]["time_step_s"] = 0.25
    write_toml(tmp_path / "short.toml", table)
    checked = weylfem("check", "short.toml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert ", 4 steps, " in checked.stdout and "within the budget" in checked.stdout
