"""Steady charge transport on a device mesh with voltage-driven contacts.

The weak form is the sum of the model's terms, a(phi, w) = sum_t a_t(phi, w) = 0 for
all w vanishing on the contacts.  Because the problem is linear, one factorization
serves every contact: solving with unit voltage on contact k (0 on the others) gives
phi_k, and the conductance matrix G_jk = a(phi_k, chi_j), where chi_j is 1 on the
degrees of freedom of contact j and 0 elsewhere.  a(phi, chi_j) is the current
flowing *into* the device through contact j (it equals -int_j J.n ds), and it is the
variationally consistent flux: the currents sum to zero to solver tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat
from weylfem.device import Device
from weylfem.geometry import DeviceMesh
from weylfem.solvers import LinearSolver, choose_kind
from weylfem.transport.terms import TRANSPORT_MODELS


@dataclass
class TransportSolution:
    """The potential for the applied voltages and the multi-terminal response."""

    potential: fem.Function
    current_density: object
    """UFL expression of J (A/m^2) for the solved potential"""
    contact_order: list[str]
    conductance_matrix_S: np.ndarray
    voltages_V: np.ndarray
    currents_A: np.ndarray


class ChargeTransportProblem:
    """Builds spaces, coefficients, forms, contacts and the solver in one ordered setup."""

    def __init__(self, device: Device, device_mesh: DeviceMesh):
        self.device = device
        self.device_mesh = device_mesh
        mesh = device_mesh.mesh
        self.space = compat.function_space(mesh, "Lagrange", device.physics.element_degree)
        self.dx = ufl.Measure("dx", domain=mesh, subdomain_data=device_mesh.cell_tags)
        self.conductivity = self._cellwise("conductivity_S_per_m")
        self.terms = [
            term(self.conductivity) for term in TRANSPORT_MODELS[device.physics.transport]
        ]

        self.contact_order = list(device.contacts)
        self.contact_dofs = [self._facet_dofs(name) for name in self.contact_order]
        self.boundary_values = fem.Function(self.space)
        all_contact_dofs = np.unique(np.concatenate(self.contact_dofs))
        self.bcs = [fem.dirichletbc(self.boundary_values, all_contact_dofs)]

        trial, test = ufl.TrialFunction(self.space), ufl.TestFunction(self.space)
        self.bilinear_form = fem.form(self._sum_terms(trial, test))
        zero = fem.Constant(mesh, 0.0)
        self.linear_form = fem.form(zero * test * self.dx)
        self.unit_potential = fem.Function(self.space)
        self.indicator = fem.Function(self.space)
        self.current_form = fem.form(self._sum_terms(self.unit_potential, self.indicator))

        self.dofs = self.space.dofmap.index_map.size_global * self.space.dofmap.index_map_bs
        kind, self.solver_choice = choose_kind(
            device.solver.kind, self.dofs, device.solver.direct_max_dofs
        )
        matrix = compat.assemble_matrix(self.bilinear_form, self.bcs)
        self.solver = LinearSolver(
            "transport", matrix, kind, device.solver.rtol, device.solver.petsc_options
        )
        self.relative_residual = 0.0

    def _sum_terms(self, potential, test) -> ufl.Form:
        return sum(term.bilinear_form(potential, test, self.dx) for term in self.terms)

    def _cellwise(self, parameter: str) -> fem.Function:
        """A DG0 field holding a material parameter of each region."""
        space = compat.function_space(self.device_mesh.mesh, "DG", 0)
        field = fem.Function(space, name=parameter)
        tags = self.device_mesh.cell_tags
        for region, tag in self.device_mesh.cell_groups.items():
            value = getattr(self.device.material_of(region), parameter)
            cells = tags.indices[tags.values == tag]
            field.interpolate(lambda x, v=value: np.full(x.shape[1], v), cells)
        field.x.scatter_forward()
        return field

    def _facet_dofs(self, name: str) -> np.ndarray:
        tags = self.device_mesh.facet_tags
        facets = tags.indices[tags.values == self.device_mesh.facet_groups[name]]
        fdim = self.device_mesh.mesh.topology.dim - 1
        return fem.locate_dofs_topological(self.space, fdim, facets)

    def _solve_unit(self, contact: int) -> None:
        """unit_potential := the solution for 1 V on `contact` and 0 V on every other one."""
        self.boundary_values.x.array[:] = 0.0
        self.boundary_values.x.array[self.contact_dofs[contact]] = 1.0
        rhs = compat.assemble_vector(self.linear_form)
        compat.apply_dirichlet(rhs, self.bilinear_form, self.bcs)
        solution = self.unit_potential
        self.solver.solve(rhs, solution.vector)
        solution.x.scatter_forward()
        residual = rhs.copy()
        self.solver.ksp.getOperators()[0].mult(solution.vector, residual)
        residual.axpy(-1.0, rhs)
        self.relative_residual = max(
            self.relative_residual, residual.norm() / max(rhs.norm(), 1e-300)
        )

    def _current_into(self, contact: int) -> float:
        """Current flowing into the device through `contact` for unit_potential."""
        self.indicator.x.array[:] = 0.0
        self.indicator.x.array[self.contact_dofs[contact]] = 1.0
        local = fem.assemble_scalar(self.current_form)
        return self.device_mesh.comm.allreduce(local, op=MPI.SUM)

    def solve(self) -> TransportSolution:
        """Unit-voltage solves, conductance matrix, and the potential for the set voltages."""
        n = len(self.contact_order)
        conductance = np.zeros((n, n))
        voltages = np.array([self.device.contacts[name].voltage_V for name in self.contact_order])
        total = fem.Function(self.space, name="phi_c")
        for k in range(n):
            self._solve_unit(k)
            for j in range(n):
                conductance[j, k] = self._current_into(j)
            total.x.array[:] += voltages[k] * self.unit_potential.x.array
        current_density = sum(term.current_density(total) for term in self.terms)
        return TransportSolution(
            potential=total,
            current_density=current_density,
            contact_order=list(self.contact_order),
            conductance_matrix_S=conductance,
            voltages_V=voltages,
            currents_A=conductance @ voltages,
        )
