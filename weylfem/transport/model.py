"""A transport model on a device: its terms summed into a(u, v), L(v) and the currents
(docs/theory.md Sec. 2).

u = phi_c (ohmic model) or u = (phi_c, phi_v) (charge_valley model, one blocked vector
space with the two potentials interleaved); the terms are those `physics.transport`
names in `TRANSPORT_MODELS`.
"""

from __future__ import annotations

import ufl
from dolfinx import fem

from weylfem.device import Device
from weylfem.geometry import DeviceMesh
from weylfem.transport.coefficients import TransportCoefficients
from weylfem.transport.terms import (
    TRANSPORT_MODELS,
    Currents,
    Potentials,
    TermContext,
    TransportTerm,
    total,
)


def _constants(mesh, conductances: dict[int, float]) -> dict[int, fem.Constant]:
    """The nonzero conductances as Constants: the compiled forms then do not depend on
    their values (a sweep over G_v compiles once)."""
    return {tag: fem.Constant(mesh, value) for tag, value in conductances.items() if value > 0}


def term_context(
    device: Device, device_mesh: DeviceMesh, coefficients: TransportCoefficients, motive_force
) -> TermContext:
    """Coefficients, measures, the valley-relaxing walls, Robin contacts and interfaces,
    and the motive force (a UFL 3-vector, V/m, or None) of `device`."""
    mesh = device_mesh.mesh
    groups = device_mesh.facet_groups
    surfaces = {groups[n]: w.valley_conductance_S_per_m2 for n, w in device.walls.items()}
    for name, contact in device.contacts.items():
        if contact.valley_conductance_S_per_m2 is not None:
            surfaces[groups[name]] = contact.valley_conductance_S_per_m2
    interfaces = {groups[n]: i.valley_conductance_S_per_m2 for n, i in device.interfaces.items()}
    return TermContext(
        coefficients=coefficients,
        dimension=mesh.topology.dim,
        dx=ufl.Measure("dx", domain=mesh, subdomain_data=device_mesh.cell_tags),
        ds=ufl.Measure("ds", domain=mesh, subdomain_data=device_mesh.facet_tags),
        dS=ufl.Measure("dS", domain=mesh, subdomain_data=device_mesh.facet_tags),
        relaxing_surfaces=_constants(mesh, surfaces),
        relaxing_interfaces=_constants(mesh, interfaces),
        motive_force=motive_force,
    )


class TransportModel:
    """The terms of one transport model with their context, summed."""

    def __init__(self, name: str, context: TermContext, mesh):
        self.has_valley = name == "charge_valley"
        self.context = context
        self.terms: list[TransportTerm] = [
            term(context) for term in TRANSPORT_MODELS[name] if term.applies(context)
        ]
        self._zero = fem.Constant(mesh, 0.0)

    @property
    def dx(self) -> ufl.Measure:
        """The cell measure (subdomains: the region tags)."""
        return self.context.dx

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
        zero = self._zero * pv.charge * self.dx
        return total([zero, *(term.source(pv) for term in self.terms)])

    def has_sources(self, v) -> bool:
        """Whether any term adds to L(v) (then the 0 V solve is needed)."""
        pv = self.potentials(v)
        return any(term.source(pv) is not None for term in self.terms)

    def currents(self, u) -> Currents:
        """J and J_v (A/m^2, UFL) of the potentials u (J_v None without valley)."""
        parts = [term.current(self.potentials(u)) for term in self.terms]
        return Currents(*(total(part) for part in zip(*parts, strict=True)))
