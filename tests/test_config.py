"""Device descriptions: the default device, and bad input (on the two-terminal bar of
conftest.bar_table) naming file, key and expectation."""

import pytest
from conftest import bar_table, expect_error

from weylfem.config import (
    default_device,
    default_device_text,
    device_from_mapping,
    load_device,
    parse_device,
    unused_settings,
)
from weylfem.errors import ConfigError
from weylfem.materials import MATERIALS

pytestmark = pytest.mark.serial


def test_default_device_reads():
    # the nonlocal chiral-anomaly experiment: TaAs strip, B along the injected current
    device = default_device()
    geometry = device.geometry
    assert geometry.kind == "nonlocal_strip"
    assert device.physics.transport == "charge_valley"
    assert device.material_of("channel").name == "TaAs"
    assert device.fields.magnetic_field_T == (0.0, 1.0, 0.0)
    assert device.contacts["injector_bottom"].current_A == 1.0e-3
    assert device.contacts["injector_top"].voltage_V == 0.0
    detectors = range(1, len(geometry.detector_distances) + 1)
    names = {f"detector_{i}_{side}" for i in detectors for side in ("bottom", "top")}
    assert set(device.contacts) == {"injector_bottom", "injector_top", *names}
    for name in names:  # ideal voltmeters: no net current, no valley relaxation
        assert device.contacts[name].floating
        assert device.contacts[name].valley_conductance_S_per_m2 == 0.0
    # one R_NL per detector, named by its distance from the injector
    assert list(device.four_probe) == [f"R_NL_{d:g}um" for d in geometry.detector_distances]
    for i, probe in enumerate(device.four_probe.values(), start=1):
        assert probe.current == ("injector_bottom", "injector_top")
        assert probe.voltage == (f"detector_{i}_bottom", f"detector_{i}_top")
    assert unused_settings(device) == []


def test_file_round_trip(tmp_path):
    path = tmp_path / "device.toml"
    path.write_text(default_device_text())
    assert load_device(path) == default_device()


def test_unknown_top_level_key():
    table = bar_table()
    table["geometri"] = {}
    expect_error(table, "geometri", "unknown key")


def test_unknown_nested_key():
    table = bar_table()
    table["contacts"]["source"]["voltage"] = 1.0
    expect_error(table, "contacts.source.voltage", "expected one of: current_A, floating")


def test_missing_section():
    table = bar_table()
    del table["contacts"]
    expect_error(table, "contacts", "missing")


def test_missing_key():
    table = bar_table()
    del table["regions"]["channel"]["material"]
    expect_error(table, "regions.channel.material", "missing; expected a string")


def test_contact_needs_exactly_one_drive():
    table = bar_table()
    del table["contacts"]["drain"]["voltage_V"]
    expect_error(table, "contacts.drain.voltage_V", "expected exactly one of voltage_V, current_A")
    table["contacts"]["drain"] = {"voltage_V": 0.0, "floating": True}
    expect_error(table, "contacts.drain.voltage_V", "expected exactly one of voltage_V, current_A")


def test_wrong_type():
    table = bar_table()
    table["geometry"]["length"] = "ten"
    expect_error(table, "geometry.length", "expected a number, got 'ten'")


def test_bool_is_not_a_number():
    table = bar_table()
    table["contacts"]["source"]["voltage_V"] = True
    expect_error(table, "contacts.source.voltage_V", "expected a number")


def test_wrong_vector_length():
    table = bar_table()
    table["fields"]["magnetic_field_T"] = [0.0, 1.0]
    expect_error(table, "fields.magnetic_field_T", "a list of 3 numbers")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("conductivity_S_per_m", 0.0, "positive"),
        ("conductivity_S_per_m", -1e6, "positive"),
        ("valley_relaxation_time_s", -1e-12, "positive"),
        ("anomaly_efficiency", 1.5, "(0, 1]"),
        ("anomaly_efficiency", -0.5, "(0, 1]"),
    ],
)
def test_nonphysical_material(field, value, fragment):
    table = bar_table()
    table["materials"] = {"film": {"base": "Co3Sn2S2", field: value}}
    table["regions"]["channel"]["material"] = "film"
    expect_error(table, f"materials.film.{field}", fragment)


