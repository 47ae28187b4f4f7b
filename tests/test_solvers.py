"""Solver wrapper: private options prefix, automatic choice, converged-reason check."""

import pytest
from petsc4py import PETSc

from weylfem.solvers import DIRECT_MAX_DOFS, LinearSolver, choose_kind, iterative_spd_options

pytestmark = pytest.mark.mpi


def laplacian_1d(n: int, comm) -> PETSc.Mat:
    matrix = PETSc.Mat().createAIJ([n, n], nnz=3, comm=comm)
    start, end = matrix.getOwnershipRange()
    for i in range(start, end):
        matrix.setValue(i, i, 2.0)
        if i > 0:
            matrix.setValue(i, i - 1, -1.0)
        if i < n - 1:
            matrix.setValue(i, i + 1, -1.0)
    matrix.assemble()
    return matrix


def test_choose_kind():
    assert choose_kind("auto", 10, 100, 3) == (
        "direct",
        "direct (auto: 10 dofs <= 100, solver.direct_max_dofs)",
    )
    assert choose_kind("auto", 1000, 100, 3)[0] == "iterative"
    assert choose_kind("direct", 10**9, 100, 3)[0] == "direct"
    # without a limit the dimension's default applies: 3D factorizations fill much faster
    assert DIRECT_MAX_DOFS[3] < DIRECT_MAX_DOFS[2]
    kind, reason = choose_kind("auto", 100_000, None, 3)
    assert kind == "iterative" and "the 3D default" in reason
    assert choose_kind("auto", 100_000, None, 2)[0] == "direct"


@pytest.mark.parametrize("kind", ["direct", "iterative"])
def test_solves_and_leaves_no_global_options(kind, comm):
    matrix = laplacian_1d(50, comm)
    solver = LinearSolver("probe", matrix, kind, 1e-12, {}, iterative_spd_options(1))
    assert solver.prefix.startswith("weylfem_probe_")
    assert solver.ksp.getOptionsPrefix() == solver.prefix
    assert not any(key.startswith("weylfem_") for key in PETSc.Options().getAll())
    exact = matrix.createVecRight()
    exact.set(1.0)
    rhs = matrix.createVecLeft()
    matrix.mult(exact, rhs)
    solution = matrix.createVecRight()
    solver.solve(rhs, solution)
    solution.axpy(-1.0, exact)
    assert solution.norm() < 1e-8
    assert solver.describe()["ksp_type"] == ("preonly" if kind == "direct" else "cg")


def test_user_options_override_defaults(comm):
    solver = LinearSolver(
        "probe",
        laplacian_1d(10, comm),
        "iterative",
        1e-8,
        {"ksp_type": "gmres"},
        iterative_spd_options(1),
    )
    assert solver.ksp.getType() == "gmres"
    assert solver.options["ksp_rtol"] == "1e-08"
