"""Coupled charge-valley-magnet runs from device descriptions: what the device file
accepts and refuses, what a run writes, resume, and serial = MPI."""

import numpy as np
import pytest
from conftest import expect_error, interface_film_table
from test_magnet_run import Killed, assert_same_run, kill_after

from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError
from weylfem.output.series import read_series
from weylfem.output.writers import xdmf_times
from weylfem.run import run_device


def coupled_table() -> dict:
    """The interface film, precessing about its 20 T easy axis, 10 steps of 20 fs."""
    table = interface_film_table(direction=(0.6, 0.0, 0.8), mesh_size_um=0.5, thickness_um=4.0)
    table["dynamics"] = {
        "end_time_s": 2e-13,
        "time_step_s": 2e-14,
        "snapshot_every": 2,
        "checkpoint_every": 3,
    }
    return table


@pytest.mark.serial
def test_coupled_device_reads_with_default_coupling():
    device = device_from_mapping(coupled_table(), "dev.toml")
    assert device.coupling is None  # the defaults: quasi-static valley, step drive
    table = coupled_table()
    table["coupling"] = {"valley": "transient", "waveform": "sine", "frequency_Hz": 1e10}
    coupling = device_from_mapping(table, "dev.toml").coupling
    assert (coupling.valley, coupling.drive_scale(2.5e-11)) == ("transient", pytest.approx(1.0))


@pytest.mark.serial
def test_coupled_device_refusals():
    table = coupled_table()
    # alpha_p = (gamma/M_s) sigma_v (hbar k0/e)^2 = 0.0149 for COUPLED_MAGNET
    table["materials"]["weyl_magnet"]["gilbert_damping"] = 0.01
    expect_error(table, "regions.channel.material", "expected gilbert_damping alpha >= alpha_p")
    table = coupled_table()
    table["materials"]["weyl_magnet"] = {
        "base": "TaAs",
        "saturation_magnetization_A_per_m": 1e5,
        "exchange_stiffness_J_per_m": 1e-11,
        "gilbert_damping": 0.05,
    }
    expect_error(table, "regions.channel.material", "expected valley_coupling_J_s_per_m")
    table = coupled_table()
    table["transient"] = {"end_time_s": 1e-12, "time_step_s": 1e-13}
    expect_error(table, "transient", "expected no [transient] with [dynamics]")
    table = coupled_table()
    table["coupling"] = {"valley": "fast"}
    with pytest.raises(ConfigError, match="coupling.valley"):
        device_from_mapping(table, "dev.toml")


def test_coupled_run_writes_its_outputs(shared_tmp_path, comm):
    device = device_from_mapping(coupled_table())
    results = run_device(device, shared_tmp_path / "run", comm, quiet=True)
    assert results["model"] == "charge_valley coupled to magnetization dynamics"
    assert results["coupling"]["hall_follows_m"] is True
    balance = results["energy_balance"]  # its closure is test_coupled_balance's
    assert balance["gilbert_dissipation_J"] > 0 and balance["transport_dissipation_J"] > 0
    assert balance["residual_J"] == pytest.approx(
        balance["magnetic_energy_change_J"]
        - balance["contact_work_J"]
        + balance["gilbert_dissipation_J"]
        + balance["transport_dissipation_J"]
        + balance["coupling_dissipation_J"],
        rel=1e-12,
    )
    torque = results["interface_torques"]["bottom"]
    assert torque["area_m2"] == pytest.approx(8e-6)
    total = results["valley_torque_J"]["total"]
    assert np.allclose(torque["torque_J"]["total"], total, rtol=1e-12, atol=0)
    assert results["average_voltages_V"] == {"source": pytest.approx(1e-3), "drain": 0.0}
    currents = [results["contacts"][name]["current_A"] for name in ("source", "drain")]
    assert sum(currents) == pytest.approx(0.0, abs=1e-9 * abs(currents[0]))
    if comm.rank == 0:
        series = read_series(shared_tmp_path / "run" / "series.csv")
        assert len(series["step"]) == 11
        assert np.all(series["V_source_V"] == 1e-3)
        assert series["I_source_A"][-1] == pytest.approx(results["contacts"]["source"]["current_A"])
        assert series["energy_residual_J"][-1] == pytest.approx(balance["residual_J"])
        snapshots = shared_tmp_path / "run" / "magnetization.xdmf"
        for name in ("m", "phi_c", "phi_v", "B_v", "torque_density"):
            assert len(xdmf_times(snapshots, name)) == 6, name


