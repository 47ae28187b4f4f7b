"""Transients of the charge-valley system: the theta-scheme in time (docs/theory.md
Sec. 2, "Transients").

With a = a_c + a_v split by test function (charge rows w, valley rows q), one step
from t_n to t_{n+1} = t_n + dt solves

    a_c(u^{n+1}, w) = L_c(w)                                   (quasi-neutral, every step)
    (e^2 N/dt)(phi_v^{n+1} - phi_v^n, q) + theta a_v(u^{n+1}, q) + (1 - theta) a_v(u^n, q)
        = L_v(q)

with the contact drives at t_{n+1}.  The start is consistent: phi_v = 0 and phi_c
solving the charge balance for the drive at t = 0.  Each operator (start, step) is
factorized once; contacts of every kind are handled as in the steady problem: unit
solutions of the operator (computed once) and, per step, one solve with the history
and every contact at 0 V, combined exactly through the contact response.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem

from weylfem.device import Contact, Transient
from weylfem.transport.problem import TransportProblem
from weylfem.transport.terms import Potentials, total


@dataclass
class TransientSeries:
    """Contact voltages and currents at every time (row 0: the consistent start, t = 0)."""

    times_s: np.ndarray
    voltages_V: np.ndarray
    """shape (steps + 1, contacts)"""
    currents_A: np.ndarray
    contact_order: list[str]


class TransientTransport:
    """Time stepping of a charge_valley TransportProblem (built first, in one setup)."""

    def __init__(self, problem: TransportProblem, transient: Transient):
        model = problem.model
        if not model.has_valley:
            raise ValueError("transients need the charge_valley model")
        self.problem = problem
        self.transient = transient
        mesh = problem.device_mesh.mesh
        dx = model.dx
        capacitance = problem.coefficients.valley_capacitance
        dt = transient.time_step_s

        self.previous = fem.Function(problem.space)
        u, v = ufl.TrialFunction(problem.space), ufl.TestFunction(problem.space)
        pu, pv = model.potentials(u), model.potentials(v)
        old = model.potentials(self.previous)
        implicit = fem.Constant(mesh, transient.theta)
        explicit = fem.Constant(mesh, 1.0 - transient.theta)
        no_charge_rows = fem.Constant(mesh, 0.0)

        charge_rows = Potentials(pv.charge, no_charge_rows * pv.valley)
        self.start = problem.new_operator(
            "transient_start",
            model.split_weak_form(pu, charge_rows) + pu.valley * pv.valley * dx,
            no_charge_rows * pv.valley * dx,
            linear_is_zero=True,
        )
        step = model.split_weak_form(pu, Potentials(pv.charge, implicit * pv.valley))
        history = (capacitance / dt) * old.valley * pv.valley * dx - model.split_weak_form(
            old, Potentials(no_charge_rows * pv.charge, explicit * pv.valley)
        )
        self.step = problem.new_operator(
            "transient",
            step + (capacitance / dt) * pu.valley * pv.valley * dx,
            total([history, model.source_form(v)]),
        )

    def refresh(self) -> None:
        """Reassemble both operators after the magnetization changed (coupled runs)."""
        self.start.refresh()
        self.step.refresh()

    def initial_state(self, state: fem.Function) -> tuple[np.ndarray, np.ndarray]:
        """state := the consistent start (phi_v = 0, charge balance for the drive at
        t = 0); returns the contact voltages and currents."""
        drives = scaled_contacts(self.problem.device.contacts, self.transient.drive_scale(0.0))
        _, voltages, currents = self.start.solve(state, drives)
        return voltages, currents

    def advance(
        self, state: fem.Function, time: float, scale: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One step: state (at time - dt on entry) := the state at `time`, with the drives
        scaled by `scale` (default: the transient's waveform at `time`); returns the
        contact voltages and currents."""
        self.previous.x.array[:] = state.x.array
        factor = self.transient.drive_scale(time) if scale is None else scale
        _, voltages, currents = self.step.solve(
            state, scaled_contacts(self.problem.device.contacts, factor)
        )
        return voltages, currents

    def run(
        self, on_step: Callable[[int, float, fem.Function], None] | None = None
    ) -> TransientSeries:
        """March to end_time_s; `on_step(step, time, state)` is called at the start (step 0)
        and after every step."""
        order = self.problem.contact_order
        steps = self.transient.steps()
        times = np.arange(steps + 1) * self.transient.time_step_s
        voltages = np.zeros((steps + 1, len(order)))
        currents = np.zeros((steps + 1, len(order)))
        state = fem.Function(self.problem.space, name="u")
        voltages[0], currents[0] = self.initial_state(state)
        if on_step is not None:
            on_step(0, 0.0, state)
        for n in range(1, steps + 1):
            voltages[n], currents[n] = self.advance(state, float(times[n]))
            if on_step is not None:
                on_step(n, float(times[n]), state)
        return TransientSeries(times, voltages, currents, list(order))


def scaled_contacts(contacts: Mapping[str, Contact], scale: float) -> dict[str, Contact]:
    """The contacts with every set value (voltage_V or current_A) multiplied by `scale`."""
    scaled = {}
    for name, contact in contacts.items():
        if contact.voltage_V is not None:
            contact = dataclasses.replace(contact, voltage_V=scale * contact.voltage_V)
        elif contact.current_A is not None:
            contact = dataclasses.replace(contact, current_A=scale * contact.current_A)
        scaled[name] = contact
    return scaled
