"""Physical terms of the charge-valley transport equations (docs/theory.md Sec. 2).

Each term is a small class that owns its UFL contribution to the weak form

    a((phi_c, phi_v), (w, q)) = L((w, q))

A term that is a current declares only that current, J and J_v (`CurrentTerm`): its
weak form is the flux pairing -int (J.grad(w) + J_v.grad(q)) dx of docs/theory.md
Sec. 2 ("Weak form"), in a(u, v) when the current is linear in the potentials, moved
to L(v) when it is imposed (`ImposedCurrentTerm`).  The other terms (relaxation, the
anomaly source of the valley balance) write their own form.  A model is the tuple of
terms it sums (`TRANSPORT_MODELS`); adding a term means adding a class to a tuple.
In a 2D device (the xy plane) the 3-vectors m and B enter through their in-plane
components, and m x grad(phi) through its in-plane components (only m_z contributes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import ufl

from weylfem.transport.coefficients import TransportCoefficients


class Potentials(NamedTuple):
    """The unknowns (or test functions) of a model: phi_c and, with valley, phi_v."""

    charge: object
    valley: object | None = None


class Currents(NamedTuple):
    """A charge current J and a valley current J_v (A/m^2, UFL vectors; None: absent)."""

    charge: object = None
    valley: object = None


@dataclass
class TermContext:
    """What the terms need: coefficients, measures and the relaxing boundaries."""

    coefficients: TransportCoefficients
    dimension: int
    dx: ufl.Measure
    ds: ufl.Measure
    dS: ufl.Measure
    relaxing_surfaces: dict[int, object] = field(default_factory=dict)
    """facet tag -> valley conductance G_v > 0 (S/m^2, a UFL scalar) of outer surfaces
    (walls, Robin contacts)"""
    relaxing_interfaces: dict[int, object] = field(default_factory=dict)
    """facet tag -> G_v > 0 of internal interfaces"""
    motive_force: object | None = None
    """valley-motive force f (V/m, UFL 3-vector), or None"""

    def in_plane(self, vector):
        """The components of a 3-vector along the device's coordinates."""
        if self.dimension == 3:
            return vector
        return ufl.as_vector([vector[i] for i in range(self.dimension)])

    def cross(self, m, gradient):
        """m x gradient, restricted to the device's coordinates."""
        if self.dimension == 3:
            return ufl.cross(m, gradient)
        return ufl.as_vector([-m[2] * gradient[1], m[2] * gradient[0]])


class TransportTerm:
    """A term of the weak form; subclasses override what they contribute."""

    def __init__(self, context: TermContext):
        self.context = context
        self.c = context.coefficients

    def bilinear(self, u: Potentials, v: Potentials) -> ufl.Form | None:
        """Contribution to a(u, v)."""
        return None

    def source(self, v: Potentials) -> ufl.Form | None:
        """Contribution to L(v)."""
        return None

    def current(self, u: Potentials) -> Currents:
        """Contribution to J and J_v (A/m^2)."""
        return Currents()


def flux_pairing(currents: Currents, v: Potentials, dx: ufl.Measure) -> ufl.Form | None:
    """-int (J.grad(w) + J_v.grad(q)) dx: the weak divergence of the currents, whose
    integration by parts leaves the full normal fluxes as the natural boundary terms
    (None when both currents are absent)."""
    return total(
        -ufl.inner(current, ufl.grad(test)) * dx
        for current, test in zip(currents, v, strict=True)
        if current is not None
    )


class CurrentTerm(TransportTerm):
    """A current linear in the potentials: a(u, v) is its flux pairing."""

    def bilinear(self, u, v):
        return flux_pairing(self.current(u), v, self.context.dx)


class ImposedCurrentTerm(TransportTerm):
    """A current independent of the potentials (a driving force, `imposed`): its flux
    pairing moves to the right side, L(v) = int (J.grad(w) + J_v.grad(q)) dx."""

    def imposed(self) -> Currents:
        """The imposed J and J_v (A/m^2)."""
        return Currents()

    def current(self, u):
        return self.imposed()

    def source(self, v):
        pairing = flux_pairing(self.imposed(), v, self.context.dx)
        return None if pairing is None else -pairing


