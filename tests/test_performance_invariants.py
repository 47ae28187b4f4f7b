"""What keeps runs fast without timing anything: N contacts cost N - 1 linear solves,
time steps compile no form and create no PETSc object, and results.json splits the wall
time into phases."""

import dolfinx
import dolfinx.fem.petsc
import numpy as np
import pytest
import ufl
from conftest import bar_table, interface_film_table
from dolfinx import fem

from weylfem.config import device_from_mapping
from weylfem.coupled.setup import build_coupled
from weylfem.experiments import nonlocal_strip_table
from weylfem.meshing import mesh_device
from weylfem.run import run_device
from weylfem.transport import TransportProblem

pytestmark = pytest.mark.mpi


def test_last_unit_solution_needs_no_solve(comm):
    """phi_c = 1, phi_v = 0 solves the all-contacts-at-1-V problem (every term sees phi_c
    through its gradient), so the last unit solution is that state minus the others: it
    equals a direct solve, with B, Hall, valley relaxation and four contacts."""
    table = nonlocal_strip_table([2.0], field_T=(0.3, 0.0, 0.2), length=8.0, mesh_size=0.25)
    device = device_from_mapping(table, "strip")
    problem = TransportProblem(device, mesh_device(device, comm))
    operator = problem.operator
    derived = operator._unit_solutions()[-1]
    assert problem.solver.solves == len(problem.contact_order) - 1
    direct = fem.Function(problem.space)
    operator._solve(direct, len(problem.contact_order) - 1)
    scale = comm.allreduce(np.abs(direct.x.array).max(), op=max)
    difference = comm.allreduce(np.abs(derived - direct.x.array).max(), op=max)
    assert difference < 1e-9 * scale
    # and its contact currents: the conductance matrix conserves current column by column
    conductance = operator.conductance
    assert np.abs(conductance.sum(axis=0)).max() < 1e-9 * np.abs(conductance).max()
    currents = problem.contacts.currents(direct, with_sources=False)
    assert currents == pytest.approx(conductance[:, -1], rel=1e-8, abs=1e-12)


def _count_calls(monkeypatch, owner, name: str, counts: dict) -> None:
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        counts[name] = counts.get(name, 0) + 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def test_coupled_steps_compile_nothing_and_create_no_petsc_objects(monkeypatch, comm):
    """After the first steps (solver set-up, the BDF2 start) a coupled step with the
    transport reassembled (Hall conductivity in the magnet) only reassembles: no JIT,
    no new form, Function, PETSc vector or matrix."""
    table = interface_film_table(direction=(0.6, 0.0, 0.8), mesh_size_um=0.5, thickness_um=4.0)
    table["dynamics"] = {"end_time_s": 1e-13, "time_step_s": 2e-14}
    device = device_from_mapping(table, "film")
    coupled = build_coupled(device, mesh_device(device, comm)).problem
    assert coupled.hall_follows_m
    coupled.synchronize()
    for _ in range(2):
        coupled.step(2e-14)
    counts: dict[str, int] = {}
    _count_calls(monkeypatch, dolfinx.jit, "ffcx_jit", counts)
    _count_calls(monkeypatch, dolfinx.fem, "form", counts)
    _count_calls(monkeypatch, dolfinx.fem.function.Function, "__init__", counts)
    _count_calls(monkeypatch, dolfinx.fem.petsc, "create_vector", counts)
    _count_calls(monkeypatch, dolfinx.fem.petsc, "create_matrix", counts)
    solver = coupled.transport.solver
    setups = solver.setup_s
    for _ in range(3):
        coupled.step(2e-14)
    assert counts == {}
    assert solver.setup_s > setups  # the preconditioner follows the reassembled operator


@pytest.mark.serial
def test_results_split_time_into_phases(tmp_path):
    table = bar_table()
    table["geometry"]["mesh_size"] = 0.5
    table["output"] = {"fields_xdmf": True, "png": False}
    results = run_device(device_from_mapping(table, "bar"), tmp_path / "out")
    timings = results["timings_s"]
    phases = ("mesh", "setup", "assemble", "preconditioner", "solve", "output")
    assert all(timings[phase] >= 0 for phase in phases)
    assert sum(timings[phase] for phase in phases) <= timings["total"] * (1 + 1e-9)
    assert results["solver"]["solves"] == 1  # two contacts: one linear solve
    assert "auto" in results["solver"]["kind"]


@pytest.mark.serial
def test_conductance_sweep_compiles_one_form():
    """G_v enters the forms as a Constant: a sweep over it has one form signature (one
    JIT compilation), while a change of the model (a new relaxing wall) has another."""
    signatures = []
    device_mesh = None
    for conductance in (1e12, 1e15, 0.0):
        table = nonlocal_strip_table([2.0], field_T=(0.3, 0.0, 0.0), length=8.0, mesh_size=0.5)
        table["walls"] = {"walls": {"valley_conductance_S_per_m2": conductance}}
        device = device_from_mapping(table, "strip")
        device_mesh = device_mesh or mesh_device(device)
        problem = TransportProblem(device, device_mesh)
        trial, test = ufl.TrialFunction(problem.space), ufl.TestFunction(problem.space)
        signatures.append(problem.model.weak_form(trial, test).signature())
    assert signatures[0] == signatures[1] != signatures[2]
