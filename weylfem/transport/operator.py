"""A linear operator a(u, v) = L(v) on a `ContactSpace`, solved exactly for any mix of
contact drives (docs/theory.md Sec. 2, "Contacts, exactly").

The operator is factorized (or preconditioned) once.  Its unit solutions u_k (1 V on
contact k, 0 V on the others, no right side) and their contact currents G_jk are
computed once, on first use; each solve then needs one more linear solve, for the
right side L with every contact at 0 V (u_0, currents I_0), skipped when L is zero.
When a(1_c, v) = 0 (every term sees phi_c only through its gradient, checked at set-up),
phi_c = 1, phi_v = 0 solves the problem with 1 V on every contact and carries no
current: the last unit solution is that state minus the others, and N contacts need
N - 1 linear solves.  The operating point follows from `ContactResponse` and
u = u_0 + sum_k V_k u_k.  The steady problem is one such operator; a transient step is
another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem
from petsc4py import PETSc

from weylfem import compat
from weylfem.device import Contact
from weylfem.solvers import LinearSolver
from weylfem.timings import WORK_TIMERS
from weylfem.transport.contacts import ContactResponse
from weylfem.transport.space import ContactSpace


@dataclass(frozen=True)
class SolverSettings:
    """How every operator of a problem is solved: `kind` ('direct' or 'iterative'), the
    relative tolerance, the user's PETSc options and the iterative defaults."""

    kind: str
    rtol: float
    petsc_options: Mapping[str, object]
    iterative_options: Mapping[str, str]

    def build(self, name: str, matrix: PETSc.Mat) -> LinearSolver:
        """A solver `name` bound to `matrix`."""
        return LinearSolver(
            name,
            matrix,
            self.kind,
            self.rtol,
            self.petsc_options,
            iterative_options=self.iterative_options,
        )


class ContactOperator:
    """a(u, v) = L(v) (`bilinear`, `linear`: UFL forms) with the contacts of `contacts`;
    `linear_is_zero` skips the solve for L."""

    def __init__(
        self,
        contacts: ContactSpace,
        settings: SolverSettings,
        name: str,
        bilinear: ufl.Form,
        linear: ufl.Form,
        linear_is_zero: bool = False,
    ):
        self.contacts = contacts
        self.bilinear_form = fem.form(bilinear)
        self.linear_form = fem.form(linear)
        self.linear_is_zero = linear_is_zero
        with compat.timer(WORK_TIMERS["assemble"]):
            matrix = compat.assemble_matrix(self.bilinear_form, contacts.bcs)
        contacts.check_unit_shortcut(name, bilinear, matrix)
        self.solver = settings.build(name, matrix)
        self._rhs = compat.create_vector(self.linear_form)
        self._residual = self._rhs.duplicate()
        self._unit = fem.Function(contacts.space)  # the state of the unit solves
        self.relative_residual = 0.0
        self._units: list[np.ndarray] | None = None
        self._conductance: np.ndarray | None = None

    def refresh(self) -> None:
        """Reassemble the matrix after a coefficient of a(u, v) changed (the magnetization
        of a coupled run): the factorization and the unit solutions are redone on use."""
        matrix = self.solver.ksp.getOperators()[0]
        with compat.timer(WORK_TIMERS["assemble"]):
            matrix.zeroEntries()
            compat.assemble_matrix_into(matrix, self.bilinear_form, self.contacts.bcs)
        self.solver.update_operator(matrix)
        self._units = None
        self._conductance = None

    def _solve(self, state: fem.Function, unit_contact: int | None) -> None:
        """state := the solution with 1 V on `unit_contact` and no right side, or (None)
        with the right side and every contact at 0 V."""
        self.contacts.impose(unit_contact)
        rhs, residual = self._rhs, self._residual
        with compat.timer(WORK_TIMERS["assemble"]):
            compat.assemble_rhs(
                rhs, self.linear_form, self.bilinear_form, self.contacts.bcs, unit_contact is None
            )
        values = compat.petsc_vector(state)
        self.solver.solve(rhs, values)
        state.x.scatter_forward()
        self.solver.ksp.getOperators()[0].mult(values, residual)
        residual.axpy(-1.0, rhs)
        scale = max(rhs.norm(), 1e-300)
        self.relative_residual = max(self.relative_residual, residual.norm() / scale)

    @property
    def conductance(self) -> np.ndarray:
        """G_jk: current into contact j per volt on contact k (the others at 0 V)."""
        self._unit_solutions()
        return self._conductance

    def _unit_solutions(self) -> list[np.ndarray]:
        if self._units is None:
            contacts, state = self.contacts, self._unit
            units, columns = [], []
            for contact in range(len(contacts.order) - 1):
                self._solve(state, contact)
                units.append(state.x.array.copy())
                columns.append(contacts.currents(state, with_sources=False))
            units.append(contacts.charge_unit.x.array - sum(units))
            columns.append(-sum(columns))
            self._units, self._conductance = units, np.column_stack(columns)
        return self._units

    def solve(
        self, state: fem.Function, drives: Mapping[str, Contact]
    ) -> tuple[ContactResponse, np.ndarray, np.ndarray]:
        """state := the solution for `drives`; returns the response, and the voltages and
        currents (into the device) of the contacts."""
        units = self._unit_solutions()
        if self.linear_is_zero:
            state.x.array[:] = 0.0
            source_currents = np.zeros(len(units))
        else:
            self._solve(state, None)
            source_currents = self.contacts.currents(state)
        response = ContactResponse(list(self.contacts.order), self.conductance, source_currents)
        voltages, currents = response.operating_point(drives)
        for voltage, unit in zip(voltages, units, strict=True):
            state.x.array[:] += voltage * unit
        return response, voltages, currents
