"""2D devices per metre of depth or of a given `geometry.depth` (weylfem.depth): honest
units, and R_2D / d equal to the resistance of the 3D bar of thickness d."""

import json

import pytest
from conftest import bar_table, expect_error, run_cli, write_toml

from weylfem.config import device_from_mapping
from weylfem.run import run_device, summary

pytestmark = pytest.mark.serial

DEPTH_UM = 0.5


def bar(dimension: int, depth: float | None = None, current: bool = False) -> dict:
    """The 10 um x 2 um Co3Sn2S2 bar (0.5 um thick in 3D), no pictures; with `current`
    1 mA enters through the source instead of 1 mV across the bar."""
    table = bar_table()
    table["geometry"].update(dimension=dimension, mesh_size=0.25, thickness=DEPTH_UM)
    if depth is not None:
        table["geometry"]["depth"] = depth
    if current:
        table["contacts"]["source"] = {"current_A": 1e-3}
    table["output"] = {"fields_xdmf": False, "png": False}
    return table


def run(table: dict, out) -> dict:
    return run_device(device_from_mapping(table, "bar.toml"), out, quiet=True)


def test_depth_gives_the_3d_resistance_and_scales_currents(tmp_path):
    per_metre = run(bar(2), tmp_path / "per_metre")
    deep = run(bar(2, depth=DEPTH_UM), tmp_path / "deep")
    solid = run(bar(3), tmp_path / "solid")
    d = DEPTH_UM * 1e-6
    assert per_metre["per_unit_depth"] and per_metre["depth_m"] is None
    assert per_metre["units"]["resistance"] == "ohm m"
    assert not deep["per_unit_depth"] and deep["depth_m"] == pytest.approx(d)
    assert deep["units"] == solid["units"] and solid["depth_m"] is None
    r_2d = per_metre["two_terminal_resistance_ohm"]
    assert deep["two_terminal_resistance_ohm"] == pytest.approx(r_2d / d, rel=1e-12)
    # a uniform bar: both meshes give L/(sigma W t) to round-off
    assert deep["two_terminal_resistance_ohm"] == pytest.approx(
        solid["two_terminal_resistance_ohm"], rel=1e-9
    )
    for key in ("dissipated_power_W", "input_power_W", "current_sum_A"):
        assert deep[key] == pytest.approx(per_metre[key] * d, rel=1e-12, abs=1e-30)
    for name, contact in deep["contacts"].items():
        assert contact["voltage_V"] == per_metre["contacts"][name]["voltage_V"]
        assert contact["current_A"] == pytest.approx(
            per_metre["contacts"][name]["current_A"] * d, rel=1e-12
        )
    conductance = deep["conductance_matrix_S"]
    assert conductance[0][0] == pytest.approx(per_metre["conductance_matrix_S"][0][0] * d)
    assert "2D: per metre of depth" in summary(per_metre) and " A/m " in summary(per_metre)
    assert "ohm m" in summary(per_metre)
    assert f"2D of depth {d:.6g} m" in summary(deep) and "ohm m" not in summary(deep)


def test_a_set_current_is_the_real_devices(tmp_path):
    """With a depth, current_A = 1 mA is the current of the real device: the voltage across
    it is that of the 3D bar; per metre of depth it is 1 mA per metre."""
    deep = run(bar(2, depth=DEPTH_UM, current=True), tmp_path / "deep")
    solid = run(bar(3, current=True), tmp_path / "solid")
    per_metre = run(bar(2, current=True), tmp_path / "per_metre")
    assert deep["contacts"]["source"]["current_A"] == pytest.approx(1e-3, rel=1e-12)
    voltage = deep["contacts"]["source"]["voltage_V"]
    assert voltage == pytest.approx(solid["contacts"]["source"]["voltage_V"], rel=1e-9)
    assert voltage == pytest.approx(
        per_metre["contacts"]["source"]["voltage_V"] / (DEPTH_UM * 1e-6), rel=1e-9
    )


def test_transient_series_are_scaled(tmp_path):
    """series.csv columns and the results of a transient run scale with the depth."""
    runs = {}
    for name, depth in (("per_metre", None), ("deep", DEPTH_UM)):
        table = bar(2, depth=depth)
        table["regions"]["channel"]["material"] = "TaAs"
        table["physics"]["transport"] = "charge_valley"
        table["transient"] = {"end_time_s": 2e-12, "time_step_s": 1e-12}
        runs[name] = run(table, tmp_path / name)
    from weylfem.output.series import read_series

    series = {name: read_series(tmp_path / name / "series.csv") for name in runs}
    d = DEPTH_UM * 1e-6
    current = series["deep"]["source_current_A"]
    assert current == pytest.approx(series["per_metre"]["source_current_A"] * d, rel=1e-12)
    voltage = series["deep"]["source_voltage_V"]
    assert voltage == pytest.approx(series["per_metre"]["source_voltage_V"], rel=1e-12)
    assert runs["deep"]["max_current_sum_A"] == pytest.approx(
        runs["per_metre"]["max_current_sum_A"] * d, rel=1e-9, abs=1e-30
    )


def test_depth_is_refused_in_3d():
    table = bar(3)
    table["geometry"]["depth"] = 1.0
    expect_error(table, "geometry.depth", "expected no value unless dimension = 2")


def test_cli_prints_the_units(tmp_path):
    write_toml(tmp_path / "bar.toml", bar(2))
    done = run_cli("run", "bar.toml", "--out", "out", "--quiet", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "two-terminal resistance:" in done.stdout and "ohm m" in done.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["per_unit_depth"] is True and results["depth_m"] is None
