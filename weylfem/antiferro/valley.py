"""The valley coupling of a collinear antiferromagnet through its Neel vector (docs/theory.md
§3a, "Valley coupling through l"; TS Sec. V, Eq. 40; model.md §4).

TS's antiferromagnet is the ferromagnet's model with m -> l: the transport sees l where it
saw m (the anomalous Hall term theta l x grad(phi_c) of the l-odd sigma_AH^(l), the
motive force f = (eta/e)(1 - beta l x) dl/dt), and the valley torque
t_v = (eta sigma_v/e)[l x grad(phi_v) - beta l x (l x grad(phi_v))] acts on the net spin
density.  Here l = (m_1 - m_2)/2 (|l| = 1 up to the canting) and the torque enters the
sublattice equations as the staggered field

    B_1^v = +b,  B_2^v = -b,   M_s,k b = -(eta sigma_v/(2e)) (1 - beta l x) grad(phi_v),

whose torque on the net spin density, -sum_k M_s,k m_k x B_k^v = -2 M_s l x b, is t_v, and
whose power sum_k M_s,k B_k^v . dm_k/dt = 2 M_s b . dl/dt is the ferromagnet's with m -> l:
the energy law of docs/theory.md §3 holds with l in the exchange terms and
sum_k (alpha M_s,k/gamma_k)|dm_k/dt|^2 as the Gilbert dissipation.

The coupled machinery is the ferromagnet's (`weylfem.coupled.problem.CoupledProblem`),
composed with three adapters: `NeelMagnet` (the sublattice problem seen as a magnet whose
direction field is l), `NeelIntegrator` (the sublattice LLG stepper, keeping every
dm_k/dt of the last step) and `NeelCoupledProblem` (the Gilbert dissipation of the
sublattices in the ledger).  `build_neel_coupled` assembles them from a device.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import ufl
from dolfinx import fem

from weylfem import compat
from weylfem.antiferro.energy import NetThinFilmDemagnetization, neel_vector
from weylfem.antiferro.problem import SublatticeProblem
from weylfem.antiferro.setup import SublatticeSetup, build_sublattice_magnet
from weylfem.antiferro.stepping import SublatticeLLG
from weylfem.constants import ELEMENTARY_CHARGE, VACUUM_PERMEABILITY
from weylfem.coupled.problem import CoupledProblem, ValleyLink, transport_magnetization
from weylfem.coupled.setup import transient_valley
from weylfem.coupled.valley_torque import (
    ValleyCouplingCoefficients,
    ValleyTorque,
    build_valley_coupling,
)
from weylfem.device import Coupling, Device
from weylfem.geometry import DeviceMesh
from weylfem.magnet.energy import gradient3
from weylfem.transport.coefficients import device_magnetic_field, device_magnetization
from weylfem.transport.problem import TransportProblem

STAGGER = (1.0, -1.0)
"""the sign of the staggered valley field on m_1 and m_2"""


class StaggeredValleyTorque:
    """T_k = -gamma_k m_k x B_k^v of the staggered valley field (the module's docstring),
    at the owned magnetic nodes: B_k^v(node i) = int M_s,k B_k^v . phi_i dx / int M_s,k
    phi_i dx, lumped like the sublattice fields.  An `extra_torques` entry of
    `SublatticeLLG` (called with the problem's directions set to `m`)."""

    name = "valley"

    def __init__(
        self,
        problem: SublatticeProblem,
        valley_potential: fem.Function,
        coupling: ValleyCouplingCoefficients,
    ):
        if problem.count != 2:
            raise ValueError("the valley coupling through l needs a collinear (2-sublattice) order")
        self.problem = problem
        gradient = gradient3(valley_potential)
        neel = neel_vector(problem.m)
        prefactor = coupling.eta * coupling.conductivity / ELEMENTARY_CHARGE
        moment_field = -0.5 * prefactor * (gradient - coupling.beta * ufl.cross(neel, gradient))
        """M_s,k b (J/m^3 per unit direction): the same on both sublattices"""
        test = ufl.TestFunction(problem.space)
        self._forms = [
            fem.form(sign * ufl.dot(moment_field, test) * problem.dx) for sign in STAGGER
        ]
        self._vectors = [compat.create_vector(form) for form in self._forms]

    def fields(self) -> np.ndarray:
        """(nodes, 2, 3): B_k^v (T) at the owned magnetic nodes for the current l, phi_v."""
        problem = self.problem
        nodes = problem.magnetic_nodes
        result = np.empty((len(nodes), 2, 3))
        for k, (form, vector) in enumerate(zip(self._forms, self._vectors, strict=True)):
            compat.assemble_vector_into(vector, form)
            result[:, k] = vector.array.reshape(-1, 3)[nodes] / problem.lumped[:, k, None]
        return result

    def __call__(self, m: np.ndarray, time_s: float) -> np.ndarray:
        return -self.problem.gamma * np.cross(m, self.fields())


class NeelMagnet:
    """A sublattice problem as `CoupledProblem` sees a magnet: `m` is the Neel vector
    l = (m_1 - m_2)/2 (a P1 Function kept in step with the sublattices by `sync`), the
    coefficients those of the magnetic regions, the energy the sublattices'."""

    def __init__(self, problem: SublatticeProblem):
        if problem.count != 2:
            raise ValueError("the valley coupling through l needs a collinear (2-sublattice) order")
        self.problem = problem
        self.device_mesh = problem.device_mesh
        self.coefficients = problem.coefficients.base
        self.dx = problem.dx
        self.magnetic_nodes = problem.magnetic_nodes
        self.terms = problem.terms
        self.m = fem.Function(problem.space, name="l")
        self.sync()

    @property
    def time_s(self) -> float:
        return self.problem.time_s

    def set_time(self, time_s: float) -> None:
        self.problem.set_time(time_s)

    def sync(self) -> None:
        """l := (m_1 - m_2)/2 at every node (owned and ghost)."""
        first, second = self.problem.m
        self.m.x.array[:] = (first.x.array - second.x.array) / 2

    def update_terms(self) -> None:
        """l of the current sublattices (the coupled problem calls it before a transport
        solve that reads the magnet)."""
        self.sync()

    def energies(self) -> dict[str, float]:
        return self.problem.energies()

    @property
    def magnetic_node_count(self) -> int:
        return self.problem.magnetic_node_count


class NeelIntegrator:
    """The sublattice LLG stepper as `CoupledProblem` sees an integrator; after every step
    l is synchronised and `rates` hold each dm_k/dt = (m_k^{n+1} - m_k^n)/k (P1)."""

    history: tuple[np.ndarray, float] | None = None
    """a one-step scheme: None, except after a restore, where `CoupledProblem.resume`
    reads l before the last step and its length from it (dl/dt)"""

    def __init__(self, llg: SublatticeLLG, magnet: NeelMagnet):
        self.llg, self.magnet = llg, magnet
        self.scheme, self.solver, self.solver_choice = llg.scheme, llg.solver, llg.solver_choice
        problem = magnet.problem
        self.rates = [fem.Function(problem.space, name=f"dm{k + 1}_dt") for k in range(2)]

    @property
    def stepper(self):
        return self.llg.stepper

    def step(self, step_s: float) -> float:
        """One run-loop step of the sublattices; returns the largest |dm_k|."""
        problem = self.magnet.problem
        before = problem.state()
        change = self.llg.step(step_s)
        rate = ((problem.state() - before) / step_s).reshape(-1, 2, 3)
        for k, function in enumerate(self.rates):
            function.x.array.reshape(-1, 3)[problem.magnetic_nodes] = rate[:, k]
            function.x.scatter_forward()
        self.magnet.sync()
        return change


class NeelCoupledProblem(CoupledProblem):
    """`CoupledProblem` of a collinear antiferromagnet (`NeelMagnet`, `NeelIntegrator`):
    the ledger's Gilbert dissipation is sum_k int (alpha_k M_s,k/gamma_k)|dm_k/dt|^2, the
    snapshot's B_v the staggered field b on m_1."""

    model = "charge_valley coupled to sublattice (Neel vector) dynamics"

    def __init__(self, transport, magnet: NeelMagnet, integrator: NeelIntegrator, link, **options):
        super().__init__(transport, magnet, integrator, link, **options)
        coefficients = magnet.problem.coefficients
        density = sum(
            ms / ufl.conditional(ufl.gt(gamma, 0.0), gamma, 1.0) * alpha * ufl.dot(rate, rate)
            for ms, gamma, alpha, rate in zip(
                coefficients.saturation,
                coefficients.gyromagnetic_ratio,
                coefficients.damping,
                integrator.rates,
                strict=True,
            )
        )
        self._gilbert_form = fem.form(density * magnet.dx)

    def synchronize(self) -> None:
        """l of the sublattices, then the ferromagnet's synchronisation."""
        self.magnet.sync()
        super().synchronize()

    def restore_rate(self, previous: np.ndarray | None, step_s: float) -> None:
        """Before `resume`: dl/dt of the restored run from its sublattice directions
        before the last step ((nodes, 2, 3), None at step 0), as the step formed it."""
        self.magnet.sync()
        before = None if previous is None else (previous[:, 0] - previous[:, 1]) / 2
        self.integrator.history = None if before is None else (before, step_s)

    def snapshot_fields(self) -> list[fem.Function]:
        """phi_c, phi_v, the staggered valley field b on m_1 (named B_v; -b acts on m_2)
        and the torque density on the net spin density."""
        fields = super().snapshot_fields()
        fields[2].x.array[:] *= 0.5  # the ferromagnet's B_v with l is 2b
        return fields


def sublattice_induction(applied, setup: SublatticeSetup, with_magnet: bool = True):
    """B where the carriers are: the static `applied` field, the time-dependent applied
    field and (`with_magnet`) mu_0 (M_net + H_d) of the net magnetization M_net =
    sum_k M_s,k m_k (H_d = -(M_net.n) n of the thin-film term, none otherwise)."""
    total = applied
    problem = setup.problem
    if with_magnet:
        net = sum(
            ms * mk for ms, mk in zip(problem.coefficients.saturation, problem.m, strict=True)
        )
        induction = net
        for term in problem.terms:
            if isinstance(term, NetThinFilmDemagnetization):
                induction = induction - ufl.dot(net, term.normal) * term.normal
        total = total + VACUUM_PERMEABILITY * induction
    pulse = None if setup.zeeman is None else setup.zeeman.pulse()
    return total if pulse is None else total + pulse


def build_neel_coupled(
    device: Device,
    device_mesh: DeviceMesh,
    torque_coupling: ValleyCouplingCoefficients | None = None,
    motive_coupling: ValleyCouplingCoefficients | None = None,
) -> tuple[NeelCoupledProblem, SublatticeSetup]:
    """The coupled charge-valley-Neel problem of `device` (valid: [dynamics], the
    charge_valley transport, a collinear antiferromagnet with eta).  The torque and the
    motive force take the regions' eta, beta, sigma_v unless `torque_coupling` or
    `motive_coupling` replace one side's (a test of the Onsager pairing)."""
    options = device.coupling or Coupling()
    setup = build_sublattice_magnet(device, device_mesh)
    problem = setup.problem
    base = problem.coefficients.base
    materials: Mapping = {name: device.material_of(name) for name in device.magnetic_regions()}
    coupling = build_valley_coupling(device_mesh, materials)
    link = ValleyLink.create(base, motive_coupling or coupling, device.physics.element_degree)
    if torque_coupling is not None:
        link.torque = ValleyTorque(base, link.valley_potential, torque_coupling)
    torque = StaggeredValleyTorque(problem, link.valley_potential, torque_coupling or coupling)
    magnet = NeelMagnet(problem)
    integrator = NeelIntegrator(SublatticeLLG(problem, extra_torques=[torque]), magnet)
    transport = TransportProblem(
        device,
        device_mesh,
        magnetic_field=sublattice_induction(
            device_magnetic_field(device, device_mesh), setup, options.magnet_induction
        ),
        magnetization=transport_magnetization(
            magnet.m, base, device_magnetization(device, device_mesh)
        ),
        motive_force=link.motive_force(magnet.m),
    )
    transient = transient_valley(transport, device, options)
    coupled = NeelCoupledProblem(
        transport,
        magnet,
        integrator,
        link,
        transient=transient,
        drive=options.drive_scale,
        average_from_s=options.average_from_s,
        field_varies=options.magnet_induction or device.applied_field is not None,
    )
    return coupled, setup
