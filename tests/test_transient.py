"""Transients of the valley balance: the theta-scheme against exact solutions.

A bar whose contacts do not relax valley (J_v.n = 0 there) with B along the current
has a spatially uniform valley potential at all times, and the charge balance gives
J = sigma V/L + Gamma B phi_v, so -Gamma B.grad(phi_c) = Gamma B V/L exactly.  The
valley balance reduces to the ODE

    e^2 N dphi/dt + (e^2 N/tau_v) phi = Gamma B V / L,   phi(0) = 0,

whose solution is phi(t) = phi_inf (1 - exp(-t/tau_v)), phi_inf = tau_v Gamma B V/(e^2 N L).
P1 elements are exact in space here, so the FEM reproduces the theta-scheme recursion
of this ODE to round-off and converges to the exact solution at order 1 (theta = 1)
and 2 (theta = 1/2).
"""

import json
import math

import numpy as np
import pytest

from weylfem.config import device_from_mapping
from weylfem.constants import ELEMENTARY_CHARGE
from weylfem.errors import ConfigError
from weylfem.meshing import mesh_device
from weylfem.run import run_device, summary
from weylfem.transport import TransportProblem
from weylfem.transport.transient import TransientTransport

pytestmark = pytest.mark.mpi

LENGTH_M, WIDTH_M, FIELD_T, DRIVE_V = 4e-6, 1e-6, 1.0, 1e-3


def bar_table(**transient) -> dict:
    insulating = {"valley_conductance_S_per_m2": 0.0}
    return {
        "geometry": {
            "kind": "bar",
            "dimension": 2,
            "length": 4.0,
            "width": 1.0,
            "mesh_size": 0.5,
        },
        "regions": {"channel": {"material": "Co3Sn2S2"}},
        "contacts": {
            "source": {"voltage_V": DRIVE_V, **insulating},
            "drain": {"voltage_V": 0.0, **insulating},
        },
        "fields": {"magnetic_field_T": [FIELD_T, 0.0, 0.0]},
        "physics": {"transport": "charge_valley"},
        "transient": transient,
        "output": {"png": False},
    }


def run_bar(comm, **transient):
    device = device_from_mapping(bar_table(**transient), "transient")
    problem = TransportProblem(device, mesh_device(device, comm))
    return device, TransientTransport(problem, device.transient).run()


def bulk_constants(device):
    material = device.material_of("channel")
    capacitance = ELEMENTARY_CHARGE**2 * material.density_of_states_per_J_m3
    tau = material.valley_relaxation_time_s
    gamma = material.anomaly_coefficient_A_per_m2_V_T
    return capacitance, tau, gamma, material.conductivity_S_per_m


def source_current(phi_v, device):
    """I = (sigma V/L + Gamma B phi_v) W (2D: unit thickness)."""
    _, _, gamma, sigma = bulk_constants(device)
    return (sigma * DRIVE_V / LENGTH_M + gamma * FIELD_T * phi_v) * WIDTH_M


@pytest.mark.parametrize("theta", [1.0, 0.5, 0.75])
def test_reproduces_theta_scheme_recursion(theta, comm):
    tau = 5e-11
    dt = tau / 4
    device, series = run_bar(comm, end_time_s=2 * tau, time_step_s=dt, theta=theta)
    capacitance, tau, gamma, _ = bulk_constants(device)
    drive = gamma * FIELD_T * DRIVE_V / LENGTH_M
    phi = [0.0]
    for _ in range(len(series.times_s) - 1):
        explicit = phi[-1] * (capacitance / dt - (1 - theta) * capacitance / tau)
        phi.append((explicit + drive) / (capacitance / dt + theta * capacitance / tau))
    expected = source_current(np.array(phi), device)
    measured = series.currents_A[:, 0]
    valley_part = expected - expected[0]
    assert np.max(np.abs(measured - expected)) < 1e-9 * valley_part[-1]
    assert valley_part[-1] > 0.5 * (source_current(drive * tau / capacitance, device) - expected[0])
    np.testing.assert_allclose(series.currents_A.sum(axis=1), 0.0, atol=1e-12 * measured[0])


@pytest.mark.parametrize(("theta", "order"), [(1.0, 1.0), (0.5, 2.0)])
def test_converges_to_exact_solution(theta, order, comm):
    tau = 5e-11
    errors = []
    for steps in (10, 20, 40):
        device, series = run_bar(comm, end_time_s=2 * tau, time_step_s=2 * tau / steps, theta=theta)
        capacitance, tau, gamma, _ = bulk_constants(device)
        phi_inf = tau * gamma * FIELD_T * DRIVE_V / (capacitance * LENGTH_M)
        exact = source_current(phi_inf * (1 - np.exp(-series.times_s / tau)), device)
        scale = exact[-1] - exact[0]
        errors.append(np.max(np.abs(series.currents_A[:, 0] - exact)) / scale)
    rates = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < (0.02 if order == 1 else 2e-4)
    assert np.all(rates > order - 0.1), (errors, rates)