class OhmicTerm(CurrentTerm):
    """J = -sigma grad(phi_c)."""

    def current(self, u):
        return Currents(charge=-self.c.conductivity * ufl.grad(u.charge))


class AnomalousHallTerm(CurrentTerm):
    """J = -sigma theta m x grad(phi_c) = -sigma_AH m x grad(phi_c).

    Kept in the weak form even where m is uniform: its divergence vanishes there, but
    it sets the insulating-wall condition J.n = 0 (TS note 13; docs/theory.md Sec. 2,
    "Weak form")."""

    def current(self, u):
        hall = self.context.cross(self.c.magnetization, ufl.grad(u.charge))
        return Currents(charge=-self.c.hall_conductivity * hall)


class ChiralMagneticTerm(CurrentTerm):
    """J = Gamma phi_v B: the chiral magnetic effect, -int Gamma phi_v B.grad(w) dx."""

    def current(self, u):
        field_ = self.context.in_plane(self.c.magnetic_field)
        return Currents(charge=self.c.anomaly * u.valley * field_)


class ValleyDiffusionTerm(CurrentTerm):
    """J_v = -sigma_v grad(phi_v)."""

    def current(self, u):
        return Currents(valley=-self.c.valley_conductivity * ufl.grad(u.valley))


class ValleyRelaxationTerm(TransportTerm):
    """Bulk intervalley relaxation (e^2 N / tau_v) phi_v."""

    def bilinear(self, u, v):
        return self.c.valley_relaxation * u.valley * v.valley * self.context.dx


class ChiralAnomalyTerm(TransportTerm):
    """The anomaly source -Gamma B.grad(phi_c) of the valley balance, on the left side."""

    def bilinear(self, u, v):
        field_ = self.context.in_plane(self.c.magnetic_field)
        return self.c.anomaly * ufl.inner(field_, ufl.grad(u.charge)) * v.valley * self.context.dx


class SurfaceValleyRelaxationTerm(TransportTerm):
    """Robin condition J_v.n = G_v phi_v on valley-relaxing outer surfaces."""

    def bilinear(self, u, v):
        terms = [
            conductance * u.valley * v.valley * self.context.ds(tag)
            for tag, conductance in self.context.relaxing_surfaces.items()
        ]
        return total(terms)


class InterfaceValleyRelaxationTerm(TransportTerm):
    """Interface relaxation: the jump of J_v.n across an internal interface is G_v phi_v."""

    def bilinear(self, u, v):
        terms = [
            conductance * u.valley("+") * v.valley("+") * self.context.dS(tag)
            for tag, conductance in self.context.relaxing_interfaces.items()
        ]
        return total(terms)


class ValleyMotiveForceTerm(ImposedCurrentTerm):
    """J_v gains -sigma_v f: the valley-motive force f enters as -int sigma_v f.grad(q) dx."""

    def imposed(self):
        if self.context.motive_force is None:
            return Currents()
        force = self.context.in_plane(self.context.motive_force)
        return Currents(valley=-self.c.valley_conductivity * force)


TRANSPORT_MODELS: dict[str, tuple[type[TransportTerm], ...]] = {
    "ohmic": (OhmicTerm, AnomalousHallTerm),
    "charge_valley": (
        OhmicTerm,
        AnomalousHallTerm,
        ChiralMagneticTerm,
        ValleyDiffusionTerm,
        ValleyRelaxationTerm,
        ChiralAnomalyTerm,
        SurfaceValleyRelaxationTerm,
        InterfaceValleyRelaxationTerm,
        ValleyMotiveForceTerm,
    ),
}
"""Terms summed by each transport model (the `physics.transport` key)."""


def total(parts):
    """The sum of the non-None parts (None when there are none)."""
    parts = [p for p in parts if p is not None]
    return sum(parts[1:], parts[0]) if parts else None
