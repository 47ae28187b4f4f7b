"""Sublattice runs resume from their checkpoint: a run killed after step 5 (checkpoint of
step 3) and resumed repeats the uninterrupted one, bit for bit in serial (the adaptive
Runge-Kutta stepper's next internal step and a coupled run's dl/dt are in the
checkpoint), to round-off on several ranks (another partition of the mesh).  Both the
magnet alone and the magnet coupled to the valleys through l."""

import copy

import numpy as np
import pytest
from test_antiferromagnet import afm_film_table
from test_magnet_run import Killed, checkpoint, kill_after
from test_neel_valley import afm_film

from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError
from weylfem.output.series import read_series
from weylfem.output.writers import xdmf_times
from weylfem.run import run_device

pytestmark = pytest.mark.mpi

DYNAMICS = {"end_time_s": 8e-13, "time_step_s": 1e-13, "snapshot_every": 2, "checkpoint_every": 3}


def alone() -> dict:
    table = afm_film_table()
    # B_E = 100 T: several adaptive internal steps per run-loop step
    table["materials"] = {"afm": {"base": "EuCd2As2", "interlattice_exchange_J_per_m3": 2.6e7}}
    table["regions"]["channel"].update(material="afm", magnetization_direction=[1.0, 0.3, 0.4])
    table["dynamics"] = dict(DYNAMICS)
    table["output"] = {"png": False}
    return table


def coupled() -> dict:
    table = afm_film(direction=(0.6, 0.0, 0.8), mesh_size_um=0.8, thickness_um=4.0)
    table["dynamics"] = {**DYNAMICS, "end_time_s": 8e-14, "time_step_s": 1e-14}
    table["output"] = {"png": False}
    return table


def assert_same_run(a, b, comm):
    if comm.rank != 0:
        return
    m_a, m_b = (checkpoint(d / "checkpoint.npz")["sublattices"] for d in (a, b))
    if comm.size == 1:
        assert (a / "series.csv").read_text() == (b / "series.csv").read_text()
        assert np.array_equal(m_a, m_b)
    else:
        rows_a, rows_b = read_series(a / "series.csv"), read_series(b / "series.csv")
        assert rows_a.keys() == rows_b.keys()
        # energies to the largest energy (a uniform film's exchange energy is round-off)
        energy = max(np.abs(v).max() for k, v in rows_a.items() if k.startswith("E_"))
        for name, values in rows_a.items():
            scale = energy if name.startswith("E_") else np.abs(values).max()
            if name in ("magnetic_energy_change_J", "energy_residual_J"):
                scale = energy  # differences of the magnetic energy
            assert np.allclose(values, rows_b[name], rtol=0, atol=1e-9 * scale), name
        assert np.allclose(m_a, m_b, rtol=0, atol=1e-9)
    times = xdmf_times(a / "sublattices.xdmf", "m1")
    assert times == xdmf_times(b / "sublattices.xdmf", "m1")
    assert len(times) == 5


@pytest.mark.parametrize("table", [alone, coupled], ids=["alone", "coupled"])
def test_resumed_sublattice_run_equals_uninterrupted_run(shared_tmp_path, comm, table):
    device = device_from_mapping(table(), "afm.toml")
    run_device(device, shared_tmp_path / "full", comm, quiet=True)
    cut = shared_tmp_path / "cut"
    with pytest.raises(Killed):
        run_device(device, cut, comm, quiet=True, on_step=kill_after(5))
    running = shared_tmp_path / "cut.running"
    if comm.rank == 0:
        saved = checkpoint(running / "checkpoint.npz")
        assert int(saved["step"]) == 3
        assert saved["sublattices"].shape[1] == 6 and "previous" in saved
    results = run_device(device, cut, comm, quiet=True, resume=True)
    assert results["dynamics"]["resumed_from_step"] == 3
    assert_same_run(shared_tmp_path / "full", cut, comm)


def test_resume_refuses_a_changed_device(shared_tmp_path, comm):
    table = alone()
    device = device_from_mapping(table, "afm.toml")
    cut = shared_tmp_path / "cut"
    with pytest.raises(Killed):
        run_device(device, cut, comm, quiet=True, on_step=kill_after(4))
    changed = copy.deepcopy(table)
    changed["fields"]["magnetic_field_T"] = [0.0, 0.0, 0.3]
    with pytest.raises(ConfigError, match="fields.magnetic_field_T"):
        run_device(device_from_mapping(changed, "afm.toml"), cut, comm, quiet=True, resume=True)