def test_sine_drive_with_floating_probe_conserves_current(comm):
    table = bar_table(
        end_time_s=1e-10, time_step_s=5e-12, theta=0.5, waveform="sine", frequency_Hz=1e10
    )
    table["geometry"] = {
        "kind": "hall_bar",
        "dimension": 2,
        "length": 6.0,
        "width": 1.0,
        "probe_pairs": 1,
        "arm_width": 0.5,
        "arm_length": 0.5,
        "mesh_size": 0.4,
    }
    table["contacts"] = {
        "source": {"voltage_V": DRIVE_V},
        "drain": {"voltage_V": 0.0},
        "probe_1_bottom": {"floating": True},
        "probe_1_top": {"current_A": 0.0},
    }
    table["regions"]["channel"]["magnetization_direction"] = [0.0, 0.0, 1.0]
    device = device_from_mapping(table, "sine")
    problem = TransportProblem(device, mesh_device(device, comm))
    direct = []
    stepper = TransientTransport(problem, device.transient)
    series = stepper.run(lambda n, t, state: direct.append(problem.contacts.currents(state)))
    scale = np.abs(series.currents_A[:, 0]).max()
    assert scale > 0
    times = series.times_s
    np.testing.assert_allclose(
        series.voltages_V[:, 0], DRIVE_V * np.sin(2 * math.pi * 1e10 * times), atol=1e-15
    )
    np.testing.assert_allclose(series.currents_A.sum(axis=1), 0.0, atol=1e-10 * scale)
    # the probes carry no current, computed directly from the fields at every step
    direct = np.array(direct)
    np.testing.assert_allclose(direct[:, 2:], 0.0, atol=1e-10 * scale)
    np.testing.assert_allclose(direct, series.currents_A, atol=1e-10 * scale)
    # the Hall voltage follows the drive (Co3Sn2S2 with m along z)
    hall = series.voltages_V[:, 3] - series.voltages_V[:, 2]
    assert np.abs(hall).max() > 1e-3 * DRIVE_V


def test_run_writes_series_and_snapshots(shared_tmp_path, comm):
    device = device_from_mapping(
        bar_table(end_time_s=1e-10, time_step_s=1e-11, snapshot_every=5), "run"
    )
    results = run_device(device, shared_tmp_path / "out", comm)
    out = shared_tmp_path / "out"
    assert results["transient"]["steps"] == 10
    assert math.isclose(results["transient"]["final_time_s"], 1e-10, rel_tol=1e-12)
    if comm.rank == 0:
        rows = np.loadtxt(out / "series.csv", delimiter=",", skiprows=1)
        assert rows.shape == (11, 5)
        on_disk = json.loads((out / "results.json").read_text())
        assert on_disk["contacts"]["source"]["current_A"] == pytest.approx(rows[-1, 2], rel=1e-12)
        assert (out / "fields.h5").stat().st_size > 0
        snapshots = (out / "fields.xdmf").read_text().count('<Attribute Name="phi_v"')
        assert snapshots == 3  # steps 0, 5 and 10


def test_summary_of_a_transient_run_names_its_final_contacts(shared_tmp_path, comm):
    device = device_from_mapping(bar_table(end_time_s=1e-10, time_step_s=5e-11), "summary")
    results = run_device(device, shared_tmp_path / "out", comm)
    text = summary(results)
    assert results["solver"]["kind"] in text
    source = results["contacts"]["source"]
    assert f"I = {source['current_A']: .6e} A" in text


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        ({"theta": 0.3}, "transient.theta", "[0.5, 1]"),
        ({"waveform": "sine"}, "transient.frequency_Hz", "expected a value"),
        ({"waveform": "pulse"}, "transient.pulse_width_s", "expected a value"),
        ({"time_step_s": 1.0}, "transient.time_step_s", "at most end_time_s"),
        ({"time_step_s": -1.0}, "transient.time_step_s", "positive"),
    ],
)
def test_bad_transient_settings(change, key, fragment):
    table = bar_table(**{"end_time_s": 1e-10, "time_step_s": 1e-11, **change})
    with pytest.raises(ConfigError) as error:
        device_from_mapping(table, "dev.toml")
    assert str(error.value).startswith(f"dev.toml: {key}: "), str(error.value)
    assert fragment in str(error.value)


def test_transient_needs_valley_model():
    table = bar_table(end_time_s=1e-10, time_step_s=1e-11)
    table["physics"]["transport"] = "ohmic"
    with pytest.raises(ConfigError, match="transient: expected physics.transport"):
        device_from_mapping(table, "dev.toml")
