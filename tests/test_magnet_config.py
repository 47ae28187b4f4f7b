"""Device descriptions of magnetization dynamics: a magnet-only film, the docs' standard
problem 4, and bad input naming file, key and expectation (CLI: exit status 2)."""

import re

import pytest
from conftest import ROOT, bar_table, expect_error, magnet_film_table, run_cli, toml_text

from weylfem.config import device_from_mapping, parse_device, unused_settings

pytestmark = pytest.mark.serial


def test_magnet_only_film_reads():
    device = device_from_mapping(magnet_film_table(), "dev.toml")
    assert device.contacts == {}
    assert device.magnetic_regions() == ("channel",)
    assert device.regions["channel"].anisotropy_axis == (0.0, 0.0, 1.0)
    dynamics = device.dynamics
    assert (dynamics.scheme, dynamics.theta_value, dynamics.steps()) == ("bdf2", 1.0, 10)
    assert device.magnetization.film_normal == (0.0, 0.0, 1.0)
    assert unused_settings(device) == []


def test_drives_read():
    table = magnet_film_table()
    table["applied_field"] = {"amplitude_T": [0, 0, 0.1], "waveform": "sine", "frequency_Hz": 1e9}
    table["torques"] = {
        "zhang_li": {"current_density_A_per_m2": [1e11, 0, 0], "polarization": 0.5},
        "spin_orbit": {
            "current_density_A_per_m2": [1e11, 0, 0],
            "spin_direction": [0, 1, 0],
            "damping_like_T_per_A_m2": 1e-13,
            "waveform": "pulse",
            "pulse_width_s": 1e-10,
        },
        "field_induced": {"electric_field_V_per_m": [1e3, 0, 0], "coefficient_m2_per_V_s": 1e-3},
    }
    device = device_from_mapping(table, "dev.toml")
    assert list(device.torques.given()) == ["zhang_li", "spin_orbit", "field_induced"]
    spin_orbit = device.torques.spin_orbit
    assert (spin_orbit.drive_scale(-1e-12), spin_orbit.drive_scale(0.0)) == (0.0, 1.0)
    assert spin_orbit.drive_scale(2e-10) == 0.0
    assert device.applied_field.drive_scale(0.25e-9) == pytest.approx(1.0)
    assert device.applied_field.drive_scale(-0.25e-9) == 0.0  # drives start at t = 0


def test_standard_problem_4_of_the_docs_reads():
    text = (ROOT / "docs" / "device-file.md").read_text()
    block = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "problem 4" in b)
    device = parse_device(block, "sp4.toml")
    assert device.geometry.kind == "magnet_body"
    assert device.magnetic_regions() == ("magnet",)
    assert device.magnetization.demagnetization == "open_boundary"
    assert device.applied_field.amplitude_T == (-24.6e-3, 4.3e-3, 0.0)
    assert device.dynamics.steps() == 10_000


def test_transport_device_with_magnetization_only_warns():
    table = bar_table()
    table["magnetization"] = {"demagnetization": "none"}
    device = device_from_mapping(table, "dev.toml")
    assert unused_settings(device) == ["[magnetization] is used only by [dynamics]"]


@pytest.mark.parametrize("section", ["contacts", "walls", "interfaces"])
def test_transport_sections_are_refused_without_transport(section):
    table = magnet_film_table()
    entry = {"voltage_V": 1.0} if section == "contacts" else {}
    table[section] = {"source": entry}
    expect_error(table, section, f'expected no {section} with physics.transport = "none"')


def _set(table: dict, dotted: str, value) -> dict:
    *path, last = dotted.split(".")
    node = table
    for key in path:
        node = node.setdefault(key, {})
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return table


_DELETE = object()

