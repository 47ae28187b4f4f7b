"""From a Device to a MicromagneticProblem, in one ordered function, `build_magnet`:

1. coefficients of the magnetic regions (material, easy axis);
2. energy terms: exchange always; the terms a material parameter switches on
   (`energy.OPTIONAL_TERMS`: anisotropies, DMI) where some material has it nonzero;
   Zeeman for a static field (fields.magnetic_field_T, per region or from a file) and
   the time-dependent [applied_field], with the Weyl orbital Zeeman energy (B_eq) where a
   magnetic material has sigma_AH mu_F != 0; the chosen demagnetization;
3. the spin torques of [torques.*], each built by the class registered for its table
   (`device.TORQUES`, declared in `weylfem.magnet.torques`);
4. the problem, with the initial m: the regions' magnetization_direction, sampled from
   fields.magnetization_file, or read from magnetization.initial_state_file.

Every drive (applied field, torques) is multiplied by its waveform, which is 0 before
t = 0: a relaxation before the run is done at a negative time, with the drives off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dolfinx import fem

from weylfem import compat
from weylfem.device import TORQUES, Device
from weylfem.errors import ConfigError
from weylfem.field_files import grid_field
from weylfem.geometry import DeviceMesh
from weylfem.magnet.checkpoint import read_checkpoint
from weylfem.magnet.coefficients import (
    MagnetCoefficients,
    MagneticRegion,
    build_magnet_coefficients,
)
from weylfem.magnet.demag import Demagnetization
from weylfem.magnet.energy import (
    OPTIONAL_TERMS,
    EnergyTerm,
    Exchange,
    ThinFilmDemagnetization,
    WeylOrbitalZeeman,
    Zeeman,
)
from weylfem.magnet.fem_bem import FemBemDemagnetization
from weylfem.magnet.fft_demag import GridDemagnetization
from weylfem.magnet.problem import MicromagneticProblem
from weylfem.magnet.torques import TorqueTerm
from weylfem.solvers import solver_description


@dataclass
class MagnetSetup:
    """The micromagnetic problem of a device and what results.json reports about it."""

    problem: MicromagneticProblem
    regions: tuple[str, ...]
    demagnetization: Demagnetization | FemBemDemagnetization | GridDemagnetization | None
    """the nonlocal demagnetization: open-boundary, truncated, FEM-BEM or cell grid"""
    zeeman: Zeeman | None = None
    """the applied field's energy term (its time-dependent part also enters the transport's B)"""

    def describe(self) -> dict:
        """Magnetic regions, energy terms, torques and the demagnetization solver."""
        description = {
            "regions": list(self.regions),
            "energy_terms": [term.name for term in self.problem.terms],
            "torques": [torque.name for torque in self.problem.torques],
            "magnetic_nodes": self.problem.magnetic_node_count,
        }
        if self.problem.thickness_average is not None:
            description["uniform_through_thickness"] = self.problem.thickness_average.describe()
        demagnetization = self.demagnetization
        if isinstance(demagnetization, FemBemDemagnetization | GridDemagnetization):
            description["demagnetization_solver"] = demagnetization.describe()
        elif demagnetization is not None:
            description["demagnetization_solver"] = solver_description(
                demagnetization.solver_choice, demagnetization.solver
            )
        return description


def magnet_coefficients(device: Device, device_mesh: DeviceMesh) -> MagnetCoefficients:
    """The coefficients of the device's magnetic regions."""
    return build_magnet_coefficients(
        device_mesh,
        {
            name: MagneticRegion(device.material_of(name), device.regions[name].anisotropy_axis)
            for name in device.magnetic_regions()
        },
    )


def build_magnet(
    device: Device,
    device_mesh: DeviceMesh,
    *,
    coefficients: MagnetCoefficients | None = None,
    extra_torques: Sequence[TorqueTerm] = (),
) -> MagnetSetup:
    """The MicromagneticProblem of `device` (valid: read by `weylfem.config`, its mesh
    checked by `config.check_mesh`) on its mesh.  `coefficients` (from
    `magnet_coefficients`) and `extra_torques` (built on them, such as the valley torque
    of a coupled run) join the device's own."""
    regions = device.magnetic_regions()
    if coefficients is None:
        coefficients = magnet_coefficients(device, device_mesh)
    terms: list[EnergyTerm] = [Exchange(coefficients)]
    materials = [device.material_of(name) for name in regions]
    for term in OPTIONAL_TERMS:
        if any(getattr(material, term.material_parameter) for material in materials):
            terms.append(term(coefficients))
    zeeman = zeeman_term(device, device_mesh, coefficients, regions)
    if zeeman is not None:
        terms.append(zeeman)
        if any(getattr(m, WeylOrbitalZeeman.material_parameter) for m in materials):
            terms.append(WeylOrbitalZeeman(coefficients, zeeman))
    demagnetization = _demagnetization(device, device_mesh, coefficients)
    if demagnetization is not None:
        terms.append(demagnetization)
    torques = [*_torques(device, coefficients), *extra_torques]
    problem = MicromagneticProblem(device_mesh, coefficients, terms, (0.0, 0.0, 1.0), torques)
    if device.magnetization.uniform_through_thickness:
        problem.make_uniform_through_thickness()
    problem.set_magnetization(_initial_directions(device, problem, regions))
    solved = (Demagnetization, FemBemDemagnetization, GridDemagnetization)
    potential = demagnetization if isinstance(demagnetization, solved) else None
    return MagnetSetup(problem, regions, potential, zeeman)


