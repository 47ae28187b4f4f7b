"""The unknowns' space of a transport model with its contacts (docs/theory.md Sec. 2,
"Contacts, exactly"), built once and shared by every operator on it.

phi_c = g on the contacts (g: 1 V on one contact, 0 V on the others, or 0 V on all);
phi_v = 0 on the valley-Dirichlet contacts (those without a valley conductance).  The
current into the device through contact j is the variationally consistent flux
I_j = a(u, chi_j) - L(chi_j), chi_j the sum of the basis functions of contact j's charge
dofs, so one assembly of r_i = a(u, phi_i) - L(phi_i) gives every contact.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI
from petsc4py import PETSc

from weylfem import compat
from weylfem.device import Contact
from weylfem.errors import InternalError
from weylfem.geometry import DeviceMesh
from weylfem.transport.model import TransportModel

UNIT_ROUND_OFF = 1e-10
"""Largest |a(1_c, v)|_inf / |A|_inf taken for zero (measured: 0 with the built-in terms)"""


class ContactSpace:
    """The space of u = phi_c or (phi_c, phi_v), its Dirichlet conditions and values, the
    dofs of each contact, and the contact currents of a state (the flux and source forms
    of `model`).  `contacts` gives the contact order and which contacts hold phi_v = 0."""

    def __init__(
        self,
        model: TransportModel,
        device_mesh: DeviceMesh,
        contacts: Mapping[str, Contact],
        degree: int,
    ):
        self.comm = device_mesh.comm
        shape = (2,) if model.has_valley else ()
        self.space = compat.function_space(device_mesh.mesh, "Lagrange", degree, shape)
        self.order = list(contacts)
        index_map = self.space.dofmap.index_map
        self.dofs = index_map.size_global * self.space.dofmap.index_map_bs
        """global number of unknowns"""
        self._locate(model.has_valley, device_mesh, contacts)
        test = ufl.TestFunction(self.space)
        self._evaluated = fem.Function(self.space)  # the state `currents` evaluates
        self._flux_form = fem.form(model.weak_form(self._evaluated, test))
        self._source_form = fem.form(model.source_form(test))
        self._flux = compat.create_vector(self._flux_form)
        self._source = compat.create_vector(self._source_form)

    def _locate(
        self, has_valley: bool, device_mesh: DeviceMesh, contacts: Mapping[str, Contact]
    ) -> None:
        """Charge dofs of each contact; Dirichlet conditions phi_c = g, phi_v = 0."""
        fdim = device_mesh.mesh.topology.dim - 1
        tags, groups = device_mesh.facet_tags, device_mesh.facet_groups

        def facets(names) -> np.ndarray:
            return np.concatenate([tags.indices[tags.values == groups[name]] for name in names])

        if has_valley:
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

        self._boundary_values = fem.Function(collapsed)
        located = [locate(facets([name])) for name in self.order]
        self.charge_dofs = [dofs[0] for dofs in located]
        """this rank's dofs (ghosts included) of phi_c on each contact, in `order`"""
        owned = self.space.dofmap.index_map.size_local * self.space.dofmap.index_map_bs
        self._owned_charge_dofs = [dofs[dofs < owned] for dofs in self.charge_dofs]
        self._boundary_dofs = [dofs[1] for dofs in located]
        self.charge_unit = fem.Function(self.space)
        """phi_c = 1, phi_v = 0: 1 V on every contact (read only)"""
        self.charge_unit.x.array[charge_map] = 1.0
        self.components = None
        """(collapsed space, its dofs in the space) of phi_c and of phi_v, made once
        (None without valley)"""
        every_contact = locate(facets(self.order))
        if not has_valley:
            self.bcs = [fem.dirichletbc(self._boundary_values, every_contact[0])]
            return
        self.components = ((collapsed, charge_map), self.space.sub(1).collapse())
        self.bcs = [fem.dirichletbc(self._boundary_values, every_contact, charge_space)]
        grounded = [
            name for name in self.order if contacts[name].valley_conductance_S_per_m2 is None
        ]
        if grounded:
            valley_space = self.space.sub(1)
            dofs = fem.locate_dofs_topological(valley_space, fdim, facets(grounded))
            zero = fem.Constant(device_mesh.mesh, 0.0)
            self.bcs.append(fem.dirichletbc(zero, dofs, valley_space))

    def impose(self, unit_contact: int | None) -> None:
        """The Dirichlet values of `bcs`: 1 V on contact `unit_contact`, 0 V on the others
        (0 V on every contact for None)."""
        values = self._boundary_values.x.array
        values[:] = 0.0
        if unit_contact is not None:
            values[self._boundary_dofs[unit_contact]] = 1.0

    def currents(self, state: fem.Function, with_sources: bool = True) -> np.ndarray:
        """Net current (A) into the device through every contact for `state`: the flux
        a(state, chi_j) - L(chi_j) (without the L term for a response to contact voltages
        alone)."""
        self._evaluated.x.array[:] = state.x.array
        compat.assemble_vector_into(self._flux, self._flux_form)
        residual = self._flux.array
        if with_sources:
            compat.assemble_vector_into(self._source, self._source_form)
            residual = residual - self._source.array
        currents = np.array([residual[dofs].sum() for dofs in self._owned_charge_dofs])
        return self.comm.allreduce(currents, op=MPI.SUM)

    def check_unit_shortcut(self, name: str, bilinear: ufl.Form, matrix: PETSc.Mat) -> None:
        """Raise InternalError unless a(1_c, v) = 0 (phi_c = 1, phi_v = 0) to round-off
        relative to |A|_inf, A the matrix of operator `name`: the operators' last unit
        solution is `charge_unit` minus the others, which holds only when every term
        sees phi_c through its gradient alone."""
        action = fem.form(ufl.action(bilinear, self.charge_unit))
        residual = compat.create_vector(action)
        compat.assemble_vector_into(residual, action)
        size = residual.norm(PETSc.NormType.NORM_INFINITY)
        scale = matrix.norm(PETSc.NormType.NORM_INFINITY)
        residual.destroy()
        if not size <= UNIT_ROUND_OFF * scale:
            raise InternalError(
                f"operator '{name}': a(1_c, v) = 0 fails (|a(1_c, v)|_inf = {size:.3e},"
                f" |A|_inf = {scale:.3e}): a term sees phi_c itself, not only its gradient,"
                " so the unit solutions cannot be derived from phi_c = 1"
            )
