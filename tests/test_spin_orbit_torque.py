"""Spin-orbit torques are linear in the signed current (docs/theory.md §3, "Spin torques").

T = -gamma xi_FL m x s - gamma xi_DL m x (m x s), s = (J.j) p for a fixed spin direction p or
s = n x J for a heavy-metal interface.  Reversing the current (the drive vector, or the sign of
the waveform) reverses the field-like and the damping-like torque exactly; a sine drive gives a
torque that averages to zero over a period instead of a rectified one.  The torques are compared
as assembled vectors int T(m).w dx on a textured m, in serial and under mpirun -n 2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import ufl
from dolfinx import fem
from dolfinx import mesh as dolfinx_mesh
from mpi4py import MPI

from weylfem import compat
from weylfem.errors import ConfigError
from weylfem.geometry import DeviceMesh
from weylfem.magnet.coefficients import MagneticRegion, build_magnet_coefficients
from weylfem.magnet.torques import SpinOrbitTorque
from weylfem.materials import Material
from weylfem.schema import from_table

pytestmark = pytest.mark.mpi

CURRENT_A_PER_M2 = (3.0e10, 4.0e10, 0.0)
XI_T_PER_A_M2 = 2.0e-12
FREQUENCY_HZ = 1.0e9
ROUND_OFF = 1e-14


class Box:
    """A 10 nm cube of a permalloy-like magnet, a textured m and the torque assembler."""

    def __init__(self, comm):
        mesh = dolfinx_mesh.create_box(
            comm, [np.zeros(3), np.full(3, 10e-9)], [3, 3, 3], dolfinx_mesh.CellType.tetrahedron
        )
        material = Material(
            name="magnet",
            conductivity_S_per_m=1.0,
            saturation_magnetization_A_per_m=8.0e5,
            exchange_stiffness_J_per_m=1.3e-11,
            gilbert_damping=0.1,
        )
        device = DeviceMesh.single_region(mesh)
        self.coefficients = build_magnet_coefficients(
            device, {"magnet": MagneticRegion(material, (0.0, 0.0, 1.0))}
        )
        self.space = compat.function_space(mesh, "Lagrange", 1, (3,))
        self.m = fem.Function(self.space)

        def texture(x):
            v = np.vstack([np.sin(3e8 * x[0]), np.cos(2e8 * x[1]), 0.5 + 1e8 * x[2]])
            return v / np.linalg.norm(v, axis=0)

        self.m.interpolate(texture)
        self.mesh = mesh

    def assemble(self, torque_expression) -> np.ndarray:
        """int T.w dx for every vector P1 test function w, the owned entries (this rank's)."""
        form = fem.form(ufl.inner(torque_expression, ufl.TestFunction(self.space)) * ufl.dx)
        vector = compat.create_vector(form)
        compat.assemble_vector_into(vector, form)
        return vector.array.copy()

    def torque(self, term: SpinOrbitTorque, m=None) -> np.ndarray:
        return self.assemble(term.torque(self.m if m is None else m))


def global_norm(values: np.ndarray, comm) -> float:
    return math.sqrt(comm.allreduce(float(values @ values), op=MPI.SUM))


def sot(box: Box, current, field_like: float, damping_like: float, **kwargs) -> SpinOrbitTorque:
    return SpinOrbitTorque(
        box.coefficients,
        current,
        field_like_T_per_A_m2=field_like,
        damping_like_T_per_A_m2=damping_like,
        **kwargs,
    )


def assert_reversed(reversed_: np.ndarray, forward: np.ndarray, comm) -> None:
    size = global_norm(forward, comm)
    assert size > 0
    assert global_norm(reversed_ + forward, comm) <= ROUND_OFF * size


@pytest.mark.parametrize(
    "geometry",
    [
        {"spin_direction": (0.0, 1.0, 0.0), "current_axis": (1.0, 0.0, 0.0)},
        {"interface_normal": (0.0, 0.0, 1.0)},
    ],
    ids=["fixed_p", "interface"],
)
@pytest.mark.parametrize("kind", ["field_like", "damping_like"])
def test_reversing_the_current_reverses_each_torque(comm, geometry, kind):
    box = Box(comm)
    xi = {"field_like": XI_T_PER_A_M2 if kind == "field_like" else 0.0}
    xi["damping_like"] = XI_T_PER_A_M2 if kind == "damping_like" else 0.0
    forward = box.torque(sot(box, CURRENT_A_PER_M2, **xi, **geometry))
    backward = box.torque(sot(box, tuple(-c for c in CURRENT_A_PER_M2), **xi, **geometry))
    assert_reversed(backward, forward, comm)


def test_interface_spin_direction_is_n_cross_current(comm):
    """With a uniform m the assembled torque is T int w: T from the closed form
    -gamma xi |J| [FL m x p + DL m x (m x p)] with p = n x J/|J| = (-4, 3, 0)/5 for
    J = (3, 4, 0) 1e10 A/m^2 and n = z (given unnormalised)."""
    box = Box(comm)
    m = np.array([1.0, 2.0, 2.0]) / 3.0
    m_constant = fem.Constant(box.mesh, tuple(m))
    current = np.asarray(CURRENT_A_PER_M2)
    p = np.cross([0.0, 0.0, 1.0], current) / np.linalg.norm(current)
    assert np.allclose(p, [-0.8, 0.6, 0.0])
    gamma = float(box.coefficients.gyromagnetic_ratio.x.array[0])
    fl, dl = 1.5e-12, 0.7e-12
    magnitude = np.linalg.norm(current)
    closed = -gamma * magnitude * (fl * np.cross(m, p) + dl * np.cross(m, np.cross(m, p)))
    term = sot(box, CURRENT_A_PER_M2, fl, dl, interface_normal=(0.0, 0.0, 2.0))
    assembled = box.torque(term, m_constant)
    expected = box.assemble(fem.Constant(box.mesh, tuple(closed)))
    assert global_norm(assembled - expected, comm) <= 1e-13 * global_norm(expected, comm)
    # the same as a fixed p = n x J/|J| that belongs to current along J
    fixed = sot(box, CURRENT_A_PER_M2, fl, dl, spin_direction=tuple(p))
    assert global_norm(box.torque(fixed) - box.torque(term), comm) <= ROUND_OFF * global_norm(
        box.torque(term), comm
    )


def read_input(table: dict) -> SpinOrbitTorque.Input:
    return from_table(SpinOrbitTorque.Input, table, "dev.toml", "torques.spin_orbit")


@pytest.mark.parametrize(
    "geometry",
    [{"spin_direction": [0, 1, 0]}, {"interface_normal": [0, 0, 1]}],
    ids=["fixed_p", "interface"],
)
def test_sine_drive_alternates_and_averages_to_zero(comm, geometry):
    """[torques.spin_orbit] with a sine waveform: T(t + 1/2f) = -T(t), and the mean over a
    period of 16 samples vanishes (a rectified |J| drive would leave 2/pi of the peak)."""
    box = Box(comm)
    given = read_input(
        {
            "current_density_A_per_m2": list(CURRENT_A_PER_M2),
            "field_like_T_per_A_m2": XI_T_PER_A_M2,
            "damping_like_T_per_A_m2": 0.5 * XI_T_PER_A_M2,
            "waveform": "sine",
            "frequency_Hz": FREQUENCY_HZ,
            **geometry,
        }
    )
    term = SpinOrbitTorque.from_input(given, box.coefficients)
    period = 1.0 / FREQUENCY_HZ
    samples = []
    for k in range(16):
        term.set_time(k * period / 16)
        samples.append(box.torque(term))
    peak = global_norm(samples[4], comm)
    assert peak > 0
    for k in range(8):
        assert global_norm(samples[k] + samples[k + 8], comm) <= 1e-12 * peak
    assert global_norm(np.mean(samples, axis=0), comm) <= 1e-12 * peak
    # at the quarter period the drive is J itself: the step-drive torque
    step = SpinOrbitTorque.from_input(
        read_input({**given_table(geometry), "waveform": "step"}), box.coefficients
    )
    step.set_time(0.0)
    assert global_norm(samples[4] - box.torque(step), comm) <= 1e-12 * peak


def given_table(geometry: dict) -> dict:
    return {
        "current_density_A_per_m2": list(CURRENT_A_PER_M2),
        "field_like_T_per_A_m2": XI_T_PER_A_M2,
        "damping_like_T_per_A_m2": 0.5 * XI_T_PER_A_M2,
        **geometry,
    }


def test_file_current_reversal_with_a_current_axis(comm):
    """A device file that reverses J against a stated current_axis reverses the torque."""
    box = Box(comm)
    geometry = {"spin_direction": [0, 1, 0], "current_axis": [1, 0, 0]}
    forward = read_input(given_table(geometry))
    backward = read_input(
        {**given_table(geometry), "current_density_A_per_m2": [-c for c in CURRENT_A_PER_M2]}
    )
    torques = []
    for given in (forward, backward):
        term = SpinOrbitTorque.from_input(given, box.coefficients)
        term.set_time(0.0)
        torques.append(box.torque(term))
    assert_reversed(torques[1], torques[0], comm)


@pytest.mark.serial
@pytest.mark.parametrize(
    ("extra", "key", "fragment"),
    [
        ({}, "spin_direction", "exactly one of spin_direction and interface_normal"),
        (
            {"spin_direction": [0, 1, 0], "interface_normal": [0, 0, 1]},
            "spin_direction",
            "exactly one of",
        ),
        (
            {"interface_normal": [0, 0, 1], "current_axis": [1, 0, 0]},
            "current_axis",
            "only with spin_direction",
        ),
        ({"interface_normal": [0, 0, 0]}, "interface_normal", "nonzero direction"),
    ],
)
def test_input_needs_one_spin_geometry(extra, key, fragment):
    table = {"current_density_A_per_m2": [1.0, 0.0, 0.0], **extra}
    with pytest.raises(ConfigError) as info:
        read_input(table)
    message = str(info.value)
    assert message.startswith(f"dev.toml: torques.spin_orbit.{key}: "), message
    assert fragment in message, message


@pytest.mark.serial
def test_fixed_p_of_a_field_needs_a_current_axis():
    """A current density given as a field has no direction to borrow: the axis is required."""
    box = Box(MPI.COMM_WORLD)
    field = fem.Function(box.space)
    with pytest.raises(ValueError, match="current_axis"):
        sot(box, field, XI_T_PER_A_M2, 0.0, spin_direction=(0.0, 1.0, 0.0))
