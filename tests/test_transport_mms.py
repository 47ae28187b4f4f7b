"""Manufactured-solution convergence of the coupled charge-valley system (docs/theory.md §2).

The exact potentials phi_c, phi_v below are smooth across the film/substrate interface
while every coefficient (sigma, sigma_AH m, Gamma, B, e^2 N / tau_v) jumps there.  The
data that make them a solution are derived here from the *strong* form, independently
of the product's weak form:

    J   = -sigma (grad phi_c + theta m x grad phi_c) + Gamma phi_v B,   J_v = -sigma grad phi_v
    f_c = div J,   f_v = div J_v + (e^2 N / tau_v) phi_v + Gamma B.grad phi_c   (per region)
    walls:      J.n = g_c,   J_v.n - G_v phi_v = g_v
    interface:  sum over both sides of the outward J.n = h_c, of J_v.n minus G_i phi_v = h_v
    contacts:   phi_c, phi_v = the exact values (Dirichlet)

Integrating the product's a(u, v) by parts region by region gives a(u_exact, (w, q)) =
int f_c w + f_v q dx - int_walls g_c w + g_v q ds - int_interface h_c w + h_v q dS, which
is the right-hand side solved for.  The coefficients are computed here from the material
inputs with the formulas of docs/theory.md §1, so a wrong sign or factor in any term of the
weak form, or in the coefficients it multiplies, stops the convergence.  Every term enters
at the same order: theta = 0.4 and 0.2, Gamma B L / sigma ~ 1, lambda_v ~ L, G_v L / sigma ~ 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import ufl
from dolfinx import fem
from mpi4py import MPI

from weylfem import compat
from weylfem.config import device_from_mapping
from weylfem.constants import ELECTRON_VOLT, ELEMENTARY_CHARGE, HBAR
from weylfem.meshing import mesh_device
from weylfem.solvers import LinearSolver
from weylfem.transport.problem import TransportProblem

pytestmark = pytest.mark.mpi

LENGTH_M = 1.0e-6
"""The device scale: a stack 1 um long, film 0.4 um on a 0.6 um substrate (0.5 um wide in 3D)."""
FILM_THICKNESS_M, SUBSTRATE_THICKNESS_M, WIDTH_3D_M = 0.4e-6, 0.6e-6, 0.5e-6
FERMI_VELOCITY_M_PER_S, FERMI_ENERGY_EV = 2.0e5, 0.05
WALL_CONDUCTANCE_S_PER_M2 = 1.5e10
INTERFACE_CONDUCTANCE_S_PER_M2 = 2.0e10
PHI_C_SCALE_V, PHI_V_SCALE_V = 1.0e-3, 0.6e-3

# Target coefficients per region; the material inputs that produce them are solved for below.
REGIONS = {
    "film": {
        "sigma": 1.0e4,  # S/m
        "sigma_v": 4.0e3,  # S/m, the valley conductivity (docs/theory.md §1)
        "theta": 0.4,
        "m": (0.3, -0.2, 0.9),  # normalised on use
        "pairs": 2,
        "anomaly_efficiency": 0.6,
        "valley_length_m": 0.5e-6,
        "B": (0.5, -0.3, 0.2),  # T, the device-wide field
    },
    "substrate": {
        "sigma": 2.5e4,
        "sigma_v": 1.5e4,
        "theta": 0.2,
        "m": (0.1, 0.4, -0.8),
        "pairs": 1,
        "anomaly_efficiency": 0.9,
        "valley_length_m": 0.8e-6,
        "B": (-0.3, 0.6, -0.4),  # T, a per-region override
    },
}


def density_of_states(pairs: int) -> float:
    """N = pairs mu_F^2 / (pi^2 hbar^3 v_F^3) (docs/theory.md §1)."""
    mu = FERMI_ENERGY_EV * ELECTRON_VOLT
    return pairs * mu**2 / (math.pi**2 * HBAR**3 * FERMI_VELOCITY_M_PER_S**3)


def material_inputs(target: dict) -> dict:
    """Material fields that give sigma, sigma_v, sigma_AH = theta sigma, Gamma and lambda_v of
    `target`: lambda_v^2 = sigma_v tau_v / (e^2 N)."""
    sigma, sigma_v, e = target["sigma"], target["sigma_v"], ELEMENTARY_CHARGE
    tau_v = target["valley_length_m"] ** 2 * e**2 * density_of_states(target["pairs"]) / sigma_v
    return {
        "conductivity_S_per_m": sigma,
        "valley_conductivity_S_per_m": sigma_v,
        "fermi_velocity_m_per_s": FERMI_VELOCITY_M_PER_S,
        "fermi_energy_eV": FERMI_ENERGY_EV,
        "weyl_node_pairs": target["pairs"],
        "hall_node_pairs": 1,
        "anomalous_hall_conductivity_S_per_m": target["theta"] * sigma,
        "valley_relaxation_time_s": tau_v,
        "anomaly_efficiency": target["anomaly_efficiency"],
    }


def coefficients(target: dict) -> dict:
    """The coefficients of the strong form (floats), from the targets and docs/theory.md §1."""
    m = np.asarray(target["m"], dtype=float)
    gamma = target["pairs"] * target["anomaly_efficiency"] * ELEMENTARY_CHARGE**3
    return {
        "sigma": target["sigma"],
        "sigma_v": target["sigma_v"],
        "sigma_ah": target["theta"] * target["sigma"],
        "m": m / np.linalg.norm(m),
        "gamma": gamma / (2 * math.pi**2 * HBAR**2),
        "relaxation": target["sigma_v"] / target["valley_length_m"] ** 2,  # e^2 N / tau_v
        "B": np.asarray(target["B"], dtype=float),
    }


def mms_device(dimension: int, mesh_size: float, degree: int):
    film, substrate = REGIONS["film"], REGIONS["substrate"]
    table = {
        "geometry": {
            "kind": "stack",
            "dimension": dimension,
            "length_unit": "um",
            "length": LENGTH_M / 1e-6,
            "width": WIDTH_3D_M / 1e-6,
            "film_thickness": FILM_THICKNESS_M / 1e-6,
            "substrate_thickness": SUBSTRATE_THICKNESS_M / 1e-6,
            "contacts": "ends",
            "mesh_size": mesh_size,
            "resolve_valley_layers": False,
        },
        "materials": {name: material_inputs(REGIONS[name]) for name in REGIONS},
        "regions": {
            "film": {"material": "film", "magnetization_direction": list(film["m"])},
            "substrate": {
                "material": "substrate",
                "magnetization_direction": list(substrate["m"]),
                "magnetic_field_T": list(substrate["B"]),
            },
        },
        "contacts": {"source": {"voltage_V": 1.0}, "drain": {"voltage_V": 0.0}},
        "walls": {"walls": {"valley_conductance_S_per_m2": WALL_CONDUCTANCE_S_PER_M2}},
        "interfaces": {
            "interface": {"valley_conductance_S_per_m2": INTERFACE_CONDUCTANCE_S_PER_M2}
        },
        "fields": {"magnetic_field_T": list(film["B"])},
        "physics": {"transport": "charge_valley", "element_degree": degree},
        # the product's own operator goes unused here: skip its factorization
        "solver": {"kind": "iterative"},
        "output": {"fields_xdmf": False, "png": False},
    }
    return device_from_mapping(table, "mms")


def exact(x, lib, dimension: int):
    """(phi_c, phi_v) at x (metres), with `lib` = ufl (expressions) or numpy (values).

    The layers are stacked along the last axis (y in 2D, z in 3D)."""
    s, t = x[0] / LENGTH_M, x[dimension - 1] / LENGTH_M
    phi_c = lib.cos(1.3 * s - 0.7 * t) + 0.5 * s * lib.sin(2.1 * t + 0.7)
    phi_v = lib.sin(1.7 * s + 0.9 * t + 0.2) + 0.4 * lib.cos(1.2 * t) * s
    if dimension == 3:
        r = x[1] / LENGTH_M
        phi_c = phi_c + 0.6 * lib.sin(2.3 * r - 0.4 * s)
        phi_v = phi_v + 0.5 * lib.cos(1.9 * r + 0.6 * t)
    return PHI_C_SCALE_V * phi_c, PHI_V_SCALE_V * phi_v


def currents(c: dict, phi_c, phi_v, dimension: int):
    """(J, J_v) for the coefficients `c` of one region (docs/theory.md §2); a 2D device is
    the xy plane: the in-plane components of the 3-vectors J = -sigma (grad phi_c +
    theta m x grad phi_c) + Gamma phi_v B and J_v = -sigma grad phi_v, with grad_z = 0."""
    grad_c = ufl.as_vector([phi_c.dx(i) if i < dimension else 0.0 for i in range(3)])
    charge = -c["sigma"] * grad_c - c["sigma_ah"] * ufl.cross(ufl.as_vector(c["m"]), grad_c)
    charge += c["gamma"] * phi_v * ufl.as_vector(c["B"])
    return ufl.as_vector([charge[i] for i in range(dimension)]), -c["sigma_v"] * ufl.grad(phi_v)


def manufactured_rhs(device_mesh, test, quadrature: int):
    """L((w, q)) from the strong form: volume sources per region, wall and interface data."""
    mesh = device_mesh.mesh
    dimension = mesh.topology.dim
    metadata = {"quadrature_degree": quadrature}
    dx = ufl.Measure("dx", mesh, subdomain_data=device_mesh.cell_tags, metadata=metadata)
    ds = ufl.Measure("ds", mesh, subdomain_data=device_mesh.facet_tags, metadata=metadata)
    dS = ufl.Measure("dS", mesh, subdomain_data=device_mesh.facet_tags, metadata=metadata)
    cells, facets = device_mesh.cell_groups, device_mesh.facet_groups
    phi_c, phi_v = exact(ufl.SpatialCoordinate(mesh), ufl, dimension)
    w, q = test[0], test[1]

    per_region = {name: coefficients(REGIONS[name]) for name in REGIONS}
    fluxes = {name: currents(c, phi_c, phi_v, dimension) for name, c in per_region.items()}
    rhs = 0
    for name, c in per_region.items():
        charge, valley = fluxes[name]
        field = ufl.as_vector(c["B"][:dimension])
        f_c = ufl.div(charge)
        anomaly = c["gamma"] * ufl.dot(field, ufl.grad(phi_c))
        f_v = ufl.div(valley) + c["relaxation"] * phi_v + anomaly
        rhs += (f_c * w + f_v * q) * dx(cells[name])

    # Facet data: the currents of the region a facet belongs to, through a film indicator.
    film = fem.Function(compat.function_space(mesh, "DG", 0))
    film_cells = device_mesh.cell_tags.indices[device_mesh.cell_tags.values == cells["film"]]
    film.interpolate(lambda x: np.ones(x.shape[1]), film_cells)
    film.x.scatter_forward()
    (j_film, jv_film), (j_sub, jv_sub) = fluxes["film"], fluxes["substrate"]
    charge = film * j_film + (1 - film) * j_sub
    valley = film * jv_film + (1 - film) * jv_sub
    n = ufl.FacetNormal(mesh)

    g_c = ufl.dot(charge, n)
    g_v = ufl.dot(valley, n) - WALL_CONDUCTANCE_S_PER_M2 * phi_v
    rhs -= (g_c * w + g_v * q) * ds(facets["walls"])

    def outflow(flux):  # sum over both sides of the outward normal flux
        return ufl.dot(flux("+"), n("+")) + ufl.dot(flux("-"), n("-"))

    h_c = outflow(charge)
    h_v = outflow(valley) - INTERFACE_CONDUCTANCE_S_PER_M2 * phi_v("+")
    rhs -= (h_c * w("+") + h_v * q("+")) * dS(facets["interface"])
    return rhs


def solve_mms(device, device_mesh) -> tuple[dict[str, float], float]:
    """Relative errors {phi_c, phi_v} x {L2, H1 semi-norm} of the product's weak form with
    the manufactured data, and the mesh size h = (volume / cells)^(1/d) (m)."""
    problem = TransportProblem(device, device_mesh)
    space, mesh = problem.space, device_mesh.mesh
    dimension, degree = mesh.topology.dim, device.physics.element_degree
    trial, test = ufl.TrialFunction(space), ufl.TestFunction(space)
    bilinear = fem.form(problem.model.weak_form(trial, test))
    linear = fem.form(manufactured_rhs(device_mesh, test, quadrature=2 * degree + 4))

    # Dirichlet data on both contacts, both components: the exact solution.
    tags, groups = device_mesh.facet_tags, device_mesh.facet_groups
    contact_facets = np.concatenate(
        [tags.indices[tags.values == groups[name]] for name in ("source", "drain")]
    )
    boundary_values = fem.Function(space)
    boundary_values.interpolate(lambda x: np.vstack(exact(x, np, dimension)))
    dofs = fem.locate_dofs_topological(space, dimension - 1, contact_facets)
    bcs = [fem.dirichletbc(boundary_values, dofs)]

    matrix = compat.assemble_matrix(bilinear, bcs)
    rhs = compat.create_vector(linear)
    compat.assemble_rhs(rhs, linear, bilinear, bcs)
    solver = LinearSolver("mms", matrix, "direct", 1e-12, {}, {})
    state = fem.Function(space)
    solver.solve(rhs, compat.petsc_vector(state))
    state.x.scatter_forward()

    dx = ufl.Measure("dx", mesh, metadata={"quadrature_degree": 2 * degree + 6})
    comm = device_mesh.comm

    def integral(integrand) -> float:
        return comm.allreduce(fem.assemble_scalar(fem.form(integrand * dx)), op=MPI.SUM)

    def norms(f) -> tuple[float, float]:
        return math.sqrt(integral(f**2)), math.sqrt(integral(ufl.inner(ufl.grad(f), ufl.grad(f))))

    errors = {}
    expected = exact(ufl.SpatialCoordinate(mesh), ufl, dimension)
    for i, name in enumerate(("phi_c", "phi_v")):
        l2, h1 = norms(state[i] - expected[i])
        l2_exact, h1_exact = norms(expected[i])
        errors[f"{name} L2"], errors[f"{name} H1"] = l2 / l2_exact, h1 / h1_exact
    volume = integral(fem.Constant(mesh, 1.0))
    cells = mesh.topology.index_map(dimension).size_global
    return errors, (volume / cells) ** (1 / dimension)


def _format(values: np.ndarray, spec: str) -> str:
    return "[" + " ".join(format(v, spec) for v in values) + "]"


_MESHES: dict[tuple[int, float], object] = {}


def device_mesh_for(dimension: int, mesh_size: float):
    """Meshes depend on the geometry only: one per (dimension, size), shared by the degrees."""
    key = (dimension, mesh_size)
    if key not in _MESHES:
        _MESHES[key] = mesh_device(mms_device(dimension, mesh_size, 1), MPI.COMM_WORLD)
    return _MESHES[key]


@pytest.mark.parametrize(
    ("dimension", "degree", "sizes"),
    [
        (2, 1, (0.1, 0.05, 0.025, 0.0125)),
        (2, 2, (0.1, 0.05, 0.025)),
        (3, 1, (0.1, 0.07, 0.05, 0.035)),
    ],
)
def test_coupled_transport_converges_at_optimal_rates(dimension, degree, sizes):
    """L2 errors fall as h^(k+1) and H1 errors as h^k for phi_c and phi_v (P-k elements)."""
    results = [
        solve_mms(mms_device(dimension, size, degree), device_mesh_for(dimension, size))
        for size in sizes
    ]
    h = np.array([size for _, size in results])
    rows = []
    for key in results[0][0]:
        errors = np.array([e[key] for e, _ in results])
        rates = np.log(errors[:-1] / errors[1:]) / np.log(h[:-1] / h[1:])
        rows.append((key, errors, rates, degree + 1 if key.endswith("L2") else degree))
    report = "\n".join(
        f"  {key}: relative errors {_format(errors, '.3e')}, rates {_format(rates, '.3f')}"
        for key, errors, rates, _ in rows
    )
    print(f"\n{dimension}D P{degree}, h = {_format(h, '.3e')} m\n{report}")
    for key, _, rates, order in rows:
        assert np.all(rates >= order - 0.1), f"{dimension}D P{degree} {key}\n{report}"
