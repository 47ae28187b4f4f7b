"""Energy bookkeeping of a coupled charge-valley-magnet run (docs/theory.md Sec. 3,
"Energy ledger").

Over a run the coupled system must satisfy

    dE_mag + dF_v = W_contacts - Q_Gilbert - Q_transport - Q_coupling

where E_mag is the magnetic energy, F_v = int (e^2 N / 2) phi_v^2 the valley free energy
(transient valley only; quasi-static valley stores none), W_contacts = int sum_k V_k I_k dt
the work of the sources at the contacts, Q_Gilbert = int int (alpha M_s/gamma)|dm/dt|^2,
Q_transport = int a(u, u) dt the Joule and valley dissipation (the symmetric part of the
transport operator: sigma|grad phi_c|^2, sigma|grad phi_v|^2, bulk and surface valley
relaxation; Hall, anomaly and chiral-magnetic terms do no work), and
Q_coupling = int int 2 (eta sigma / e) dm/dt . grad(phi_v) the cross term of the
dissipation.  Each term is measured independently (energies from m, dissipations from
the fields, the work from the contact voltages and currents), so the residual checks the
Onsager pairing of the valley torque and the motive force: it vanishes to discretization
accuracy (first order in the step for the staggered scheme) and is of the order of the
coupling terms themselves if either sign or beta is wrong on one side.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class EnergyLedger:
    """Running totals (J) since the start of the run."""

    magnetic_energy_change_J: float = 0.0
    valley_free_energy_change_J: float = 0.0
    contact_work_J: float = 0.0
    gilbert_dissipation_J: float = 0.0
    transport_dissipation_J: float = 0.0
    coupling_dissipation_J: float = 0.0

    def add(self, **increments: float) -> None:
        """Add one step's increments (keyword: field name)."""
        for name, value in increments.items():
            setattr(self, name, getattr(self, name) + value)

    @property
    def residual_J(self) -> float:
        """dE_mag + dF_v - W + Q_Gilbert + Q_transport + Q_coupling: zero for an exact
        energy balance."""
        return (
            self.magnetic_energy_change_J
            + self.valley_free_energy_change_J
            - self.contact_work_J
            + self.gilbert_dissipation_J
            + self.transport_dissipation_J
            + self.coupling_dissipation_J
        )

    @property
    def scale_J(self) -> float:
        """The sum of the magnitudes of the terms, the scale of the residual."""
        return sum(abs(value) for value in dataclasses.asdict(self).values())

    @property
    def relative_residual(self) -> float:
        """|residual| / scale (0 for an idle run)."""
        scale = self.scale_J
        return abs(self.residual_J) / scale if scale > 0 else 0.0

    def report(self) -> dict[str, float]:
        """The totals, the residual and the relative residual, for results.json."""
        return {
            **dataclasses.asdict(self),
            "residual_J": self.residual_J,
            "relative_residual": self.relative_residual,
        }
