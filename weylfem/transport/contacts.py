"""The multi-terminal response of a linear device, from its contact conductances.

For the steady linear problem the net currents into the contacts are I = G V + I_0:
G is the conductance matrix (G_jk: current into contact j per volt on contact k, all
others at 0 V) and I_0 the currents driven by internal sources (the valley-motive
force) with every contact at 0 V.  Any mix of voltage-driven, current-driven and
floating contacts follows exactly from G and I_0 by eliminating the unknown voltages;
no contact is approximated by a resistor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from weylfem.device import Contact, FourProbe


@dataclass
class ContactResponse:
    """G and I_0 of a device, in `order`."""

    order: list[str]
    conductance_S: np.ndarray
    source_currents_A: np.ndarray

    def index(self, name: str) -> int:
        """Position of contact `name` in `order`."""
        return self.order.index(name)

    def operating_point(self, contacts: Mapping[str, Contact]) -> tuple[np.ndarray, np.ndarray]:
        """(voltages, currents into the device) of every contact for the given drives."""
        drives = [contacts[name] for name in self.order]
        fixed = [i for i, c in enumerate(drives) if c.drive == "voltage"]
        free = [i for i, c in enumerate(drives) if c.drive == "current"]
        g = self.conductance_S
        voltages = np.zeros(len(self.order))
        voltages[fixed] = [drives[i].voltage_V for i in fixed]
        if free:
            imposed = np.array([drives[i].set_current_A for i in free])
            rhs = imposed - self.source_currents_A[free] - g[np.ix_(free, fixed)] @ voltages[fixed]
            voltages[free] = np.linalg.solve(g[np.ix_(free, free)], rhs)
        return voltages, g @ voltages + self.source_currents_A

    def resistance_matrix(self, reference: int) -> np.ndarray:
        """R (ohm): R_kj is the voltage of contact k, relative to contact `reference`, when
        1 A enters through contact j and leaves through `reference` (all other contacts
        floating).  The row and column of the reference are zero."""
        keep = [i for i in range(len(self.order)) if i != reference]
        resistance = np.zeros_like(self.conductance_S)
        if keep:
            reduced = self.conductance_S[np.ix_(keep, keep)]
            resistance[np.ix_(keep, keep)] = np.linalg.inv(reduced)
        return resistance

    def four_probe(self, probe: FourProbe, resistance: np.ndarray) -> float:
        """R_ij,kl = (V_k - V_l) / I with I entering at i = current[0], leaving at j."""
        i, j = (self.index(name) for name in probe.current)
        k, l = (self.index(name) for name in probe.voltage)  # noqa: E741
        return float(resistance[k, i] - resistance[k, j] - resistance[l, i] + resistance[l, j])


def reference_contact(order: list[str], contacts: Mapping[str, Contact]) -> int:
    """The voltage reference: the first contact held at 0 V, else the first voltage-driven."""
    driven = [i for i, name in enumerate(order) if contacts[name].drive == "voltage"]
    grounded = [i for i in driven if contacts[order[i]].voltage_V == 0.0]
    return (grounded or driven)[0]


def contact_table(
    contacts: Mapping[str, Contact], order: list[str], voltages, currents
) -> dict[str, dict]:
    """Each contact's drive ('voltage', 'current' or 'floating'), voltage and current (the
    `contacts` table of results.json)."""
    table = {}
    for name, voltage, current in zip(order, voltages, currents, strict=True):
        contact = contacts[name]
        drive = contact.drive if not contact.floating else "floating"
        table[name] = {"drive": drive, "voltage_V": voltage, "current_A": current}
    return table
