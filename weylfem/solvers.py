"""PETSc linear solvers, each with its own options prefix and a convergence check.

Direct (MUMPS) or iterative (Krylov + BoomerAMG) is chosen by problem size
(`choose_kind`); the size limit of the direct solver depends on the dimension, because
the fill of a 3D factorization grows much faster: measured on this project's 3D bar
(bench/results.md), MUMPS needs 8.8 s and 674 MiB to factorize the coupled charge-valley
system at 9.2e4 dofs, against 0.7 s and 228 MiB for the whole iterative solve (and about
90 s and 2.9 GB at 2.4e5 dofs).
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import re
import time
from collections.abc import Callable, Mapping

from petsc4py import PETSc

from weylfem import compat
from weylfem.errors import ConvergenceError
from weylfem.timings import WORK_TIMERS

_counter = itertools.count()

DIRECT_OPTIONS: dict[str, str] = {
    "ksp_type": "preonly",
    "pc_type": "lu",
    "pc_factor_mat_solver_type": "mumps",
}
"""Defaults of the direct solver (MUMPS LU)."""


def direct_spd_options(ranks: int) -> dict[str, str]:
    """Defaults of the direct solver of a symmetric positive-definite system solved many
    times with one factorization (the demagnetizing potentials): PETSc's own Cholesky in
    nested-dissection order, on one rank; on several ranks every rank factorizes the whole
    system (PCREDUNDANT) and solves it alone, which for the small systems the automatic
    choice factorizes is faster than a distributed solve.  Measured on the SP4 film (12 196
    dofs, one back-solve): 0.96 ms against MUMPS LU's 1.56 ms on one rank, 0.94 ms
    against 1.19 ms on two."""
    cholesky = {
        "pc_type": "cholesky",
        "pc_factor_mat_solver_type": "petsc",
        "pc_factor_mat_ordering_type": "nd",
    }
    if ranks == 1:
        return {"ksp_type": "preonly", **cholesky}
    redundant = {f"redundant_{key}": value for key, value in cholesky.items()}
    return {"ksp_type": "preonly", "pc_type": "redundant", **redundant}


DIRECT_MAX_DOFS: dict[int, int] = {1: 1_000_000, 2: 200_000, 3: 30_000}
"""Largest problem (dofs) the automatic choice solves directly, by mesh dimension."""


def boomeramg_options(dimension: int) -> dict[str, str]:
    """BoomerAMG as one preconditioner application (one V-cycle).  In 3D with the
    coarsening of the DOLFINx performance tests (strong threshold 0.7, aggressive
    coarsening on 4 levels along 2 paths), which keeps the operator complexity and the
    set-up cost low; in 1D and 2D with hypre's defaults."""
    options = {"pc_type": "hypre", "pc_hypre_type": "boomeramg"}
    if dimension == 3:
        options.update(
            pc_hypre_boomeramg_strong_threshold="0.7",
            pc_hypre_boomeramg_agg_nl="4",
            pc_hypre_boomeramg_agg_num_paths="2",
        )
    return options


def iterative_spd_options(dimension: int) -> dict[str, str]:
    """Defaults of the iterative solver for symmetric positive-definite systems: CG with
    one BoomerAMG V-cycle per iteration."""
    return {"ksp_type": "cg", "ksp_max_it": "1000", **boomeramg_options(dimension)}


def iterative_block_options(fields: int, dimension: int) -> dict[str, str]:
    """Defaults for a nonsymmetric system of `fields` interleaved scalar fields (bs = fields):
    GMRES preconditioned by a block Gauss-Seidel fieldsplit with one BoomerAMG V-cycle on
    each diagonal block (the off-diagonal couplings are lower order).  The iteration count
    grows with the mesh exactly as that of CG + BoomerAMG on a Poisson problem does (3D bar:
    20 at 9e4 dofs, 28 at 1.4e6; bench/results.md)."""
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
        for key, value in boomeramg_options(dimension).items():
            options[f"fieldsplit_{i}_{key}"] = value
    return options


_REASONS = {
    value: name
    for name, value in vars(PETSc.KSP.ConvergedReason).items()
    if not name.startswith("_") and isinstance(value, int)
}


