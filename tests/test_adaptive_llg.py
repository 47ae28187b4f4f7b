"""Operators assembled once and the adaptive Dormand-Prince 5(4) LLG integrator (rk45).

- The field operator (`weylfem.magnet.field_operator`: constant matrices and vectors, the
  demagnetizing potential's own operators, and the assembled fallback) gives the nodal
  B_eff that assembling every term's variation gives (`problem.update`), to round-off,
  for every energy term, static and time-dependent fields, and a made-up term.
- rk45 repeats the analytic LLG cases of tests/test_magnet_dynamics.py (macrospin
  precession and damping, standing spin waves, spin-orbit torques, a Zhang-Li wall, a
  switched-on field) with its tolerance, and its error falls with the tolerance.
- Energy minimisation with the field operator lowers the energy to the minimum.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import ufl
from dolfinx import fem
from mpi4py import MPI
from test_magnet_dynamics import (
    FILM_AMPLITUDE,
    FILM_CELLS,
    FILM_FIELD_T,
    FILM_LENGTH_M,
    FILM_MODES,
    GAMMA,
    MACRO_DAMPING,
    MACRO_FIELD_T,
    MACRO_OMEGA,
    MACRO_PERIOD_S,
    MACRO_POLAR,
    NORM_TOLERANCE,
    SATURATION_A_PER_M,
    EXCHANGE_J_PER_M,
    SOT_FIELD_T,
    SOT_SPIN,
    WALL_DAMPING,
    WALL_POLARIZATION,
    cone,
    current_for,
    decay_problem,
    gathered,
    log_tan_half,
    macrospin,
    macrospin_exact,
    magnet,
    march,
    polar_azimuth,
    rate,
    spin_orbit_macrospin,
    steady_rate,
    wall_problem,
)

from weylfem.constants import VACUUM_PERMEABILITY
from weylfem.geometry import MagnetBodyGeometry, build_device_mesh
from weylfem.magnet.adaptive import AdaptiveIntegrator
from weylfem.magnet.coefficients import MagneticRegion, build_magnet_coefficients
from weylfem.magnet.demag import Demagnetization
from weylfem.magnet.energy import (
    BulkDMI,
    CubicAnisotropy,
    EnergyTerm,
    Exchange,
    InterfacialDMI,
    ThinFilmDemagnetization,
    UniaxialAnisotropy,
    WeylOrbitalZeeman,
    Zeeman,
)
from weylfem.magnet.minimize import minimize
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.torques import ZhangLiTorque
from weylfem.materials import Material

TOLERANCE = 1e-6
"""the rk45 tolerance of the analytic cases"""

# -- 1. the field operator ---------------------------------------------------------------------


class MadeUpEnergy(EnergyTerm):
    """-K m_x^4: neither quadratic nor linear, a term the operator only knows by its form."""

    name = "made_up_energy"

    def __init__(self, coefficients):
        self.constant = coefficients.saturation_magnetization * 0.05

    def density(self, m):
        return -self.constant * m[0] ** 4


def every_term_problem(comm, open_boundary: str) -> MicromagneticProblem:
    """A 100 x 60 x 20 nm box in air (a shell or a truncated ball) with every energy term
    and a smooth non-uniform m."""
    geometry = MagnetBodyGeometry(
        lx=0.1,
        ly=0.06,
        lz=0.02,
        open_boundary=open_boundary,
        magnet_mesh_size=0.02,
        mesh_size=0.1,
    )
    device_mesh = build_device_mesh(geometry, comm)
    material = Material(
        name="every",
        conductivity_S_per_m=1.0,
        saturation_magnetization_A_per_m=SATURATION_A_PER_M,
        exchange_stiffness_J_per_m=EXCHANGE_J_PER_M,
        gilbert_damping=0.02,
        uniaxial_anisotropy_J_per_m3=3e4,
        cubic_anisotropy_J_per_m3=-2e4,
        interfacial_dmi_J_per_m2=1e-3,
        bulk_dmi_J_per_m2=-5e-4,
    )
    coefficients = build_magnet_coefficients(
        device_mesh, {"magnet": MagneticRegion(material, (1.0, 1.0, 0.5))}
    )
    zeeman = Zeeman(
        coefficients, (0.01, -0.02, 0.03), (0.0, 0.05, -0.01), lambda t: math.cos(1e10 * t)
    )
    orbital = WeylOrbitalZeeman(coefficients, zeeman)
    orbital.orbital = fem.Constant(device_mesh.mesh, 3.0e4)
    terms = [
        Exchange(coefficients),
        UniaxialAnisotropy(coefficients),
        CubicAnisotropy(coefficients),
        InterfacialDMI(coefficients),
        BulkDMI(coefficients),
        zeeman,
        orbital,
        ThinFilmDemagnetization(coefficients, (0.0, 0.6, 0.8)),
        MadeUpEnergy(coefficients),
    ]
    shell = "shell" if open_boundary == "shell" else None
    demag = Demagnetization(coefficients, device_mesh, shell=shell, kind="direct")
    demag.name = "potential_demagnetization"
    terms.append(demag)

    def initial(x):
        return np.array([np.cos(3e7 * x[1]), np.sin(2e7 * x[0]) + 0.3, np.cos(5e7 * x[2])])

    return MicromagneticProblem(device_mesh, coefficients, terms, initial)


@pytest.mark.mpi
@pytest.mark.parametrize("open_boundary", ["shell", "truncated"])
def test_field_operator_equals_the_assembled_field(open_boundary, comm):
    """Every term at once (each kind: quadratic, linear, nonlocal, general; every term's
    field is far above the tolerance), at two times of the time-dependent field and for
    two m: the operator's B_eff equals the assembled one to 1e-10 of its largest value
    (measured: 2e-15, serial and on two ranks)."""
    problem = every_term_problem(comm, open_boundary)
    operator = problem.field_operator
    assert [t.name for t in operator.general_terms] == ["cubic_anisotropy", "made_up_energy"]
    assert len(operator.quadratic_terms) == 5 and len(operator.linear_terms) == 2
    assert [t.name for t in operator.nonlocal_terms] == ["potential_demagnetization"]
    nodes = problem.magnetic_nodes
    for time_s, turn in ((0.0, None), (1.3e-10, (0.2, -0.7, 0.4))):
        if turn is not None:
            values = problem.owned_magnetization() + np.asarray(turn)
            problem.set_magnetization(values)
        problem.set_time(time_s)
        problem.update()
        assembled = problem.effective_field.x.array.reshape(-1, 3)[nodes]
        fast = operator.field()
        scale = comm.allreduce(float(np.abs(assembled).max(initial=0.0)), op=MPI.MAX)
        difference = comm.allreduce(float(np.abs(fast - assembled).max(initial=0.0)), op=MPI.MAX)
        assert scale > 0.1  # tesla: a field worth comparing
        assert difference < 1e-10 * scale
