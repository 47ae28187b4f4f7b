"""The valley-magnet coupling of docs/theory.md Sec. 3, "Valley–magnet coupling" (TS
Eqs. 16-17): the valley field in the LLG and the reciprocal valley-motive force in the
valley current.

    B_v = -(eta sigma_v / (e M_s)) (1 - beta m x) grad(phi_v)    (in the LLG)
    f   =  (eta / e) (1 - beta m x) dm/dt                  (in J_v = -sigma_v (grad phi_v + f))

with the same operator (1 - beta m x) on both sides (the Onsager-Casimir pairing).  The
torque density on the magnet is t_v = -M_s m x B_v (J/m^3),

    t_v = (eta sigma_v / e) [ m x grad(phi_v) - beta m x (m x grad(phi_v)) ],

its first part field-like, its second damping-like.  Of the work the two couplings do,
the eta parts add to the cross term 2 (eta sigma_v / e) dm/dt . grad(phi_v) of the
dissipation and the beta parts cancel (the energy law of the same section).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ufl
from dolfinx import fem

from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.geometry import DeviceMesh
from weylfem.magnet.coefficients import MagnetCoefficients, regionwise
from weylfem.magnet.energy import gradient3
from weylfem.magnet.torques import TorqueTerm
from weylfem.materials import Material


@dataclass
class ValleyCouplingCoefficients:
    """DG0 eta, beta and sigma_v of the magnetic regions (zero elsewhere)."""

    eta: fem.Function
    """eta (J s/m, signed)"""
    beta: fem.Function
    """damping-like ratio beta"""
    conductivity: fem.Function
    """sigma_v (S/m), the valley conductivity"""


def build_valley_coupling(
    device_mesh: DeviceMesh,
    materials: Mapping[str, Material],
) -> ValleyCouplingCoefficients:
    """eta, beta and sigma_v of the magnetic regions (region name -> material), whose
    materials have eta (and alpha >= alpha_p): `config.check_valley_coupling`."""

    def parameter(name: str, value) -> fem.Function:
        return regionwise(device_mesh, name, {r: value(m) for r, m in materials.items()})

    return ValleyCouplingCoefficients(
        eta=parameter("eta", lambda m: m.eta),
        beta=parameter("beta", lambda m: m.valley_torque_beta or 0.0),
        conductivity=parameter("sigma_v", lambda m: m.sigma_v),
    )


def motive_force(m, rate, eta, beta) -> ufl.core.expr.Expr:
    """f = (eta/e)(1 - beta m x) dm/dt (V/m), with `rate` = dm/dt."""
    return (eta / ELEMENTARY_CHARGE) * (rate - beta * ufl.cross(m, rate))


class ValleyTorque(TorqueTerm):
    """T = -gamma m x B_v of the valley potential phi_v (a scalar Function)."""

    name = "valley"

    def __init__(
        self,
        coefficients: MagnetCoefficients,
        valley_potential: fem.Function,
        coupling: ValleyCouplingCoefficients,
    ):
        self.coefficients = coefficients
        self.valley_potential = valley_potential
        self.prefactor = coupling.eta * coupling.conductivity / ELEMENTARY_CHARGE
        """eta sigma_v / e (J V^-1 m^-2): the torque density per unit grad(phi_v)"""
        self.beta = coupling.beta

    def field(self, m) -> ufl.core.expr.Expr:
        """B_v (T)."""
        gradient = gradient3(self.valley_potential)
        inverse = self.coefficients.inverse_saturation()
        return -self.prefactor * inverse * (gradient - self.beta * ufl.cross(m, gradient))

    def torque(self, m):
        return -self.coefficients.gyromagnetic_ratio * ufl.cross(m, self.field(m))

    def torque_densities(self, m) -> tuple[ufl.core.expr.Expr, ufl.core.expr.Expr]:
        """(field-like, damping-like) parts of t_v = -M_s m x B_v (J/m^3)."""
        gradient = gradient3(self.valley_potential)
        m_x_gradient = ufl.cross(m, gradient)
        return (
            self.prefactor * m_x_gradient,
            -self.prefactor * self.beta * ufl.cross(m, m_x_gradient),
        )