def test_resumed_coupled_run_equals_uninterrupted_run(shared_tmp_path, comm):
    device = device_from_mapping(coupled_table())
    full = run_device(device, shared_tmp_path / "full", comm, quiet=True)
    with pytest.raises(Killed):
        run_device(device, shared_tmp_path / "cut", comm, quiet=True, on_step=kill_after(7))
    resumed = run_device(device, shared_tmp_path / "cut", comm, quiet=True, resume=True)
    assert resumed["dynamics"]["resumed_from_step"] == 6
    assert resumed["energy_balance"] == pytest.approx(full["energy_balance"], rel=1e-9, abs=0)
    assert_same_run(shared_tmp_path / "full", shared_tmp_path / "cut", comm, 1e-9, snapshots=6)


def test_transient_valley_approaches_the_quasi_static_one(shared_tmp_path, comm):
    """The valley imbalance lags the magnet by ~tau_v (phase omega tau_v, with omega =
    3.5e12 rad/s of the 20 T easy axis): the torques of backward-Euler valley steps differ
    from the quasi-static ones by ~omega tau_v, and approach them as tau_v shrinks."""
    difference = {}
    for tau in (4e-14, 1e-14):
        torques = []
        for valley in ("quasi_static", "transient"):
            table = coupled_table()
            table["materials"]["weyl_magnet"]["valley_relaxation_time_s"] = tau
            table["coupling"] = {"valley": valley}
            device = device_from_mapping(table)
            out = shared_tmp_path / f"{valley}-{tau}"
            torques.append(run_device(device, out, comm, quiet=True)["valley_torque_J"]["total"])
        difference[tau] = np.linalg.norm(np.subtract(*torques)) / np.linalg.norm(torques[0])
    assert difference[1e-14] < 0.05
    assert difference[1e-14] < difference[4e-14] / 2.5


def test_parallel_run_agrees_with_serial(shared_tmp_path, comm):
    """The run on every rank of `comm` against one on each rank alone (MPI.COMM_SELF)."""
    from mpi4py import MPI

    device = device_from_mapping(coupled_table())
    together = run_device(device, shared_tmp_path / "together", comm, quiet=True)
    alone = run_device(device, shared_tmp_path / f"alone-{comm.rank}", MPI.COMM_SELF, quiet=True)
    for key in ("field_like", "damping_like"):
        a, b = together["valley_torque_J"][key], alone["valley_torque_J"][key]
        assert np.allclose(a, b, rtol=0, atol=1e-9 * np.linalg.norm(b)), key
    assert together["final"]["energies_J"]["total"] == pytest.approx(
        alone["final"]["energies_J"]["total"], rel=1e-11
    )
    for name in ("source", "drain"):
        a, b = (run["contacts"][name]["current_A"] for run in (together, alone))
        assert a == pytest.approx(b, rel=1e-9)


@pytest.mark.serial
def test_cli_runs_the_docs_coupled_film(tmp_path):
    """The coupled film of docs/device-file.md, shortened to 5 steps on a coarser mesh,
    through `weylfem run` (and its summary)."""
    import re
    import subprocess

    from conftest import ROOT, WEYLFEM

    text = (ROOT / "docs" / "device-file.md").read_text()
    block = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "torque film" in b)
    block = block.replace("mesh_size = 0.2", "mesh_size = 0.8").replace(
        "end_time_s = 2.0e-12", "end_time_s = 1.0e-13"
    )
    path = tmp_path / "film.toml"
    path.write_text(block)
    done = subprocess.run(
        [str(WEYLFEM), "run", str(path), "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "energy balance: residual" in done.stdout
    assert "valley torque per area at bottom" in done.stdout
    assert (tmp_path / "out" / "results.json").is_file()