def choose_kind(
    kind: str,
    dofs: int,
    direct_max_dofs: int | None,
    dimension: int,
    defaults: Mapping[int, int] = DIRECT_MAX_DOFS,
) -> tuple[str, str]:
    """Resolve 'auto' by problem size: direct up to `direct_max_dofs` (None: the default
    of the mesh dimension in `defaults`); returns (kind, human-readable reason)."""
    if kind != "auto":
        return kind, f"{kind} (requested)"
    if direct_max_dofs is None:
        limit, source = defaults[dimension], f"the {dimension}D default"
    else:
        limit, source = direct_max_dofs, "solver.direct_max_dofs"
    if dofs <= limit:
        return "direct", f"direct (auto: {dofs} dofs <= {limit}, {source})"
    return "iterative", f"iterative (auto: {dofs} dofs > {limit}, {source})"


class LinearSolver:
    """A KSP bound to one matrix, configured through a private options prefix."""

    def __init__(
        self,
        name: str,
        matrix: PETSc.Mat,
        kind: str,
        rtol: float,
        petsc_options: Mapping[str, object],
        iterative_options: Mapping[str, str],
        *,
        symmetric: bool = False,
    ):
        """`symmetric`: the matrix is symmetric positive definite (the direct kind then
        takes `direct_spd_options`)."""
        self.name = name
        self.kind = kind
        self.prefix = f"weylfem_{name}_{next(_counter)}_"
        if kind != "direct":
            defaults = {**iterative_options, "ksp_rtol": rtol}
        elif symmetric:
            defaults = direct_spd_options(matrix.getComm().getSize())
        else:
            defaults = DIRECT_OPTIONS
        self.options = {key: str(value) for key, value in {**defaults, **petsc_options}.items()}
        self.ksp = PETSc.KSP().create(matrix.getComm())
        self.ksp.setOptionsPrefix(self.prefix)
        self.ksp.setOperators(matrix)
        database = PETSc.Options()
        for key, value in self.options.items():
            database[self.prefix + key] = value
        self.iterations = 0
        self.setup_s = 0.0
        """wall time of preconditioner set-ups (factorizations, AMG hierarchies) so far"""
        self.solve_s = 0.0
        """wall time of the Krylov solves so far (without set-ups)"""
        self.solves = 0
        try:
            self.ksp.setFromOptions()
            self.set_up()  # nested solvers (fieldsplit blocks) read their options here
        finally:
            for key in self.options:
                database.delValue(self.prefix + key)

    def set_up(self) -> None:
        """Build the preconditioner of the current operator (after `ksp.setOperators`)."""
        start = time.perf_counter()
        with compat.timer(WORK_TIMERS["preconditioner"]):
            self.ksp.setUp()
            # block Jacobi factorizes its blocks here; fieldsplit (PETSc 3.18) builds its
            # blocks' preconditioners in the first solve instead
            self.ksp.setUpOnBlocks()
        self.setup_s += time.perf_counter() - start

    def update_operator(self, matrix: PETSc.Mat) -> None:
        """The operator's values changed (same pattern): rebuild the preconditioner."""
        self.ksp.setOperators(matrix)
        self.set_up()

    def solve(self, rhs: PETSc.Vec, solution: PETSc.Vec) -> None:
        """Solve in place; raise ConvergenceError when PETSc reports divergence."""
        start = time.perf_counter()
        with compat.timer(WORK_TIMERS["solve"]):
            self.ksp.solve(rhs, solution)
        self.solve_s += time.perf_counter() - start
        self.solves += 1
        reason = self.ksp.getConvergedReason()
        self.iterations = max(self.iterations, self.ksp.getIterationNumber())
        if reason < 0:
            raise ConvergenceError(
                self.name, _REASONS.get(reason, str(reason)), self.ksp.getIterationNumber()
            )

    def describe(self) -> dict[str, object]:
        """Solver type, options and counts, for results.json."""
        return {
            "ksp_type": self.ksp.getType(),
            "pc_type": self.ksp.getPC().getType(),
            "options_prefix": self.prefix,
            "petsc_options": self.options,
            "iterations": self.iterations,
            "solves": self.solves,
            "setup_s": self.setup_s,
            "solve_s": self.solve_s,
        }


def solver_description(choice: str, solver: LinearSolver | None) -> dict[str, object]:
    """How a problem is solved, for results.json: `kind`, the resolved [solver] kind and
    why (`choose_kind`), then the PETSc solver's types, options and counts (if built)."""
    return {"kind": choice, **({} if solver is None else solver.describe())}


_OPTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_UNPROBED_WORDS = ("view", "monitor", "converged_reason", "print")
"""Options containing these words are passed to PETSc unchecked: viewers, monitors and
reports act (print, open files) when read, which `weylfem check` must not do."""
PETSC_NOT_CONVERGED = 91
"""PETSc's error code of a solve that did not converge (PETSC_ERR_NOT_CONVERGED)."""


