"""PETSc linear solvers, each with its own options prefix and a convergence check."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from petsc4py import PETSc

from weylfem.errors import ConvergenceError

_counter = itertools.count()

DIRECT_OPTIONS: dict[str, str] = {
    "ksp_type": "preonly",
    "pc_type": "lu",
    "pc_factor_mat_solver_type": "mumps",
}
"""Defaults of the direct solver (MUMPS LU)."""

ITERATIVE_SPD_OPTIONS: dict[str, str] = {
    "ksp_type": "cg",
    "pc_type": "hypre",
    "pc_hypre_type": "boomeramg",
    "ksp_max_it": "1000",
}
"""Defaults of the iterative solver for symmetric positive-definite systems."""


def iterative_block_options(fields: int) -> dict[str, str]:
    """Defaults for a nonsymmetric system of `fields` interleaved scalar fields (bs = fields):
    GMRES preconditioned by a block Gauss-Seidel fieldsplit with BoomerAMG on each block."""
    options = {
        "ksp_type": "gmres",
        "ksp_gmres_restart": "200",
        "ksp_max_it": "2000",
        "pc_type": "fieldsplit",
        "pc_fieldsplit_type": "multiplicative",
        "pc_fieldsplit_block_size": str(fields),
    }
    for i in range(fields):
        options[f"pc_fieldsplit_{i}_fields"] = str(i)
        options[f"fieldsplit_{i}_ksp_type"] = "preonly"
        options[f"fieldsplit_{i}_pc_type"] = "hypre"
        options[f"fieldsplit_{i}_pc_hypre_type"] = "boomeramg"
    return options


_REASONS = {
    value: name
    for name, value in vars(PETSc.KSP.ConvergedReason).items()
    if not name.startswith("_") and isinstance(value, int)
}


def choose_kind(kind: str, dofs: int, direct_max_dofs: int) -> tuple[str, str]:
    """Resolve 'auto' by problem size; returns (kind, human-readable reason)."""
    if kind != "auto":
        return kind, f"{kind} (requested)"
    if dofs <= direct_max_dofs:
        return "direct", f"direct (auto: {dofs} dofs <= {direct_max_dofs})"
    return "iterative", f"iterative (auto: {dofs} dofs > {direct_max_dofs})"


class LinearSolver:
    """A KSP bound to one matrix, configured through a private options prefix."""

    def __init__(
        self,
        name: str,
        matrix: PETSc.Mat,
        kind: str,
        rtol: float,
        petsc_options: Mapping[str, object],
        iterative_options: Mapping[str, str] = ITERATIVE_SPD_OPTIONS,
    ):
        self.name = name
        self.kind = kind
        self.prefix = f"weylfem_{name}_{next(_counter)}_"
        defaults = DIRECT_OPTIONS if kind == "direct" else {**iterative_options, "ksp_rtol": rtol}
        self.options = {key: str(value) for key, value in {**defaults, **petsc_options}.items()}
        self.ksp = PETSc.KSP().create(matrix.getComm())
        self.ksp.setOptionsPrefix(self.prefix)
        self.ksp.setOperators(matrix)
        database = PETSc.Options()
        for key, value in self.options.items():
            database[self.prefix + key] = value
        try:
            self.ksp.setFromOptions()
            self.ksp.setUp()  # nested solvers (fieldsplit blocks) read their options here
        finally:
            for key in self.options:
                database.delValue(self.prefix + key)
        self.iterations = 0

    def solve(self, rhs: PETSc.Vec, solution: PETSc.Vec) -> None:
        """Solve in place; raise ConvergenceError when PETSc reports divergence."""
        self.ksp.solve(rhs, solution)
        reason = self.ksp.getConvergedReason()
        self.iterations = max(self.iterations, self.ksp.getIterationNumber())
        if reason < 0:
            raise ConvergenceError(
                self.name, _REASONS.get(reason, str(reason)), self.ksp.getIterationNumber()
            )

    def describe(self) -> dict[str, object]:
        """Solver type and options, for results.json."""
        return {
            "kind": self.kind,
            "ksp_type": self.ksp.getType(),
            "pc_type": self.ksp.getPC().getType(),
            "options_prefix": self.prefix,
            "petsc_options": self.options,
            "iterations": self.iterations,
        }
