"""Physical terms of the charge-transport weak form.

Each term is a small class that owns its UFL contribution to the bilinear form
a(phi_c, w) and its part of the current density; a problem sums the terms of its model.
"""

from __future__ import annotations

import ufl


class OhmicTerm:
    """Ohmic conduction J = -sigma grad(phi_c): contributes int sigma grad(phi_c).grad(w) dx."""

    def __init__(self, conductivity):
        self.conductivity = conductivity

    def bilinear_form(self, potential, test, dx) -> ufl.Form:
        """UFL contribution to a(potential, test)."""
        return ufl.inner(self.conductivity * ufl.grad(potential), ufl.grad(test)) * dx

    def current_density(self, potential):
        """This term's part of the charge current density J (A/m^2)."""
        return -self.conductivity * ufl.grad(potential)


TRANSPORT_MODELS = {"ohmic": (OhmicTerm,)}
"""Terms summed by each transport model (the `physics.transport` key)."""