def test_user_material_overrides_base():
    table = bar_table()
    table["materials"] = {"film": {"base": "Co3Sn2S2", "conductivity_S_per_m": 1.0e6}}
    table["regions"]["channel"]["material"] = "film"
    device = device_from_mapping(table, "dev.toml")
    film = device.material_of("channel")
    assert film.name == "film"
    assert film.conductivity_S_per_m == 1.0e6
    assert film.valley_relaxation_time_s == MATERIALS["Co3Sn2S2"].valley_relaxation_time_s


def test_unknown_material():
    table = bar_table()
    table["regions"]["channel"]["material"] = "unobtainium"
    expect_error(table, "regions.channel.material", "expected a known material")


def test_unknown_base_material():
    table = bar_table()
    table["materials"] = {"film": {"base": "unobtainium"}}
    expect_error(table, "materials.film.base", "expected a library material")


def test_contact_matching_no_boundary():
    table = bar_table()
    table["contacts"]["gate"] = {"voltage_V": 1.0}
    expect_error(table, "contacts.gate", "expected the name of a mesh group (source, drain, walls)")


def test_region_without_material():
    table = bar_table()
    table["regions"] = {}
    expect_error(table, "regions.channel", "every region of the mesh needs a material")


def test_unknown_geometry_kind():
    table = bar_table()
    table["geometry"]["kind"] = "torus"
    expect_error(
        table,
        "geometry.kind",
        "expected one of: bar, hall_bar, nonlocal_strip, stack, ring, magnet_body, file",
    )


def test_mesh_size_larger_than_device():
    table = bar_table()
    table["geometry"]["mesh_size"] = 5.0
    expect_error(table, "geometry.mesh_size", "smallest bar dimension")


def test_bad_literal():
    table = bar_table()
    table["solver"]["kind"] = "magic"
    expect_error(table, "solver.kind", "one of 'auto', 'direct', 'iterative'")


def test_invalid_toml_names_file():
    with pytest.raises(ConfigError) as info:
        parse_device("[geometry\nkind = 'bar'", "broken.toml")
    assert str(info.value).startswith("broken.toml: (file): expected valid TOML")


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_device(tmp_path / "nope.toml")
    assert "nope.toml: (file): expected a readable TOML file" in str(info.value)


def test_unused_field_is_reported():
    table = bar_table()
    table["fields"]["magnetic_field_T"] = [0.0, 0.0, 1.0]
    device = device_from_mapping(table, "dev.toml")
    assert unused_settings(device) == [
        "the magnetic field is not used by the 'ohmic' transport model"
    ]


def test_device_json_reads_back():
    """The device.json every run writes describes the same device."""
    import dataclasses
    import json

    from weylfem.config import default_device

    device = default_device()
    written = json.loads(json.dumps(dataclasses.asdict(device)))
    assert device_from_mapping(written, "device.json") == device


def test_base_material_overrides_of_k0_and_coupling_replace_the_base_values():
    """Over a library base: giving k0 (or hall_node_pairs) replaces the base's measured
    sigma_AH by the band model's, and giving eta, alpha_p or k0 replaces the base's eta/alpha_p."""
    table = bar_table()
    table["materials"] = {"film": {"base": "Co3Sn2S2", "node_half_separation_per_m": 1.0e8}}
    table["regions"]["channel"]["material"] = "film"
    film = device_from_mapping(table, "dev.toml").materials["film"]
    assert film.anomalous_hall_conductivity_S_per_m is None and film.pumping_damping is None
    # sigma_AH = s_H 3 e^2 k0 / (2 pi^2 hbar) = -3 * 1.233147098e-5 S * 1e8 = -3699.4 S/m
    assert film.sigma_ah == pytest.approx(-3699.441, rel=1e-6)
    assert film.eta == pytest.approx(1.054571818e-26, rel=1e-9)
    table["materials"] = {"film": {"base": "Co3Sn2S2", "valley_coupling_J_s_per_m": -1e-26}}
    film = device_from_mapping(table, "dev.toml").materials["film"]
    assert (film.eta, film.sigma_ah) == (-1e-26, -1.13e5)
