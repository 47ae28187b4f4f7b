"""Shared fixtures; tests marked `serial` are skipped under mpirun with more than one rank."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mpi4py import MPI

from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError
from weylfem.experiments import two_terminal_bar_table

ROOT = Path(__file__).resolve().parents[1]
WEYLFEM = Path(sys.executable).with_name("weylfem")


def pytest_configure(config):
    from weylfem import compat

    compat.quiet_jit_logging()


def pytest_collection_modifyitems(config, items):
    if MPI.COMM_WORLD.size == 1:
        return
    skip = pytest.mark.skip(reason="serial test: needs a single MPI rank")
    for item in items:
        if "serial" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def comm():
    return MPI.COMM_WORLD


@pytest.fixture
def shared_tmp_path(tmp_path, comm):
    """A temporary directory that is the same on every rank (rank 0's)."""
    return Path(comm.bcast(str(tmp_path), root=0))


def mpi_env() -> dict[str, str]:
    """Environment for launching `mpirun` from a test (root allowed, oversubscription ok)."""
    env = dict(os.environ)
    env.update(
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMPI_MCA_rmaps_base_oversubscribe="1",
        OMP_NUM_THREADS="1",
    )
    return env


def run_cli(*args, cwd, launcher=(), timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `weylfem ARGS` (under `launcher`, e.g. mpirun -n 2) in `cwd`, capturing its text
    output, with the environment of `mpi_env`."""
    return subprocess.run(
        [*launcher, str(WEYLFEM), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=mpi_env(),
        timeout=timeout,
    )


def expect_error(table: dict, key: str, fragment: str) -> None:
    """Reading `table` (as file "dev.toml") raises one ConfigError naming the file, `key`
    and an expectation containing `fragment`."""
    with pytest.raises(ConfigError) as info:
        device_from_mapping(table, "dev.toml")
    message = str(info.value)
    assert message.startswith(f"dev.toml: {key}: "), message
    assert fragment in message, message


def bar_table() -> dict:
    """The two-terminal Co3Sn2S2 bar (the default device before the nonlocal strip), as the
    nested plain data a TOML file reads to, every section given: a fresh copy per call."""
    table = two_terminal_bar_table()
    table.update(
        description="Co3Sn2S2 bar between two ohmic contacts: the resistance is L/(sigma A).",
        fields={"magnetic_field_T": [0.0, 0.0, 0.0]},
        physics={"transport": "ohmic", "element_degree": 1},
        solver={"kind": "auto", "direct_max_dofs": 200000, "rtol": 1.0e-10, "petsc_options": {}},
        output={"fields_xdmf": True, "png": True},
    )
    return table


def toml_text(table: dict) -> str:
    """A device table as TOML text (the subset of TOML the tests' tables use)."""
    lines = []

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return f'"{v}"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    def table_lines(prefix, entries):
        plain = {k: v for k, v in entries.items() if not isinstance(v, dict)}
        if prefix:
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {value(v)}" for k, v in plain.items() if v is not None)
        for k, v in entries.items():
            if isinstance(v, dict):
                table_lines(f"{prefix}.{k}" if prefix else k, v)

    table_lines("", table)
    return "\n".join(lines) + "\n"


def write_toml(path, table: dict) -> None:
    """Write a device table as a TOML file."""
    path.write_text(toml_text(table))


def magnet_film_table() -> dict:
    """A 2D permalloy film 50 nm x 20 nm (a magnet-only device with thin-film
    demagnetization and a short [dynamics]): a fresh copy per call."""
    return {
        "name": "film",
        "geometry": {
            "kind": "bar",
            "dimension": 2,
            "length_unit": "nm",
            "length": 50.0,
            "width": 20.0,
            "mesh_size": 5.0,
        },
        "regions": {"channel": {"material": "permalloy", "magnetization_direction": [1, 0.2, 0]}},
        "physics": {"transport": "none"},
        "magnetization": {"demagnetization": "thin_film"},
        "dynamics": {"end_time_s": 1e-11, "time_step_s": 1e-12},
    }


COUPLED_MAGNET = {
    "base": "Co3Sn2S2",
    "valley_conductivity_S_per_m": 1.0e6,
    "node_half_separation_per_m": 1.2e8,
}
"""Co3Sn2S2 with sigma_v = 1e6 S/m (2/3 of sigma, lambda_v = 0.81 um, so that the test films
resolve it) and eta = hbar k0, k0 = 1.2e8 /m (replacing the library's alpha_p): alpha_p =
(gamma/M_s) sigma_v (eta/e)^2 = 0.0149 < alpha = 0.05.  Giving k0 replaces the base's sigma_AH
by the band model's for that k0, -4439 S/m (theta = -0.003): the weak-Hall regime the coupled
tests are built for, where effects of order theta^2 stay below their tolerances."""


def interface_film_table(
    conductance: float = 1e15,
    field_T: float = 1.0,
    voltage_V: float = 1e-3,
    direction=(0.0, 0.0, 1.0),
    mesh_size_um: float = 0.2,
    thickness_um: float = 8.0,
    magnet: dict | None = None,
) -> dict:
    """A 2D magnetic Weyl film, 8 um long (x, the current) and `thickness_um` thick (y, 10
    lambda_v of COUPLED_MAGNET by default),
    whose bottom face (y = 0) relaxes valley with G_v = `conductance`; the top face and
    the contacts at the ends are valley-insulating, so phi_v depends on y alone: a valley
    boundary layer at the bottom face under the uniform drive E.B."""
    return {
        "name": "interface film",
        "geometry": {
            "kind": "bar",
            "dimension": 2,
            "length_unit": "um",
            "length": 8.0,
            "width": thickness_um,
            "mesh_size": mesh_size_um,
            "film_faces": True,
        },
        "materials": {"weyl_magnet": dict(magnet or COUPLED_MAGNET)},
        "regions": {
            "channel": {"material": "weyl_magnet", "magnetization_direction": list(direction)}
        },
        "contacts": {
            "source": {"voltage_V": voltage_V, "valley_conductance_S_per_m2": 0.0},
            "drain": {"voltage_V": 0.0, "valley_conductance_S_per_m2": 0.0},
        },
        "walls": {"bottom": {"valley_conductance_S_per_m2": conductance}},
        "fields": {"magnetic_field_T": [field_T, 0.0, 0.0]},
        "physics": {"transport": "charge_valley"},
        "magnetization": {"demagnetization": "none"},
        "dynamics": {"end_time_s": 2e-12, "time_step_s": 2e-14},
    }