def zeeman_term(
    device: Device,
    device_mesh: DeviceMesh,
    coefficients: MagnetCoefficients,
    regions: tuple[str, ...],
) -> Zeeman | None:
    """Zeeman energy of the static field plus the applied field pulse (None: no field)."""
    applied = device.applied_field
    amplitude = None if applied is None else applied.amplitude_T
    waveform = None if applied is None else applied.drive_scale
    path = device.fields.magnetic_field_file
    if path is not None:
        static = _sampled_field(device_mesh, coefficients, path)
        return Zeeman(coefficients, static, amplitude, waveform)
    fields = {
        name: device.regions[name].magnetic_field_T or device.fields.magnetic_field_T
        for name in regions
    }
    if applied is None and not any(any(field) for field in fields.values()):
        return None
    if len(set(fields.values())) == 1:
        return Zeeman(coefficients, next(iter(fields.values())), amplitude, waveform)
    return Zeeman(coefficients, _regionwise_field(device_mesh, fields), amplitude, waveform)


def _regionwise_field(device_mesh: DeviceMesh, fields: dict) -> fem.Function:
    """A DG0 3-vector equal to fields[region] on each magnetic region."""
    field = fem.Function(compat.function_space(device_mesh.mesh, "DG", 0, (3,)), name="B_static")
    tags = device_mesh.cell_tags
    for region, value in fields.items():
        cells = tags.indices[tags.values == device_mesh.cell_groups[region]]
        vector = np.asarray(value, dtype=float)
        field.interpolate(lambda x, v=vector: np.tile(v[:, None], (1, x.shape[1])), cells)
    field.x.scatter_forward()
    return field


def _sampled_field(
    device_mesh: DeviceMesh, coefficients: MagnetCoefficients, path: str
) -> fem.Function:
    """fields.magnetic_field_file interpolated (P1) on the magnetic cells."""
    mesh = device_mesh.mesh
    field = fem.Function(compat.function_space(mesh, "Lagrange", 1, (3,)), name="B_static")
    sample = grid_field(path, mesh.topology.dim, "fields.magnetic_field_file")
    _collectively(mesh.comm, lambda: field.interpolate(sample, coefficients.cells))
    field.x.scatter_forward()
    return field


def _demagnetization(
    device: Device, device_mesh: DeviceMesh, coefficients: MagnetCoefficients
) -> EnergyTerm | None:
    """The demagnetization of magnetization.demagnetization (None: 'none')."""
    kind = device.magnetization.demagnetization
    if kind == "thin_film":
        return ThinFilmDemagnetization(coefficients, device.magnetization.film_normal)
    if kind == "none":
        return None
    if kind == "fft":
        return GridDemagnetization(coefficients, device_mesh, device.magnetization.fft_cells)
    if kind == "fem_bem":
        return FemBemDemagnetization(
            coefficients,
            device_mesh,
            kind=device.solver.kind,
            rtol=device.solver.rtol,
            direct_max_dofs=device.solver.direct_max_dofs,
            boundary_matrix=device.magnetization.matrix_storage,
            boundary_tolerance=device.magnetization.matrix_tolerance,
        )
    return Demagnetization(
        coefficients,
        device_mesh,
        outer_boundary="infinity",
        shell="shell" if kind == "open_boundary" else None,
        kind=device.solver.kind,
        rtol=device.solver.rtol,
        direct_max_dofs=device.solver.direct_max_dofs,
    )


def _torques(device: Device, coefficients: MagnetCoefficients) -> list[TorqueTerm]:
    """The torques of the device's [torques.NAME] tables, each built by its registered class."""
    return [
        TORQUES[name].from_input(given, coefficients)
        for name, given in device.torques.given().items()
    ]


def _initial_directions(
    device: Device, problem: MicromagneticProblem, regions: tuple[str, ...]
) -> np.ndarray:
    """Initial m at the owned magnetic nodes, (n, 3)."""
    state_file = device.magnetization.initial_state_file
    if state_file is not None:
        return read_checkpoint(Path(state_file), problem).m
    comm = problem.device_mesh.comm
    points = problem.space.tabulate_dof_coordinates()[problem.magnetic_nodes].T
    path, key = device.fields.magnetization_file, "fields.magnetization_file"
    if path is not None:
        sample = grid_field(path, problem.device_mesh.mesh.topology.dim, key)
        values = _collectively(comm, lambda: np.asarray(sample(points), dtype=float).T)
        _collectively(comm, lambda: _nonzero(values, path, key))
        return values
    return region_directions(device, problem.device_mesh, problem.space, regions)[
        problem.magnetic_nodes
    ]


def region_directions(
    device: Device, device_mesh: DeviceMesh, space, regions: tuple[str, ...]
) -> np.ndarray:
    """(local nodes, 3): each region's `magnetization_direction` (not normalised) at the
    nodes of the P1 vector `space`, zero off the regions."""
    start = fem.Function(space)
    tags, groups = device_mesh.cell_tags, device_mesh.cell_groups
    for name in regions:
        direction = np.asarray(device.regions[name].magnetization_direction, dtype=float)
        cells = tags.indices[tags.values == groups[name]]
        start.interpolate(lambda x, v=direction: np.tile(v[:, None], (1, x.shape[1])), cells)
    return start.x.array.reshape(-1, 3)


def _nonzero(values: np.ndarray, path: str, key: str) -> None:
    if np.any(np.linalg.norm(values, axis=1) == 0):
        raise ConfigError(path, key, "expected a nonzero magnetization at every magnetic node")


def _collectively(comm, action):
    """Run `action` on every rank; a ConfigError on any rank is raised on all of them (a
    rank alone would leave the others waiting in the next collective operation)."""
    failure, result = None, None
    try:
        result = action()
    except ConfigError as error:
        failure = (error.source, error.key, error.expected)
    failures = [f for f in comm.allgather(failure) if f is not None]
    if failures:
        raise ConfigError(*failures[0])
    return result
