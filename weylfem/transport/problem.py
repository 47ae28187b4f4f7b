"""Steady charge (and valley) transport on a device mesh with any mix of contacts.

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

from weylfem import compat
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.device import Device
from weylfem.geometry import DeviceMesh
from weylfem.solvers import (
    LinearSolver,
    choose_kind,
    iterative_block_options,
    iterative_spd_options,
    sum_work,
)
from weylfem.transport.coefficients import VectorField, build_coefficients
from weylfem.transport.contacts import ContactResponse, reference_contact
from weylfem.transport.operator import ContactOperator
from weylfem.transport.terms import TRANSPORT_MODELS, Potentials, TermContext, total


def _constants(mesh, conductances: dict[int, float]) -> dict[int, fem.Constant]:
    """The nonzero conductances as Constants: the compiled forms then do not depend on
    their values (a sweep over G_v compiles once)."""
    return {tag: fem.Constant(mesh, value) for tag, value in conductances.items() if value > 0}


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
    """Spaces, coefficients, forms, contacts and the solver, built in one ordered setup.

    `magnetic_field`, `magnetization` (callables x -> (3, n) values, or 3-vector
    Functions) replace the device's field values; `motive_force` (a UFL 3-vector, V/m)
    is the valley-motive force f of model.md Sec. 2.
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
        mesh = device_mesh.mesh
        self.comm = device_mesh.comm
        self.has_valley = device.physics.transport == "charge_valley"
        shape = (2,) if self.has_valley else ()
        self.space = compat.function_space(mesh, "Lagrange", device.physics.element_degree, shape)
        self.coefficients = build_coefficients(device, device_mesh, magnetic_field, magnetization)
        self.context = self._term_context(motive_force)
        self.terms = [term(self.context) for term in TRANSPORT_MODELS[device.physics.transport]]

        self.operators: list[ContactOperator] = []
        """every operator built on this problem (the steady one, transient ones)"""
        self.contact_order = list(device.contacts)
        self._locate_contacts()
        trial, test = ufl.TrialFunction(self.space), ufl.TestFunction(self.space)
        self.evaluated = fem.Function(self.space)  # the state the flux forms evaluate
        self.flux_form = fem.form(self.weak_form(self.evaluated, test))
        self.source_vector_form = fem.form(self.source_form(test))
        self._flux = compat.create_vector(self.flux_form)
        self._source = compat.create_vector(self.source_vector_form)
        self.dissipation_form = fem.form(self.weak_form(self.evaluated, self.evaluated))

        index_map = self.space.dofmap.index_map
        self.dofs = index_map.size_global * self.space.dofmap.index_map_bs
        dimension = mesh.topology.dim
        self.solver_kind, self.solver_choice = choose_kind(
            device.solver.kind, self.dofs, device.solver.direct_max_dofs, dimension
        )
        self.iterative_options = (
            iterative_block_options(2, dimension)
            if self.has_valley
            else iterative_spd_options(dimension)
        )
        self.operator = ContactOperator(
            self,
            "transport",
            self.weak_form(trial, test),
            self.source_form(test),
            linear_is_zero=not self.has_sources(),
        )

    @property
    def solver(self) -> LinearSolver:
        """The PETSc solver of the steady operator."""
        return self.operator.solver

    def work_s(self) -> dict[str, float]:
        """Wall time so far in assembly, preconditioner set-up and Krylov solves, summed
        over the operators (this rank's)."""
        return sum_work(op.solver.work_s(op.assemble_s) for op in self.operators)

    @property
    def relative_residual(self) -> float:
        """Largest relative residual of the steady solves so far."""
        return self.operator.relative_residual

    # -- set-up -------------------------------------------------------------------------

    def _term_context(self, motive_force) -> TermContext:
        device, device_mesh = self.device, self.device_mesh
        mesh = device_mesh.mesh
        groups = device_mesh.facet_groups
        surfaces = {groups[n]: w.valley_conductance_S_per_m2 for n, w in device.walls.items()}
        for name, contact in device.contacts.items():
            if contact.valley_conductance_S_per_m2 is not None:
                surfaces[groups[name]] = contact.valley_conductance_S_per_m2
        interfaces = {
            groups[n]: i.valley_conductance_S_per_m2 for n, i in device.interfaces.items()
        }
        return TermContext(
            coefficients=self.coefficients,
            dimension=mesh.topology.dim,
            dx=ufl.Measure("dx", domain=mesh, subdomain_data=device_mesh.cell_tags),
            ds=ufl.Measure("ds", domain=mesh, subdomain_data=device_mesh.facet_tags),
            dS=ufl.Measure("dS", domain=mesh, subdomain_data=device_mesh.facet_tags),
            relaxing_surfaces=_constants(mesh, surfaces),
            relaxing_interfaces=_constants(mesh, interfaces),
            motive_force=motive_force,
        )

    def _locate_contacts(self) -> None:
        """Charge dofs of each contact; Dirichlet conditions phi_c = g, phi_v = 0."""
        fdim = self.device_mesh.mesh.topology.dim - 1
        tags, groups = self.device_mesh.facet_tags, self.device_mesh.facet_groups
        facets = {name: tags.indices[tags.values == groups[name]] for name in self.contact_order}
        if self.has_valley:
            charge_space = self.space.sub(0)
            collapsed, charge_map = charge_space.collapse()

            def locate(facet_list):  # (dofs in the space, dofs in the charge space)
                return fem.locate_dofs_topological((charge_space, collapsed), fdim, facet_list)
        else:
            charge_space = collapsed = self.space
            charge_map = slice(None)

            def locate(facet_list):
                dofs = fem.locate_dofs_topological(self.space, fdim, facet_list)
                return dofs, dofs

        self.boundary_values = fem.Function(collapsed)
        located = [locate(facets[name]) for name in self.contact_order]
        self.charge_dofs = [dofs[0] for dofs in located]
        owned = self.space.dofmap.index_map.size_local * self.space.dofmap.index_map_bs
        self._owned_charge_dofs = [dofs[dofs < owned] for dofs in self.charge_dofs]
        self.charge_unit = fem.Function(self.space)
        """phi_c = 1, phi_v = 0: the operators depend on phi_c only through its gradient"""
        self.charge_unit.x.array[charge_map] = 1.0
        if self.has_valley:
            self.components = ((collapsed, charge_map), self.space.sub(1).collapse())
            """(collapsed space, its dofs in the space) of phi_c and of phi_v, made once"""
        self.boundary_dofs = [dofs[1] for dofs in located]
        every_contact = locate(np.concatenate(list(facets.values())))
        if self.has_valley:
            self.bcs = [fem.dirichletbc(self.boundary_values, every_contact, charge_space)]
        else:
            self.bcs = [fem.dirichletbc(self.boundary_values, every_contact[0])]
        if not self.has_valley:
            return
        valley_space = self.space.sub(1)
        grounded = [
            tags.indices[tags.values == groups[name]]
            for name, contact in self.device.contacts.items()
            if contact.valley_conductance_S_per_m2 is None
        ]
        if grounded:
            dofs = fem.locate_dofs_topological(valley_space, fdim, np.concatenate(grounded))
            zero = fem.Constant(self.device_mesh.mesh, 0.0)
            self.bcs.append(fem.dirichletbc(zero, dofs, valley_space))

    # -- forms --------------------------------------------------------------------------

    def potentials(self, u) -> Potentials:
        """Split a trial/test function or Function of the space into (phi_c, phi_v)."""
        if self.has_valley:
            return Potentials(u[0], u[1])
        return Potentials(u)

    def weak_form(self, u, v) -> ufl.Form:
        """a(u, v): the sum of the model's terms."""
        return self.split_weak_form(self.potentials(u), self.potentials(v))

    def split_weak_form(self, u: Potentials, v: Potentials) -> ufl.Form:
        """a(u, v) for potentials given separately (e.g. with weighted test functions)."""
        return total(term.bilinear(u, v) for term in self.terms)

    def source_form(self, v) -> ufl.Form:
        """L(v): the sum of the terms' sources (a zero form when there are none)."""
        pv = self.potentials(v)
        zero = fem.Constant(self.device_mesh.mesh, 0.0) * pv.charge * self.context.dx
        return total([zero, *(term.source(pv) for term in self.terms)])

    # -- solving ------------------------------------------------------------------------

    def contact_currents(self, state: fem.Function, with_sources: bool = True) -> np.ndarray:
        """Net current (A) into the device through every contact for `state`, computed
        directly as the variationally consistent flux a(state, chi_j) - L(chi_j) (without
        the L term for a response to contact voltages alone).  chi_j is the sum of the
        basis functions of contact j's charge dofs, so one assembly of the vector
        r_i = a(state, phi_i) - L(phi_i) gives every contact: I_j = sum of r_i over them."""
        self.evaluated.x.array[:] = state.x.array
        compat.assemble_vector_into(self._flux, self.flux_form)
        residual = self._flux.array
        if with_sources:
            compat.assemble_vector_into(self._source, self.source_vector_form)
            residual = residual - self._source.array
        currents = np.array([residual[dofs].sum() for dofs in self._owned_charge_dofs])
        return self.comm.allreduce(currents, op=MPI.SUM)

    def has_sources(self) -> bool:
        """Whether any term adds to L (then the 0 V solve is needed)."""
        test = self.potentials(ufl.TestFunction(self.space))
        return any(term.source(test) is not None for term in self.terms)

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
        for (space, dofs), name in zip(self.components, ("phi_c", "phi_v"), strict=True):
            potential = fem.Function(space, name=name)
            potential.x.array[:] = state.x.array[dofs]
            potentials.append(potential)
        return potentials[0], potentials[1]

    def _solution(self, state, response, voltages, currents, reference) -> TransportSolution:
        self.evaluated.x.array[:] = state.x.array
        power = self.comm.allreduce(fem.assemble_scalar(self.dissipation_form), op=MPI.SUM)
        u = self.potentials(state)
        charge = total(term.charge_current(u) for term in self.terms)
        if self.has_valley:
            charge_potential, valley_potential = self.split(state)
            valley = total(term.valley_current(u) for term in self.terms)
            density = ELEMENTARY_CHARGE * self.coefficients.density_of_states * u.valley
        else:
            charge_potential, valley_potential, valley, density = state, None, None, None
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
