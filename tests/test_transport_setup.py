"""The transport set-up guards its shortcuts: a term is a current declared once, and
a(1_c, v) = 0 is checked so that the last unit solution (phi_c = 1 minus the others)
can't go silently wrong."""

import numpy as np
import pytest
import ufl
from conftest import bar_table
from dolfinx import fem
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.errors import InternalError
from weylfem.meshing import mesh_device
from weylfem.transport import TransportProblem
from weylfem.transport.terms import TRANSPORT_MODELS, Currents, CurrentTerm, TransportTerm

pytestmark = pytest.mark.mpi

LEAK_LENGTH_M = 1e-6
"""the made-up leak is sigma / L^2 over this L: comparable with the ohmic term"""


class GroundLeakTerm(TransportTerm):
    """A made-up leak of charge to ground, (sigma / L^2) phi_c w: it sees phi_c itself."""

    def bilinear(self, u, v):
        leak = self.c.conductivity / LEAK_LENGTH_M**2
        return leak * u.charge * v.charge * self.context.dx


class SecondOhmicTerm(CurrentTerm):
    """A made-up second ohmic channel, J = -sigma grad(phi_c): only its current."""

    def current(self, u):
        return Currents(charge=-self.c.conductivity * ufl.grad(u.charge))


def bar(comm, dimension: int = 2):
    table = bar_table()
    table["geometry"].update({"dimension": dimension, "mesh_size": 0.5})
    device = device_from_mapping(table, "bar")
    return device, mesh_device(device, comm)


def test_term_seeing_phi_c_itself_fails_the_unit_check(monkeypatch, comm):
    """phi_c = 1 (1 V on every contact) is no longer a current-free solution when a term
    sees phi_c itself: the set-up refuses the operator, naming a(1_c, v) = 0."""
    monkeypatch.setitem(TRANSPORT_MODELS, "ohmic", (*TRANSPORT_MODELS["ohmic"], GroundLeakTerm))
    device, device_mesh = bar(comm)
    with pytest.raises(InternalError, match=r"operator 'transport': a\(1_c, v\) = 0 fails"):
        TransportProblem(device, device_mesh)


def test_current_term_gives_its_weak_form_and_current(monkeypatch, comm):
    """A term that declares only its current J enters a(u, v) (the bar's conductance
    doubles with a second ohmic channel) and the reported J (its flux doubles)."""
    device, device_mesh = bar(comm)
    results = []
    for terms in (TRANSPORT_MODELS["ohmic"], (*TRANSPORT_MODELS["ohmic"], SecondOhmicTerm)):
        monkeypatch.setitem(TRANSPORT_MODELS, "ohmic", terms)
        solution = TransportProblem(device, device_mesh).solve()
        flux = fem.form(solution.charge_current[0] * ufl.dx(domain=device_mesh.mesh))
        total = comm.allreduce(fem.assemble_scalar(flux), op=MPI.SUM)
        results.append((solution.conductance_matrix_S, total))
    (single, single_flux), (double, double_flux) = results
    np.testing.assert_allclose(double, 2 * single, rtol=1e-10, atol=1e-12 * np.abs(single).max())
    assert double_flux == pytest.approx(2 * single_flux, rel=1e-10)
