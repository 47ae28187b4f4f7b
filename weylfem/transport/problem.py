"""Steady charge (and valley) transport on a device mesh with any mix of contacts
(docs/theory.md Sec. 2).

The weak form is the sum of the model's terms, a(u, v) = L(v), with u = phi_c (ohmic
model) or u = (phi_c, phi_v) (charge_valley model, one blocked vector space with the
two potentials interleaved).  The problem is linear, so one factorization serves every
contact: solving with 1 V on contact k (0 V on the others, phi_v held at 0 on
valley-Dirichlet contacts) gives u_k, and G_jk = a(u_k, chi_j) - L(chi_j), where chi_j
is 1 on the charge degrees of freedom of contact j and 0 elsewhere: the current flowing
*into* the device through contact j (-int_j J.n ds), as a variationally consistent flux.
A solve with every contact at 0 V and the sources on gives u_0 and I_0.  The operating
point of voltage-driven, current-driven and floating contacts then follows from G and
I_0 (`ContactResponse`) and u = u_0 + sum_k V_k u_k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.device import Device
from weylfem.geometry import DeviceMesh
from weylfem.solvers import (
    LinearSolver,
    choose_kind,
    iterative_block_options,
    iterative_spd_options,
)
from weylfem.transport.coefficients import VectorField, build_coefficients
from weylfem.transport.contacts import ContactResponse, reference_contact
from weylfem.transport.model import TransportModel, term_context
from weylfem.transport.operator import ContactOperator, SolverSettings
from weylfem.transport.space import ContactSpace


@dataclass
class TransportSolution:
    """The potentials at the operating point and the multi-terminal response."""

    state: fem.Function
    """u: phi_c, or (phi_c, phi_v) interleaved"""
    charge_potential: fem.Function
    valley_potential: fem.Function | None
    charge_current: object
    """UFL expression of J (A/m^2)"""
    valley_current: object | None
    """UFL expression of J_v (A/m^2)"""
    valley_density: object | None
    """UFL expression of n_v = e N phi_v (1/m^3)"""
    response: ContactResponse
    voltages_V: np.ndarray
    currents_A: np.ndarray
    reference: int
    """index of the voltage reference contact"""
    resistance_matrix_ohm: np.ndarray
    dissipated_power_W: float
    """int of the symmetric part of the operator: Joule + valley dissipation"""

    @property
    def contact_order(self) -> list[str]:
        return self.response.order

    @property
    def conductance_matrix_S(self) -> np.ndarray:
        return self.response.conductance_S


class TransportProblem:
    """The model, its contact space, the steady operator and the solver settings of a
    device, built in one ordered set-up (docs/theory.md Sec. 2).

    `magnetic_field`, `magnetization` (callables x -> (3, n) values, or 3-vector
    Functions) replace the device's field values; `motive_force` (a UFL 3-vector, V/m)
    is the valley-motive force f of docs/theory.md Sec. 2.
    """

    def __init__(
        self,
        device: Device,
        device_mesh: DeviceMesh,
        *,
        magnetic_field: VectorField | None = None,
        magnetization: VectorField | None = None,
        motive_force=None,
    ):
        self.device = device
        self.device_mesh = device_mesh
        self.comm = device_mesh.comm
        self.coefficients = build_coefficients(device, device_mesh, magnetic_field, magnetization)
        context = term_context(device, device_mesh, self.coefficients, motive_force)
        self.model = TransportModel(device.physics.transport, context, device_mesh.mesh)
        self.contacts = ContactSpace(
            self.model, device_mesh, device.contacts, device.physics.element_degree
        )
        self.space = self.contacts.space
        self._dissipated = fem.Function(self.space)  # the state `dissipation_form` evaluates
        self._dissipation_form = fem.form(self.model.weak_form(self._dissipated, self._dissipated))

        dimension = device_mesh.mesh.topology.dim
        kind, self.solver_choice = choose_kind(
            device.solver.kind, self.dofs, device.solver.direct_max_dofs, dimension
        )
        self.solver_settings = SolverSettings(
            kind,
            device.solver.rtol,
            device.solver.petsc_options,
            iterative_block_options(2, dimension)
            if self.model.has_valley
            else iterative_spd_options(dimension),
        )
        test = ufl.TestFunction(self.space)
        self.operator = self.new_operator(
            "transport",
            self.model.weak_form(ufl.TrialFunction(self.space), test),
            self.model.source_form(test),
            linear_is_zero=not self.model.has_sources(test),
        )

    def new_operator(
        self, name: str, bilinear: ufl.Form, linear: ufl.Form, linear_is_zero: bool = False
    ) -> ContactOperator:
        """A ContactOperator a(u, v) = L(v) on this problem's contacts and solver
        settings."""
        return ContactOperator(
            self.contacts, self.solver_settings, name, bilinear, linear, linear_is_zero
        )

    @property
    def contact_order(self) -> list[str]:
        """The contacts, in the order of every per-contact array."""
        return self.contacts.order

    @property
    def dofs(self) -> int:
        """Global number of unknowns."""
        return self.contacts.dofs

    @property
    def solver(self) -> LinearSolver:
        """The PETSc solver of the steady operator."""
        return self.operator.solver

    @property
    def relative_residual(self) -> float:
        """Largest relative residual of the steady solves so far."""
        return self.operator.relative_residual

    # -- solving ------------------------------------------------------------------------

    def solve(self) -> TransportSolution:
        """Unit solves, the contact response, and the state at the operating point."""
        state = fem.Function(self.space, name="u")
        response, voltages, currents = self.operator.solve(state, self.device.contacts)
        reference = reference_contact(self.contact_order, self.device.contacts)
        return self._solution(state, response, voltages, currents, reference)

    def split(self, state: fem.Function) -> tuple[fem.Function, fem.Function]:
        """phi_c and phi_v of a charge_valley `state`, as new Functions on the collapsed
        spaces made at set-up (no collapse per call)."""
        potentials = []
        for (space, dofs), name in zip(self.contacts.components, ("phi_c", "phi_v"), strict=True):
            potential = fem.Function(space, name=name)
            potential.x.array[:] = state.x.array[dofs]
            potentials.append(potential)
        return potentials[0], potentials[1]

    def _solution(self, state, response, voltages, currents, reference) -> TransportSolution:
        self._dissipated.x.array[:] = state.x.array
        power = self.comm.allreduce(fem.assemble_scalar(self._dissipation_form), op=MPI.SUM)
        charge, valley = self.model.currents(state)
        if self.model.has_valley:
            charge_potential, valley_potential = self.split(state)
            valley_phi = self.model.potentials(state).valley
            density = ELEMENTARY_CHARGE * self.coefficients.density_of_states * valley_phi
        else:
            charge_potential, valley_potential, density = state, None, None
            charge_potential.name = "phi_c"
        return TransportSolution(
            state=state,
            charge_potential=charge_potential,
            valley_potential=valley_potential,
            charge_current=charge,
            valley_current=valley,
            valley_density=density,
            response=response,
            voltages_V=voltages,
            currents_A=currents,
            reference=reference,
            resistance_matrix_ohm=response.resistance_matrix(reference),
            dissipated_power_W=power,
        )