def check_petsc_options(
    options: Mapping[str, object], configurations: Mapping[str, Mapping[str, str]]
) -> tuple[str, str] | None:
    """The first problem of the user's PETSc `options` as (option name, "expected ...,
    got ..."), None if there is none.  Each configuration (a solver's description -> the
    defaults of that solver, which the run may build) is tried on a tiny KSP with its
    own options prefix on PETSC_COMM_SELF: an option value PETSc refuses (an unknown
    ksp_type, pc_type, ...) is named; so is an option none of the configurations reads
    (when the PETSc library tells which options were used).  Viewer, monitor and report
    options (_UNPROBED_WORDS) are not tried."""
    for key in options:
        if not _OPTION_NAME.fullmatch(key):
            return key, (
                "expected an option name of letters, digits and underscores, without the"
                f" leading '-' (weylfem adds each solver's prefix), got {key!r}"
            )
    probed = {
        key: value for key, value in options.items() if not any(w in key for w in _UNPROBED_WORDS)
    }
    if not probed:
        return None
    used: set[str] = set()
    for solver, defaults in configurations.items():
        error = _probe(defaults, probed, used)
        if not error:
            continue
        items = list(probed.items())
        culprit = next(
            (i for i in range(len(items)) if _probe(defaults, dict(items[: i + 1]), set())),
            len(items) - 1,
        )
        key, value = items[culprit]
        return key, f"expected a value PETSc accepts for the {solver} ({error}), got {value!r}"
    if _option_used() is None:
        return None  # the library does not tell: names are not checked
    for key in probed:
        if key not in used:
            return key, (
                f"expected an option PETSc reads for the {' or '.join(configurations)} (a KSP,"
                f" PC or factorization option), got {key!r}, which none of them reads"
            )
    return None


def _probe(defaults: Mapping[str, str], options: Mapping[str, object], used: set[str]) -> str:
    """Set up (and run once) a KSP on a 12 x 12 SPD matrix with `defaults` and `options`
    under a fresh prefix: PETSc's message if it refuses them, else "".  Adds the names of
    `options` PETSc read to `used`."""
    prefix = f"weylfem_check_{next(_counter)}_"
    merged = {key: str(value) for key, value in {**defaults, **options}.items()}
    database = PETSc.Options()
    n = 12  # divisible by every block size a fieldsplit of 1 to 4 fields may ask for
    matrix = PETSc.Mat().createAIJ([n, n], nnz=3, comm=PETSc.COMM_SELF)
    for i in range(n):
        matrix[i, i] = 2.0
        if i + 1 < n:
            matrix[i, i + 1] = matrix[i + 1, i] = -1.0
    matrix.assemble()
    ksp = PETSc.KSP().create(PETSc.COMM_SELF)
    ksp.setOptionsPrefix(prefix)
    ksp.setOperators(matrix)
    rhs, solution = matrix.createVecs()
    rhs.set(1.0)
    for key, value in merged.items():
        database[prefix + key] = value
    try:
        ksp.setFromOptions()
        ksp.setUp()
        ksp.setUpOnBlocks()
        try:
            ksp.solve(rhs, solution)  # fieldsplit blocks read their options here
        except PETSc.Error as error:
            if error.ierr != PETSC_NOT_CONVERGED:
                raise
        return ""
    except PETSc.Error as error:
        lines = [line.removeprefix("[0] ").strip() for line in str(error).splitlines()]
        return (lines[-1] if lines else "") or f"PETSc error code {error.ierr}"
    finally:
        is_used = _option_used()
        if is_used is not None:
            used.update(key for key in options if is_used(prefix + key))
        for key in merged:
            database.delValue(prefix + key)
        for thing in (ksp, matrix, rhs, solution):
            thing.destroy()


@functools.cache
def _option_used() -> Callable[[str], bool] | None:
    """PetscOptionsUsed of the global options database (petsc4py does not wrap it),
    through the PETSc library petsc4py is linked to; None where it cannot be found."""
    try:
        function = ctypes.CDLL(PETSc.__file__).PetscOptionsUsed
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    function.restype = ctypes.c_int

    def used(name: str) -> bool:
        flag = ctypes.c_int(0)
        return function(None, name.encode(), ctypes.byref(flag)) == 0 and bool(flag.value)

    return used
