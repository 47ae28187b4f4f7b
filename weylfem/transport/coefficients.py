"""Material and field coefficients of the transport equations as DOLFINx functions.

Scalar material parameters are piecewise constant (DG0, one value per region).  The
magnetization direction m and the magnetic field B are 3-vectors in every dimension (a
2D device lies in the xy plane): per region (DG0) from the device description, or
nodal (P1) when sampled from a field file or given as a callable or a Function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import ufl
from dolfinx import fem

from weylfem import compat
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.device import Device
from weylfem.errors import ConfigError
from weylfem.field_files import grid_field
from weylfem.geometry import DeviceMesh

VectorField = Callable[[np.ndarray], np.ndarray] | fem.Function | ufl.core.expr.Expr
"""A vector field given in code: f(x (3, n)) -> (3, n) values, a 3-vector Function, or a
UFL 3-vector expression (used as it is, e.g. the evolving magnetization of a coupled run)."""


@dataclass
class TransportCoefficients:
    """Everything the transport terms multiply, as functions on the device mesh."""

    conductivity: fem.Function
    """sigma (S/m)"""
    valley_conductivity: fem.Function
    """sigma_v (S/m): the Weyl carriers', which carry the valley imbalance; sigma by default"""
    hall_conductivity: fem.Function
    """sigma_AH = theta sigma (S/m)"""
    anomaly: fem.Function
    """Gamma (A m^-2 V^-1 T^-1); 0 where the material has no anomaly efficiency"""
    valley_capacitance: fem.Function
    """e^2 N (F/m^3 = C V^-1 m^-3)"""
    valley_relaxation: fem.Function
    """e^2 N / tau_v (S/m^3)"""
    density_of_states: fem.Function
    """N (J^-1 m^-3)"""
    magnetization: fem.Function | ufl.core.expr.Expr
    """unit direction m (3-vector; zero where unmagnetized)"""
    magnetic_field: fem.Function
    """B (T, 3-vector)"""


def build_coefficients(
    device: Device,
    device_mesh: DeviceMesh,
    magnetic_field: VectorField | None = None,
    magnetization: VectorField | None = None,
) -> TransportCoefficients:
    """Coefficients of `device`; `magnetic_field` / `magnetization` given in code replace
    the device's uniform, per-region and file values."""
    materials = {region: device.material_of(region) for region in device.regions}

    def parameter(name: str, value: Callable) -> fem.Function:
        return _cellwise_scalar(device_mesh, name, {r: value(m) for r, m in materials.items()})

    def valley(value: Callable) -> Callable:
        return lambda m: 0.0 if m.density_of_states_per_J_m3 is None else value(m)

    e2 = ELEMENTARY_CHARGE**2
    return TransportCoefficients(
        conductivity=parameter("sigma", lambda m: m.conductivity_S_per_m),
        valley_conductivity=parameter("sigma_v", lambda m: m.sigma_v),
        hall_conductivity=parameter("sigma_AH", lambda m: m.sigma_ah or 0.0),
        anomaly=parameter("Gamma", lambda m: m.anomaly_coefficient_A_per_m2_V_T or 0.0),
        valley_capacitance=parameter("e2N", valley(lambda m: e2 * m.density_of_states_per_J_m3)),
        valley_relaxation=parameter(
            "e2N_over_tau",
            valley(lambda m: e2 * m.density_of_states_per_J_m3 / m.valley_relaxation_time_s),
        ),
        density_of_states=parameter("N", valley(lambda m: m.density_of_states_per_J_m3)),
        magnetization=device_magnetization(device, device_mesh, magnetization),
        magnetic_field=_vector_field(
            device_mesh,
            "B",
            magnetic_field,
            device.fields.magnetic_field_file,
            "fields.magnetic_field_file",
            {
                r: region.magnetic_field_T or device.fields.magnetic_field_T
                for r, region in device.regions.items()
            },
        ),
    )


def device_magnetization(
    device: Device, device_mesh: DeviceMesh, given: VectorField | None = None
) -> fem.Function | ufl.core.expr.Expr:
    """The fixed unit magnetization of the transport: `given` in code, else sampled from
    fields.magnetization_file, else each region's magnetization_direction (DG0)."""
    return _vector_field(
        device_mesh,
        "m",
        given,
        device.fields.magnetization_file,
        "fields.magnetization_file",
        {r: _unit(region.magnetization_direction) for r, region in device.regions.items()},
        normalise=True,
    )


def _unit(direction) -> tuple[float, float, float]:
    if direction is None:
        return (0.0, 0.0, 0.0)
    vector = np.asarray(direction, dtype=float)
    return tuple(vector / np.linalg.norm(vector))


def _cellwise_scalar(device_mesh: DeviceMesh, name: str, values: dict) -> fem.Function:
    space = compat.function_space(device_mesh.mesh, "DG", 0)
    return _fill_regions(fem.Function(space, name=name), device_mesh, values)


def _fill_regions(field: fem.Function, device_mesh: DeviceMesh, values: dict) -> fem.Function:
    """Set a DG0 field to a constant (scalar or vector) value in each region."""
    tags = device_mesh.cell_tags
    for region, tag in device_mesh.cell_groups.items():
        value = np.atleast_1d(np.asarray(values[region], dtype=float))
        cells = tags.indices[tags.values == tag]
        field.interpolate(lambda x, v=value: np.tile(v[:, None], (1, x.shape[1])), cells)
    field.x.scatter_forward()
    return field


def _vector_field(
    device_mesh: DeviceMesh,
    name: str,
    given: VectorField | None,
    path: str | None,
    key: str,
    per_region: dict,
    normalise: bool = False,
) -> fem.Function:
    """A 3-vector field: from code, from a file (P1), or constant per region (DG0)."""
    mesh = device_mesh.mesh
    if given is None and path is None:
        space = compat.function_space(mesh, "DG", 0, (3,))
        return _fill_regions(fem.Function(space, name=name), device_mesh, per_region)
    if isinstance(given, fem.Function):
        given.name = name
        return given
    if isinstance(given, ufl.core.expr.Expr):
        return given
    space = compat.function_space(mesh, "Lagrange", 1, (3,))
    field = fem.Function(space, name=name)
    sample = given if given is not None else grid_field(path, mesh.topology.dim, key)

    def evaluate(x: np.ndarray) -> np.ndarray:
        values = np.asarray(sample(x), dtype=float).reshape(3, -1)
        if normalise:
            norms = np.linalg.norm(values, axis=0)
            values = np.divide(values, norms, out=np.zeros_like(values), where=norms > 0)
        return values

    # A file's grid may miss the nodes of some ranks only: raise on every rank, not on
    # those alone (the others would wait forever in the next collective operation).
    failure = None
    try:
        field.interpolate(evaluate)
    except ConfigError as error:
        failure = (error.source, error.key, error.expected)
    failures = [f for f in mesh.comm.allgather(failure) if f is not None]
    if failures:
        raise ConfigError(*failures[0])
    field.x.scatter_forward()
    return field
