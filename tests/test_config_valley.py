"""Config errors of the contact, four-probe and charge-valley keys: FILE: KEY: expected ..."""

import pytest

from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError

pytestmark = pytest.mark.serial


def hall_bar() -> dict:
    """A valid charge_valley Hall bar with one four-probe measurement."""
    return {
        "geometry": {"kind": "hall_bar", "dimension": 2, "probe_pairs": 1, "mesh_size": 0.25},
        "regions": {"channel": {"material": "Co3Sn2S2", "magnetization_direction": [0, 0, 1]}},
        "contacts": {
            "source": {"current_A": 1.0e-3},
            "drain": {"voltage_V": 0.0},
            "probe_1_bottom": {"floating": True},
            "probe_1_top": {"floating": True},
        },
        "four_probe": {
            "hall": {"current": ["source", "drain"], "voltage": ["probe_1_top", "probe_1_bottom"]}
        },
        "fields": {"magnetic_field_T": [1.0, 0.0, 0.0]},
        "physics": {"transport": "charge_valley"},
    }


def expect_error(table: dict, key: str, *fragments: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        device_from_mapping(table, "dev.toml")
    message = str(info.value)
    assert message.startswith(f"dev.toml: {key}: expected"), message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_valid_table_reads():
    device = device_from_mapping(hall_bar(), "dev.toml")
    assert device.four_probe["hall"].current == ("source", "drain")
    assert device.contacts["probe_1_top"].set_current_A == 0.0
    assert device.contacts["source"].set_current_A == 1.0e-3


@pytest.mark.parametrize(("key", "index"), [("current", 1), ("voltage", 0)])
def test_four_probe_unknown_contact(key, index):
    table = hall_bar()
    table["four_probe"]["hall"][key][index] = "probe_9_top"
    error = expect_error(
        table, f"four_probe.hall.{key}[{index}]", "expected a contact (", "'probe_9_top'"
    )
    assert "probe_1_top" in error.expected  # the valid names are listed


@pytest.mark.parametrize("key", ["current", "voltage"])
def test_four_probe_same_contact_twice(key):
    table = hall_bar()
    table["four_probe"]["hall"][key] = ["probe_1_top", "probe_1_top"]
    expect_error(table, f"four_probe.hall.{key}", "two different contacts")


def test_four_probe_needs_pairs():
    table = hall_bar()
    table["four_probe"]["hall"]["voltage"] = ["probe_1_top"]
    with pytest.raises(ConfigError) as info:
        device_from_mapping(table, "dev.toml")
    assert str(info.value).startswith("dev.toml: four_probe.hall.voltage: expected")


def test_no_voltage_driven_contact():
    table = hall_bar()
    table["contacts"]["drain"] = {"current_A": -1.0e-3}
    expect_error(table, "contacts", "at least one voltage-driven contact")


@pytest.mark.parametrize(
    "drives",
    [
        {"voltage_V": 0.0, "current_A": 1.0e-3},
        {"current_A": 1.0e-3, "floating": True},
        {"voltage_V": 0.0, "floating": True},
        {},
    ],
)
def test_contact_needs_exactly_one_drive(drives):
    table = hall_bar()
    table["contacts"]["source"] = drives
    expect_error(
        table, "contacts.source.voltage_V", "exactly one of voltage_V, current_A or floating"
    )


def test_negative_contact_valley_conductance():
    table = hall_bar()
    table["contacts"]["drain"]["valley_conductance_S_per_m2"] = -1.0
    with pytest.raises(ConfigError) as info:
        device_from_mapping(table, "dev.toml")
    assert str(info.value).startswith(
        "dev.toml: contacts.drain.valley_conductance_S_per_m2: expected"
    )


@pytest.mark.parametrize("material", ["permalloy", "no_valley"])
def test_charge_valley_needs_a_valley_diffusion_length(material):
    table = hall_bar()
    table["materials"] = {"no_valley": {"base": "permalloy", "conductivity_S_per_m": 1.0e6}}
    table["regions"]["channel"]["material"] = material
    expect_error(
        table, "regions.channel.material", "valley diffusion length", f"{material!r} has none"
    )
    table["physics"]["transport"] = "ohmic"
    device_from_mapping(table, "dev.toml")  # the ohmic model does not need one


def test_wall_that_is_a_contact():
    table = hall_bar()
    table["walls"] = {"source": {"valley_conductance_S_per_m2": 1.0e9}}
    expect_error(table, "walls.source", "not a contact")


def test_wall_naming_no_group():
    table = hall_bar()
    table["walls"] = {"sides": {"valley_conductance_S_per_m2": 1.0e9}}
    expect_error(table, "walls.sides", "expected the name of a mesh group (")
