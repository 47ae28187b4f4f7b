"""End-to-end ohmic transport on the two-terminal bar: R = L/(sigma A), conservation, outputs."""

import json

import numpy as np
import pytest
from conftest import bar_table

from weylfem.config import device_from_mapping
from weylfem.errors import ConvergenceError
from weylfem.run import run_device

pytestmark = pytest.mark.mpi


def bar_device(
    dimension: int,
    solver: dict | None = None,
    png: bool = True,
    physics: dict | None = None,
    **geometry,
):
    table = bar_table()
    table["geometry"].update({"dimension": dimension, "mesh_size": 0.5, **geometry})
    table["contacts"]["source"]["voltage_V"] = 2.0e-3
    table["contacts"]["drain"]["voltage_V"] = -1.0e-3
    table["solver"].update(solver or {})
    table["output"]["png"] = png
    table["physics"].update(physics or {})
    return device_from_mapping(table, "test")


@pytest.mark.parametrize(("dimension", "degree"), [(2, 1), (3, 1), (2, 2), (3, 2)])
def test_resistance_of_bar(dimension, degree, shared_tmp_path):
    device = bar_device(dimension, png=False, physics={"element_degree": degree})
    results = run_device(device, shared_tmp_path / "out")
    g = device.geometry
    sigma = device.material_of("channel").conductivity_S_per_m
    # 2D: the sheet of unit thickness (1 m); 3D: the box cross-section.
    area = g.cross_section() * 1e-6 ** (dimension - 1)
    expected = g.length * 1e-6 / (sigma * area)
    assert results["two_terminal_resistance_ohm"] == pytest.approx(expected, rel=1e-9)
    currents = [c["current_A"] for c in results["contacts"].values()]
    assert currents[0] == pytest.approx(3.0e-3 / expected, rel=1e-9)
    assert abs(sum(currents)) <= 1e-10 * max(abs(c) for c in currents)
    conductance = np.array(results["conductance_matrix_S"])
    assert conductance == pytest.approx(conductance.T, rel=1e-9)
    assert conductance.sum(axis=0) == pytest.approx(0.0, abs=1e-10 * conductance.max())


def test_results_and_fields_written(shared_tmp_path, comm):
    device = bar_device(3)
    out = shared_tmp_path / "run"
    run_device(device, out)
    comm.barrier()
    results = json.loads((out / "results.json").read_text())
    for key in ("contacts", "mesh", "solver", "timings_s"):
        assert key in results
    assert set(results["contacts"]["source"]) == {"drive", "voltage_V", "current_A"}
    assert results["mesh"]["ranks"] == comm.size
    assert results["mesh"]["dofs"] == results["mesh"]["vertices"]
    assert results["solver"]["residual"] < 1e-10
    assert set(results["timings_s"]) >= {"mesh", "setup", "solve", "output", "total"}
    xdmf = (out / "fields.xdmf").read_text()
    for name in ("regions", "phi_c", "J"):  # one grid carries every array (test_field_output)
        assert f'Name="{name}"' in xdmf
    assert 'Name="boundaries"' in (out / "fields_boundaries.xdmf").read_text()
    assert (out / "fields.h5").stat().st_size > 0
    png = (out / "phi_c.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert not list(shared_tmp_path.glob(".run.partial-*"))


def test_iterative_matches_direct(shared_tmp_path):
    direct = run_device(bar_device(3, {"kind": "direct"}, mesh_size=0.4), shared_tmp_path / "d")
    iterative = run_device(
        bar_device(3, {"kind": "iterative", "rtol": 1e-12}, mesh_size=0.4), shared_tmp_path / "i"
    )
    assert iterative["solver"]["ksp_type"] == "cg"
    assert iterative["solver"]["pc_type"] == "hypre"
    assert iterative["solver"]["iterations"] > 0
    assert iterative["two_terminal_resistance_ohm"] == pytest.approx(
        direct["two_terminal_resistance_ohm"], rel=1e-8
    )


def test_convergence_failure_is_raised_and_leaves_no_output(shared_tmp_path, comm):
    device = bar_device(3, {"kind": "iterative", "rtol": 1e-14, "petsc_options": {"ksp_max_it": 1}})
    with pytest.raises(ConvergenceError) as info:
        run_device(device, shared_tmp_path / "failed")
    assert info.value.solver == "transport"
    assert info.value.reason == "DIVERGED_MAX_IT"
    assert info.value.iterations == 1
    comm.barrier()
    assert not (shared_tmp_path / "failed").exists()
