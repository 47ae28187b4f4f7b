"""The transport set-up: a term that is a current declares it once."""

import numpy as np
import pytest
import ufl
from conftest import bar_table
from dolfinx import fem
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.meshing import mesh_device
from weylfem.transport import TransportProblem
from weylfem.transport.terms import TRANSPORT_MODELS, Currents, CurrentTerm

pytestmark = pytest.mark.mpi


class SecondOhmicTerm(CurrentTerm):
    """A made-up second ohmic channel, J = -sigma grad(phi_c): only its current."""

    def current(self, u):
        return Currents(charge=-self.c.conductivity * ufl.grad(u.charge))


def bar(comm, dimension: int = 2):
    table = bar_table()
    table["geometry"].update({"dimension": dimension, "mesh_size": 0.5})
    device = device_from_mapping(table, "bar")
    return device, mesh_device(device, comm)


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
