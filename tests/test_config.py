"""Device descriptions: the default device, and bad input naming file, key and expectation."""

import pytest
import tomllib

from weylfem.config import (
    default_device,
    default_device_text,
    device_from_mapping,
    load_device,
    parse_device,
    unused_settings,
)
from weylfem.errors import ConfigError

pytestmark = pytest.mark.serial


def default_table() -> dict:
    return tomllib.loads(default_device_text())


def test_default_device_reads():
    device = default_device()
    assert device.geometry.kind == "bar"
    assert set(device.contacts) == {"source", "drain"}
    assert device.material_of("channel").name == "Co3Sn2S2"
    assert unused_settings(device) == []


def test_file_round_trip(tmp_path):
    path = tmp_path / "device.toml"
    path.write_text(default_device_text())
    assert load_device(path) == default_device()


def expect_error(table: dict, key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        device_from_mapping(table, "dev.toml")
    message = str(info.value)
    assert message.startswith(f"dev.toml: {key}: "), message
    assert fragment in message, message


def test_unknown_top_level_key():
    table = default_table()
    table["geometri"] = {}
    expect_error(table, "geometri", "unknown key")


def test_unknown_nested_key():
    table = default_table()
    table["contacts"]["source"]["voltage"] = 1.0
    expect_error(table, "contacts.source.voltage", "expected one of: current_A, floating")


def test_missing_section():
    table = default_table()
    del table["contacts"]
    expect_error(table, "contacts", "missing")


def test_missing_key():
    table = default_table()
    del table["regions"]["channel"]["material"]
    expect_error(table, "regions.channel.material", "missing; expected a string")


def test_contact_needs_exactly_one_drive():
    table = default_table()
    del table["contacts"]["drain"]["voltage_V"]
    expect_error(table, "contacts.drain.voltage_V", "expected exactly one of voltage_V, current_A")
    table["contacts"]["drain"] = {"voltage_V": 0.0, "floating": True}
    expect_error(table, "contacts.drain.voltage_V", "expected exactly one of voltage_V, current_A")


def test_wrong_type():
    table = default_table()
    table["geometry"]["length"] = "ten"
    expect_error(table, "geometry.length", "expected a number, got 'ten'")


def test_bool_is_not_a_number():
    table = default_table()
    table["contacts"]["source"]["voltage_V"] = True
    expect_error(table, "contacts.source.voltage_V", "expected a number")


def test_wrong_vector_length():
    table = default_table()
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
    table = default_table()
    table["materials"] = {"film": {"base": "Co3Sn2S2", field: value}}
    table["regions"]["channel"]["material"] = "film"
    expect_error(table, f"materials.film.{field}", fragment)


def test_user_material_overrides_base():
    table = default_table()
    table["materials"] = {"film": {"base": "Co3Sn2S2", "conductivity_S_per_m": 1.0e6}}
    table["regions"]["channel"]["material"] = "film"
    device = device_from_mapping(table, "dev.toml")
    film = device.material_of("channel")
    assert film.name == "film"
    assert film.conductivity_S_per_m == 1.0e6
    assert (
        film.valley_relaxation_time_s
        == default_device().material_of("channel").valley_relaxation_time_s
    )


def test_unknown_material():
    table = default_table()
    table["regions"]["channel"]["material"] = "unobtainium"
    expect_error(table, "regions.channel.material", "expected a known material")


def test_unknown_base_material():
    table = default_table()
    table["materials"] = {"film": {"base": "unobtainium"}}
    expect_error(table, "materials.film.base", "expected a library material")


def test_contact_matching_no_boundary():
    table = default_table()
    table["contacts"]["gate"] = {"voltage_V": 1.0}
    expect_error(table, "contacts.gate", "expected the name of a mesh group (source, drain, walls)")


def test_region_without_material():
    table = default_table()
    table["regions"] = {}
    expect_error(table, "regions.channel", "every region of the mesh needs a material")


def test_unknown_geometry_kind():
    table = default_table()
    table["geometry"]["kind"] = "torus"
    expect_error(
        table, "geometry.kind", "expected one of: bar, hall_bar, nonlocal_strip, stack, ring, file"
    )


def test_mesh_size_larger_than_device():
    table = default_table()
    table["geometry"]["mesh_size"] = 5.0
    expect_error(table, "geometry.mesh_size", "smallest bar dimension")


def test_bad_literal():
    table = default_table()
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
    table = default_table()
    table["fields"]["magnetic_field_T"] = [0.0, 0.0, 1.0]
    device = device_from_mapping(table, "dev.toml")
    assert unused_settings(device) == [
        "the magnetic field is not used by the 'ohmic' transport model"
    ]
