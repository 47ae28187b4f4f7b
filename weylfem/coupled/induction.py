"""The magnetic induction B the carriers feel when a magnet is modelled (docs/theory.md §2,
"Self-consistent B"):

    B = B_applied(t) + mu_0 (M_s m + H_d)   in the magnet,     B_applied(t) + mu_0 H_d   outside,

with B_applied the device's static field (uniform, per region or from a file) plus the
time-dependent [applied_field], and H_d the demagnetizing field of the chosen
demagnetization (the local thin-film term has H_d = -M_s (m.n) n inside the film and
nothing outside).  It is a UFL expression of the evolving m, so the anomaly and the chiral
magnetic effect of a coupled run follow the magnet.
"""

from __future__ import annotations

from weylfem.constants import VACUUM_PERMEABILITY
from weylfem.magnet.coefficients import MagnetCoefficients
from weylfem.magnet.setup import MagnetSetup


def magnet_induction(magnet: MagnetSetup, coefficients: MagnetCoefficients):
    """mu_0 (M_s m + H_d) of the magnet (T, a UFL 3-vector; M_s = 0 off the magnet)."""
    problem = magnet.problem
    total = VACUUM_PERMEABILITY * coefficients.saturation_magnetization * problem.m
    for term in problem.terms:
        stray = term.induction(problem.m)
        if stray is not None:
            total = total + stray
    return total


def carrier_induction(
    applied, magnet: MagnetSetup, coefficients: MagnetCoefficients, with_magnet: bool = True
):
    """B where the carriers are: the device's static `applied` field (a Function), the
    time-dependent part of the applied field, and (`with_magnet`) the magnet's own
    induction ([coupling] magnet_induction = false leaves it out, as TS's model does)."""
    total = applied + magnet_induction(magnet, coefficients) if with_magnet else applied
    pulse = None if magnet.zeeman is None else magnet.zeeman.pulse()
    return total if pulse is None else total + pulse