CASES = [
    ("dynamics", _DELETE, "dynamics", "missing; expected a [dynamics] table"),
    ("magnetization", _DELETE, "magnetization", "missing; expected a [magnetization] table"),
    ("physics.transport", "ohmic", "contacts", "missing; expected a table"),
    ("dynamics.time_step", 1e-12, "dynamics.time_step", "unknown key"),
    ("dynamics.time_step_s", -1e-12, "dynamics.time_step_s", "positive"),
    ("dynamics.end_time_s", 1e-13, "dynamics.time_step_s", "at most end_time_s"),
    ("dynamics.end_time_s", 0.0, "dynamics.end_time_s", "0 only with relax_first"),
    ("dynamics.theta", 0.5, "dynamics.theta", "unless scheme = 'tangent_plane'"),
    ("dynamics.scheme", "euler", "dynamics.scheme", "one of 'bdf2', 'tangent_plane'"),
    ("dynamics.series_every", 0, "dynamics.series_every", "positive"),
    ("dynamics.checkpoint_every", 1.5, "dynamics.checkpoint_every", "an integer"),
    ("dynamics.relax_first", "yes", "dynamics.relax_first", "true or false"),
    ("dynamics.relax_method", "newton", "dynamics.relax_method", "'barzilai_borwein'"),
    ("magnetization.demagnetization", "full", "magnetization.demagnetization", "one of"),
    (
        "magnetization.demagnetization",
        "open_boundary",
        "magnetization.demagnetization",
        "region groups air, shell and the boundary group infinity",
    ),
    ("magnetization.demagnetization", "truncated", "magnetization.demagnetization", "air"),
    ("magnetization.thin_film_normal", [0, 0, 0], "magnetization.thin_film_normal", "nonzero"),
    ("magnetization.regions", ["gate"], "magnetization.regions", "listed under [regions]"),
    ("magnetization.regions", [], "magnetization.regions", "at least one region"),
    ("magnetization.initial_state_file", "no.npz", "magnetization.initial_state_file", "no.npz"),
    (
        "regions.channel.magnetization_direction",
        _DELETE,
        "regions.channel.magnetization_direction",
        "missing; expected the initial direction",
    ),
    ("regions.channel.material", "TaAs", "magnetization.regions", "no region's material"),
    ("regions.channel.anisotropy_axis", [0, 0, 0], "regions.channel.anisotropy_axis", "nonzero"),
    ("applied_field.amplitude_T", [0, 1], "applied_field.amplitude_T", "a list of 3 numbers"),
    ("applied_field.waveform", "sine", "applied_field.amplitude_T", "missing"),
    ("torques.stt", {}, "torques.stt", "unknown key"),
    (
        "torques.zhang_li",
        {"current_density_A_per_m2": [1, 0, 0], "polarization": 2.0},
        "torques.zhang_li.polarization",
        "[-1, 1]",
    ),
    (
        "torques.spin_orbit",
        {"current_density_A_per_m2": [1, 0, 0], "spin_direction": [0, 0, 0]},
        "torques.spin_orbit.spin_direction",
        "nonzero",
    ),
    (
        "torques.field_induced",
        {"electric_field_V_per_m": [1, 0, 0]},
        "torques.field_induced.coefficient_m2_per_V_s",
        "missing",
    ),
    (
        "torques.zhang_li",
        {"current_density_A_per_m2": [1, 0, 0], "polarization": 0.5, "waveform": "sine"},
        "torques.zhang_li.frequency_Hz",
        "expected a value for the sine waveform",
    ),
]


@pytest.mark.parametrize(("dotted", "value", "key", "fragment"), CASES)
def test_bad_magnet_input(dotted, value, key, fragment):
    expect_error(_set(magnet_film_table(), dotted, value), key, fragment)


def test_magnetic_material_needs_exchange_and_damping():
    table = magnet_film_table()
    table["materials"] = {"soft": {"conductivity_S_per_m": 1e6}}
    table["materials"]["soft"]["saturation_magnetization_A_per_m"] = 8e5
    table["regions"]["channel"]["material"] = "soft"
    expect_error(
        table, "regions.channel.material", "'soft' has no exchange_stiffness_J_per_m, gilbert"
    )


def test_dynamics_refuses_the_ohmic_model():
    table = bar_table()
    table["regions"]["channel"]["magnetization_direction"] = [0, 0, 1]
    table.update(
        magnetization={"demagnetization": "none"}, dynamics=magnet_film_table()["dynamics"]
    )
    expect_error(table, "physics.transport", "the ohmic model has no valley to couple to")


def test_drives_need_dynamics():
    table = bar_table()
    table["applied_field"] = {"amplitude_T": [0, 0, 1]}
    expect_error(table, "applied_field", "expected a [dynamics] table")


def test_open_boundary_magnet_in_space():
    table = magnet_film_table()
    table["geometry"] = {"kind": "magnet_body", "lx": 1.0, "ly": 0.5, "lz": 0.1}
    table["regions"] = {"magnet": {"material": "permalloy", "magnetization_direction": [1, 0, 0]}}
    table["magnetization"] = {"demagnetization": "open_boundary"}
    device = device_from_mapping(table, "dev.toml")  # air and shell: empty space, unlisted
    assert device.magnetic_regions() == ("magnet",)
    table["regions"]["shell"] = {"material": "permalloy", "magnetization_direction": [1, 0, 0]}
    expect_error(table, "magnetization.regions", "'shell' is the space around it")


def weylfem(*args, cwd):
    return run_cli(*args, cwd=cwd, timeout=300)


FILM_TOML = toml_text(magnet_film_table())


def assert_bad_input(result, fragment: str):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0]


def test_cli_check_and_bad_input(tmp_path):
    (tmp_path / "film.toml").write_text(FILM_TOML)
    checked = weylfem("check", "film.toml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "contacts none; magnetization dynamics of channel" in checked.stdout
    (tmp_path / "bad.toml").write_text(FILM_TOML.replace("time_step_s = 1e-12", "dt = 1e-12"))
    assert_bad_input(weylfem("check", "bad.toml", cwd=tmp_path), "bad.toml: dynamics.dt:")
    result = weylfem("run", "bad.toml", "--out", "out", cwd=tmp_path)
    assert_bad_input(result, "error: bad.toml: dynamics.dt: unknown key")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "film.toml"]


def test_cli_resume_without_a_run(tmp_path):
    (tmp_path / "film.toml").write_text(FILM_TOML)
    result = weylfem("run", "film.toml", "--out", "out", "--resume", cwd=tmp_path)
    assert_bad_input(result, "out: --resume: expected a run to resume")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.toml"]
    weylfem("init", "bar.toml", cwd=tmp_path)  # the default (transport) device
    assert_bad_input(
        weylfem("run", "bar.toml", "--out", "out", "--resume", cwd=tmp_path),
        "bar.toml: dynamics: missing; expected a [dynamics] table with --resume",
    )
