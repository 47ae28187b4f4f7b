"""A torque is one class: a made-up torque defined inside this test, registered by its
decorator alone, is read from its own [torques.made_up] table with its defaults, checked
by the config layer (one-line ConfigError naming the key) and built into the problem by
`build_magnet` with the right value.  Likewise an energy term switched on by a material
parameter: one class, its coefficient from `MagnetCoefficients.parameter`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import ufl
from conftest import expect_error, magnet_film_table
from dolfinx import fem
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.device import TORQUES
from weylfem.errors import ConfigError
from weylfem.geometry import build_device_mesh
from weylfem.magnet.energy import OPTIONAL_TERMS, EnergyTerm, switched_on_by
from weylfem.magnet.setup import build_magnet
from weylfem.magnet.torques import TorqueTerm
from weylfem.schema import check, positive

FIELD_T = 0.01


@pytest.fixture
def made_up():
    """Defines and registers the made-up torque T = -gamma s m x B for one test only."""

    @TORQUES.register
    class MadeUpTorque(TorqueTerm):
        """A constant field-like torque of a field `field_T` scaled by `scale`."""

        name = "made_up"

        @dataclass(frozen=True)
        class Input:
            field_T: tuple[float, float, float]
            scale: float = check(positive, default=1.0)

        def __init__(self, coefficients, field_T, scale):
            self.gamma = coefficients.gyromagnetic_ratio
            self.field = ufl.as_vector(field_T)
            self.scale = scale

        def torque(self, m):
            return -self.gamma * self.scale * ufl.cross(m, self.field)

    yield MadeUpTorque
    del TORQUES[MadeUpTorque.name]


def _table(torque: dict) -> dict:
    table = magnet_film_table()
    table["regions"]["channel"]["magnetization_direction"] = [1, 0, 0]
    table["torques"] = {"made_up": torque}
    return table


def test_unregistered_torque_is_unknown():
    assert "made_up" not in TORQUES
    expect_error(_table({"field_T": [0, 0, FIELD_T]}), "torques.made_up", "unknown key")


def test_made_up_torque_table_reads_with_defaults(made_up):
    device = device_from_mapping(_table({"field_T": [0, 0, FIELD_T]}), "dev.toml")
    given = device.torques.made_up
    assert isinstance(given, made_up.Input)
    assert (given.field_T, given.scale) == ((0.0, 0.0, FIELD_T), 1.0)
    assert list(device.torques.given()) == ["made_up"]


@pytest.mark.parametrize(
    ("torque", "key", "expected"),
    [
        (
            {"field_T": [0, 0, FIELD_T], "scale": -1.0},
            "scale",
            "expected a positive number, got -1.0",
        ),
        ({"field_T": [0, 1]}, "field_T", "expected a list of 3 numbers, got [0, 1]"),
        ({"scale": 2.0}, "field_T", "missing; expected a list of 3 numbers"),
        ({"field_T": [0, 0, 1], "size": 2}, "size", "unknown key; expected one of: field_T, scale"),
    ],
)
def test_made_up_torque_bad_value_names_the_key(made_up, torque, key, expected):
    with pytest.raises(ConfigError) as info:
        device_from_mapping(_table(torque), "dev.toml")
    assert str(info.value) == f"dev.toml: torques.made_up.{key}: {expected}"


@pytest.mark.mpi
def test_build_magnet_puts_made_up_torque_in_the_problem(made_up, comm):
    """On the uniform m = x, T = -gamma s x x (B z) = gamma s B y: its mean over the film."""
    device = device_from_mapping(_table({"field_T": [0, 0, FIELD_T], "scale": 2.0}), "dev.toml")
    setup = build_magnet(device, build_device_mesh(device.geometry, comm))
    problem = setup.problem
    assert setup.describe()["torques"] == ["made_up"]
    (torque,) = problem.torques
    assert isinstance(torque, made_up)
    dx = problem.coefficients.measure(problem.device_mesh)

    def integral(form) -> float:
        local = fem.assemble_scalar(fem.form(form * dx))
        return comm.allreduce(local, op=MPI.SUM)

    value = torque.torque(problem.m)
    mean = np.array([integral(value[i]) for i in range(3)]) / integral(1.0)
    gamma = device.material_of("channel").gyromagnetic_ratio_rad_per_s_T
    assert mean == pytest.approx([0.0, gamma * 2.0 * FIELD_T, 0.0], rel=1e-12, abs=1e-3)


@pytest.fixture
def made_up_energy():
    """Defines a made-up energy term -K (m.x)^2 switched on by a material's cubic anisotropy
    constant K, for one test only."""

    @switched_on_by("cubic_anisotropy_J_per_m3")
    class MadeUpEnergy(EnergyTerm):
        name = "made_up_energy"

        def __init__(self, coefficients):
            self.constant = coefficients.parameter(self.material_parameter)

        def density(self, m):
            return -self.constant * m[0] ** 2

    yield MadeUpEnergy
    OPTIONAL_TERMS.remove(MadeUpEnergy)


def test_a_made_up_energy_term_is_one_class(made_up_energy):
    """The term joins the energy of a magnet whose material has the parameter, with its
    coefficient from the material, and nowhere else was edited: E = -K m_x^2 V."""
    constant = 2.0e4
    table = magnet_film_table()
    table["materials"] = {"soft": {"base": "permalloy", "cubic_anisotropy_J_per_m3": constant}}
    table["regions"]["channel"].update(material="soft", magnetization_direction=[0.6, 0.8, 0])
    device = device_from_mapping(table, "made_up.toml")
    device_mesh = build_device_mesh(device.geometry, MPI.COMM_WORLD)
    problem = build_magnet(device, device_mesh).problem
    assert "made_up_energy" in [term.name for term in problem.terms]
    energy = problem.energies()["made_up_energy"]
    assert energy == pytest.approx(-constant * 0.6**2 * problem.volume, rel=1e-12)
    # a material without the parameter leaves the term out
    plain = build_magnet(device_from_mapping(magnet_film_table()), device_mesh).problem
    assert "made_up_energy" not in [term.name for term in plain.terms]
