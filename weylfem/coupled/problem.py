"""Coupled charge-valley-magnet dynamics (TS Eqs. 16-17) by a staggered scheme.

The magnet is slow compared with electronic diffusion, so by default the transport is
quasi-static: after every LLG step it is solved again for the new m (the anomalous Hall
term follows the local m) and the new dm/dt (the valley-motive force), and the next LLG
step feels the valley torque of that phi_v.  One step from t_n to t_{n+1}:

1. the LLG step (`TangentPlaneIntegrator`), with the valley torque of phi_v(t_n) among
   the explicit torques;
2. dm/dt := (m^{n+1} - m^n)/k at the nodes;
3. the transport at t_{n+1}: quasi-static (a steady solve with the contact drives at
   t_{n+1}) or, with `valley = "transient"`, one backward-Euler step of the valley
   balance e^2 N dphi_v/dt (for magnets as fast as valley diffusion).

The scheme is first order in the coupling (dm/dt lags phi_v by one step); the energy
ledger (`EnergyLedger`) measures how well the run balances.  It is stable for
alpha >= alpha_p, which the set-up enforces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.coupled.interface_torque import InterfaceTorque, InterfaceTorques
from weylfem.coupled.ledger import EnergyLedger
from weylfem.coupled.valley_torque import ValleyCouplingCoefficients, ValleyTorque, motive_force
from weylfem.magnet.coefficients import MagnetCoefficients
from weylfem.magnet.energy import gradient3
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.tangent_plane import TangentPlaneIntegrator
from weylfem.meshing import valley_relaxing_groups
from weylfem.output.projections import cellwise_vector, nodal
from weylfem.solvers import solver_description
from weylfem.transport.contacts import contact_table
from weylfem.transport.problem import TransportProblem
from weylfem.transport.transient import TransientTransport, scaled_contacts


@dataclass
class ValleyLink:
    """What joins the two problems: phi_v as the valley torque reads it, dm/dt as the
    motive force reads it, the coupling coefficients and the valley torque term."""

    coupling: ValleyCouplingCoefficients
    valley_potential: fem.Function
    rate: fem.Function
    torque: ValleyTorque

    @classmethod
    def create(
        cls,
        coefficients: MagnetCoefficients,
        coupling: ValleyCouplingCoefficients,
        element_degree: int = 1,
    ) -> ValleyLink:
        """phi_v (Lagrange of the transport's degree) and dm/dt (P1), both zero."""
        mesh = coefficients.saturation_magnetization.function_space.mesh
        valley = fem.Function(compat.function_space(mesh, "Lagrange", element_degree), name="phi_v")
        rate = fem.Function(compat.function_space(mesh, "Lagrange", 1, (3,)), name="dm_dt")
        return cls(coupling, valley, rate, ValleyTorque(coefficients, valley, coupling))

    def motive_force(self, m) -> ufl.core.expr.Expr:
        """f = (eta/e)(1 - beta m x) dm/dt (V/m)."""
        return motive_force(m, self.rate, self.coupling.eta, self.coupling.beta)


def transport_magnetization(m: fem.Function, coefficients: MagnetCoefficients, fixed):
    """The magnetization the transport sees: the evolving m on the magnetic cells, the
    device's fixed directions (`fixed`, a 3-vector Function) elsewhere."""
    magnetic = coefficients.indicator()
    return magnetic * m + (1.0 - magnetic) * fixed


class CoupledProblem:
    """Transport and magnetization dynamics on one device mesh, stepped together.

    `magnet` must carry `link.torque` among its torques and `transport` must have been
    built with `link.motive_force(magnet.m)` and the magnetization of
    `transport_magnetization`.  With `transient` (a TransientTransport of `transport`
    whose time step is the LLG's) the valley balance is stepped in time, otherwise it is
    solved quasi-statically.  `drive(t)` scales every contact's set value (default 1);
    `surfaces` (name -> facet tag) are the groups valley torques are attributed to
    (default: those that relax valley: walls and interfaces with G_v > 0, contacts);
    contact voltages are averaged in time from `average_from_s` on; `field_varies`: the B
    of the transport follows m or the time (`weylfem.coupled.induction`).  Construction
    solves the transport at the current time.  A `weylfem.magnet.simulation.MagnetSystem`."""

    model = "charge_valley coupled to magnetization dynamics"

    def __init__(
        self,
        transport: TransportProblem,
        magnet: MicromagneticProblem,
        integrator: TangentPlaneIntegrator,
        link: ValleyLink,
        *,
        transient: TransientTransport | None = None,
        drive: Callable[[float], float] | None = None,
        surfaces: Mapping[str, int] | None = None,
        average_from_s: float = 0.0,
        field_varies: bool = True,
    ):
        if not transport.model.has_valley:
            raise ValueError("the coupled problem needs the charge_valley transport model")
        self.transport, self.magnet, self.integrator, self.link = (
            transport,
            magnet,
            integrator,
            link,
        )
        self.valley = "quasi_static" if transient is None else "transient"
        self.drive = drive or (lambda time_s: 1.0)
        self.average_from_s = average_from_s
        self.comm = magnet.device_mesh.comm
        self.ledger = EnergyLedger()
        self.state = fem.Function(transport.space, name="u")
        (charge_space, self._charge_dofs), (_, self._valley_dofs) = transport.contacts.components
        self._charge = fem.Function(charge_space, name="phi_c")
        self._transient = transient
        cells = magnet.coefficients.cells
        self._on_magnet = magnet.coefficients.indicator()
        hall = transport.coefficients.hall_conductivity.x.array[cells]
        local = bool(np.any(hall != 0))
        self.hall_follows_m = self.comm.allreduce(local, op=MPI.LOR)
        """whether the Hall term makes the transport operator depend on m"""
        anomaly = bool(np.any(transport.coefficients.anomaly.x.array != 0))
        self.field_follows_m = field_varies and self.comm.allreduce(anomaly, op=MPI.LOR)
        """whether the anomaly and CME, through B = applied + mu_0 (M_s m + H_d), make the
        transport operator depend on m (`weylfem.coupled.induction`)"""

        coefficients, coupling = magnet.coefficients, link.coupling
        dx, rate = magnet.dx, link.rate
        inertia = coefficients.inertia()
        gradient = gradient3(link.valley_potential)
        self._gilbert_form = fem.form(inertia * coefficients.damping * ufl.dot(rate, rate) * dx)
        self._coupling_form = fem.form(
            2
            * coupling.eta
            * coupling.conductivity
            / ELEMENTARY_CHARGE
            * ufl.dot(rate, gradient)
            * dx
        )
        model = transport.model
        capacitance = transport.coefficients.valley_capacitance
        self._valley_energy_form = fem.form(
            0.5 * capacitance * model.potentials(self.state).valley ** 2 * model.dx
        )
        self._dissipation_form = fem.form(model.weak_form(self.state, self.state))
        densities = link.torque.torque_densities(magnet.m)
        self._torque_forms = [[fem.form(d[i] * dx) for i in range(3)] for d in densities]
        groups = dict(surfaces if surfaces is not None else _relaxing_groups(transport))
        self.surfaces = InterfaceTorques(
            magnet.device_mesh, self._on_magnet, cells, groups, densities, dx
        )
        self._voltage_integral = np.zeros(len(transport.contact_order))
        self._averaged_s = 0.0
        self.voltages_V = np.zeros(len(transport.contact_order))
        self.currents_A = np.zeros(len(transport.contact_order))
        self._power_W = self._dissipation_W = self._valley_energy_J = 0.0
        self._started = False
        self.synchronize()

    # -- stepping ----------------------------------------------------------------------------

    def solve_transport(self) -> None:
        """The transport at the magnet's current time, m and dm/dt (then phi_v, the
        contact voltages and currents and the powers are those of the current state)."""
        time_s = self.magnet.time_s
        scale = self.drive(time_s)
        if self.field_follows_m:
            self.magnet.update_terms()  # H_d of the current m (the next LLG step reuses it)
        if self.hall_follows_m or self.field_follows_m:
            (self._transient or self.transport.operator).refresh()
        if self._transient is None:
            contacts = scaled_contacts(self.transport.device.contacts, scale)
            _, self.voltages_V, self.currents_A = self.transport.operator.solve(
                self.state, contacts
            )
        elif not self._started:
            self.voltages_V, self.currents_A = self._transient.initial_state(self.state)
        else:
            self.voltages_V, self.currents_A = self._transient.advance(self.state, time_s, scale)
        self._started = True
        self.link.valley_potential.x.array[:] = self.state.x.array[self._valley_dofs]
        self.link.valley_potential.x.scatter_forward()
        self._power_W = float(self.voltages_V @ self.currents_A)
        self._dissipation_W = self._sum(self._dissipation_form)
        valley_energy = self._sum(self._valley_energy_form) if self._transient else 0.0
        self.ledger.add(valley_free_energy_change_J=valley_energy - self._valley_energy_J)
        self._valley_energy_J = valley_energy

    def step(self, step_s: float) -> float:
        """Advance by `step_s` (LLG step, then the transport); returns the largest |dm|."""
        if self._transient is not None and not np.isclose(
            step_s, self._transient.transient.time_step_s, rtol=1e-12
        ):
            raise ValueError(
                f"the transient valley balance steps {self._transient.transient.time_step_s} s,"
                f" not {step_s} s"
            )
        magnet = self.magnet
        nodes = magnet.magnetic_nodes
        start_s = magnet.time_s
        before = magnet.m.x.array.reshape(-1, 3)[nodes].copy()
        change = self.integrator.step(step_s)
        self._set_rate(before, step_s)
        gilbert = self._sum(self._gilbert_form)
        coupling = self._sum(self._coupling_form)
        energy = magnet.energies()["total"]
        self.ledger.add(
            magnetic_energy_change_J=energy - self._magnetic_energy,
            contact_work_J=self._power_W * step_s,
            transport_dissipation_J=self._dissipation_W * step_s,
            gilbert_dissipation_J=gilbert * step_s,
            coupling_dissipation_J=coupling * step_s,
        )
        self._magnetic_energy = energy
        # step times are sums of steps: a step starting at average_from_s up to round-off
        # belongs to the average
        if start_s >= self.average_from_s - 1e-6 * step_s:
            self._voltage_integral += self.voltages_V * step_s
            self._averaged_s += step_s
        self.solve_transport()
        return change

    def _set_rate(self, before: np.ndarray, step_s: float) -> None:
        nodes = self.magnet.magnetic_nodes
        rate = self.link.rate.x.array.reshape(-1, 3)
        rate[nodes] = (self.magnet.m.x.array.reshape(-1, 3)[nodes] - before) / step_s
        self.link.rate.x.scatter_forward()

    def synchronize(self) -> None:
        """Recompute what depends on m and the time after they were changed from outside
        (a relaxation, a restored checkpoint): the transport and the magnetic energy."""
        self._magnetic_energy = self.magnet.energies()["total"]
        self.solve_transport()

    def running_totals(self) -> dict[str, object]:
        """The ledger totals and the voltage average, as flat data (for checkpoints)."""
        return {
            **{f"ledger_{k}": v for k, v in dataclasses.asdict(self.ledger).items()},
            "voltage_integral": self._voltage_integral.copy(),
            "averaged_s": self._averaged_s,
        }

    def resume(self, totals: Mapping[str, object]) -> None:
        """Continue after the magnet and integrator were restored from a checkpoint: dm/dt
        from the integrator's history, the transport at the restored time, and the
        running totals (`running_totals` of the interrupted run)."""
        if self._transient is not None:
            raise ValueError("a transient-valley run cannot be resumed (phi_v is not saved)")
        history = self.integrator.history
        if history is not None:
            self._set_rate(history[0], history[1])
        self.synchronize()
        self.ledger = EnergyLedger(
            **{f.name: float(totals[f"ledger_{f.name}"]) for f in dataclasses.fields(EnergyLedger)}
        )
        self._voltage_integral = np.asarray(totals["voltage_integral"], dtype=float).copy()
        self._averaged_s = float(totals["averaged_s"])

    # -- outputs -----------------------------------------------------------------------------

    def series_columns(self) -> list[str]:
        """Columns this problem adds to series.csv."""
        order = self.transport.contact_order
        torque = [f"torque_{part}_{c}_J" for part in ("fl", "dl") for c in "xyz"]
        ledger = [f"{f.name}" for f in dataclasses.fields(EnergyLedger)]
        return [
            *(f"V_{name}_V" for name in order),
            *(f"I_{name}_A" for name in order),
            *torque,
            *ledger,
            "energy_residual_J",
        ]

    def series_values(self) -> list[float]:
        """The values of `series_columns` now."""
        field_like, damping_like = self.valley_torque_J()
        return [
            *self.voltages_V,
            *self.currents_A,
            *field_like,
            *damping_like,
            *dataclasses.astuple(self.ledger),
            self.ledger.residual_J,
        ]

    def snapshot_fields(self) -> list[fem.Function]:
        """phi_c, phi_v (P1), the valley field B_v and torque density t_v (per cell)."""
        mesh = self.magnet.device_mesh.mesh
        m = self.magnet.m
        field_like, damping_like = self.link.torque.torque_densities(m)
        return [
            nodal(self.charge_potential(), "phi_c"),
            nodal(self.link.valley_potential, "phi_v"),
            cellwise_vector(self._on_magnet * self.link.torque.field(m), mesh, "B_v"),
            cellwise_vector(field_like + damping_like, mesh, "torque_density"),
        ]

    def report(self) -> dict:
        """The coupling, the contacts (final and averaged voltages), the valley torque on
        the magnet and at each surface, and the energy balance, for results.json."""
        transport = self.transport
        order = transport.contact_order
        field_like, damping_like = self.valley_torque_J()
        return {
            "coupling": {
                "valley": self.valley,
                "hall_follows_m": self.hall_follows_m,
                "field_follows_m": self.field_follows_m,
                "transport_solver": solver_description(transport.solver_choice, transport.solver),
            },
            "contacts": contact_table(
                transport.device.contacts, order, self.voltages_V, self.currents_A
            ),
            "contact_order": order,
            "average_voltages_V": dict(zip(order, self.average_voltages_V(), strict=True)),
            "valley_torque_J": {
                "field_like": field_like,
                "damping_like": damping_like,
                "total": field_like + damping_like,
            },
            "interface_torques": {
                name: torque.report() for name, torque in self.interface_torques().items()
            },
            "energy_balance": self.ledger.report(),
        }

    # -- derived quantities ------------------------------------------------------------------

    def _sum(self, form) -> float:
        return self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)

    def valley_torque_J(self) -> tuple[np.ndarray, np.ndarray]:
        """(field-like, damping-like) valley torque on the whole magnet (J; J/m in 2D)."""
        field_like, damping_like = (
            np.array([self._sum(form) for form in forms]) for forms in self._torque_forms
        )
        return field_like, damping_like

    def interface_torques(self) -> dict[str, InterfaceTorque]:
        """The valley torque attributed to each named surface or interface of the magnet."""
        return self.surfaces.evaluate()

    def average_voltages_V(self) -> np.ndarray:
        """Contact voltages averaged over the steps since average_from_s (the DC voltages
        of a pumping run); the current ones if no step was averaged yet."""
        if self._averaged_s == 0:
            return self.voltages_V.copy()
        return self._voltage_integral / self._averaged_s

    def charge_potential(self) -> fem.Function:
        """phi_c of the current state."""
        self._charge.x.array[:] = self.state.x.array[self._charge_dofs]
        self._charge.x.scatter_forward()
        return self._charge


def _relaxing_groups(transport: TransportProblem) -> dict[str, int]:
    """Facet groups that relax valley (`valley_relaxing_groups`), by name -> tag."""
    groups = transport.device_mesh.facet_groups
    return {name: groups[name] for name in valley_relaxing_groups(transport.device)}
