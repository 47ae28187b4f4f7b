"""Shared fixtures; tests marked `serial` are skipped under mpirun with more than one rank."""

import os
import sys
from pathlib import Path

import pytest
from mpi4py import MPI

from weylfem.experiments import two_terminal_bar_table

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")

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
