"""Bad input through the `weylfem` command (issue 17): files that are not UTF-8 TOML, too
large or too deeply nested; PETSc options, .npz files, names with control characters,
absurd magnitudes and contacts without transport.  Each is refused with exit status 2 and
one line ``error: FILE: KEY: ...`` on stderr, before anything is meshed or written."""

import numpy as np
import pytest
from conftest import magnet_film_table, toml_text
from test_cli import weylfem

from weylfem.config import MAX_FILE_BYTES, MAX_NESTING
from weylfem.errors import ConfigError, escape_controls

pytestmark = pytest.mark.serial

BAR = """\
name = "bar"
[geometry]
kind = "bar"
dimension = 2
length = 4.0
width = 1.0
mesh_size = 0.5
[regions.channel]
material = "Co3Sn2S2"
[contacts.source]
voltage_V = 1e-3
[contacts.drain]
voltage_V = 0.0
[physics]
transport = "ohmic"
"""
"""A 2D ohmic bar that `weylfem check` accepts."""

FILM = toml_text(magnet_film_table())
"""A 2D magnet-only film with [dynamics] that `weylfem check` accepts."""


def refused(tmp_path, device: str | bytes, command: str = "run", path: str = "dev.toml") -> str:
    """Write `device` to dev.toml (unless `path` names another file), run `weylfem
    COMMAND` on it, check the refusal (exit 2, one line starting with "error:", no
    traceback, no output folder or hidden staging folder) and return that line."""
    file = tmp_path / "dev.toml"
    if isinstance(device, bytes):
        file.write_bytes(device)
    else:
        file.write_text(device, encoding="utf-8")
    before = {p.name for p in tmp_path.iterdir()}
    args = (command, path, "--out", "out") if command == "run" else (command, path)
    result = weylfem(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert lines[0].isprintable(), lines[0]
    assert {p.name for p in tmp_path.iterdir()} == before  # nothing written
    return lines[0]


def test_the_base_devices_pass(tmp_path):
    for name, text in (("bar.toml", BAR), ("film.toml", FILM)):
        (tmp_path / name).write_text(text)
        result = weylfem("check", name, cwd=tmp_path)
        assert result.returncode == 0 and ": ok: " in result.stdout, result.stderr


# --- 1. files that are not UTF-8 TOML, too large or too deep ------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            BAR.encode("utf-16"),
            "dev.toml: (file): expected a UTF-8 TOML file, got UTF-16 text (byte-order mark",
        ),
        (
            b'name = "x"\n\xff\xfe\x00binary',
            "dev.toml: (file): expected a UTF-8 TOML file, got the byte 0xff, not UTF-8"
            " (invalid start byte, byte offset 11)",
        ),
        (b'name = "x"\x00\n', "expected a UTF-8 TOML file, got a NUL byte (byte offset 10)"),
        (
            b"a = " + b"[" * 100_000 + b"]" * 100_000,
            f"dev.toml: (file): expected arrays and tables nested at most {MAX_NESTING} deep,"
            " got deeper (line 1)",
        ),
        (
            b"x = " + b"{a = " * 200 + b"1" + b"}" * 200,
            f"expected arrays and tables nested at most {MAX_NESTING} deep",
        ),
        (
            b"[" + b".".join([b"a"] * 20_000) + b"]\n",
            f"expected arrays and tables nested at most {MAX_NESTING} deep",
        ),
        (
            b"# " + b"x" * MAX_FILE_BYTES + b"\n",
            f"dev.toml: (file): expected a device file of at most {MAX_FILE_BYTES} bytes (1 MiB),"
            f" got {MAX_FILE_BYTES + 3} bytes",
        ),
    ],
    ids=["utf16", "binary", "nul", "deep-arrays", "deep-inline-tables", "deep-header", "1MiB"],
)
def test_unreadable_files(tmp_path, content, fragment):
    assert fragment in refused(tmp_path, content)


def test_dev_zero_is_read_with_the_cap(tmp_path):
    line = refused(tmp_path, BAR, path="/dev/zero")
    assert line == (
        f"error: /dev/zero: (file): expected a device file of at most {MAX_FILE_BYTES} bytes"
        " (1 MiB), got more (not a regular file?)"
    )


def test_brackets_in_strings_and_comments_are_not_nesting(tmp_path):
    text = BAR.replace('name = "bar"', f'name = "{"[" * 100}" # {"{" * 100}')
    (tmp_path / "dev.toml").write_text(text)
    result = weylfem("check", "dev.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


# --- 2. what check can see: PETSc options, .npz files, control characters ------------------


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        (
            'ksp_type = "nonsense"',
            "solver.petsc_options.ksp_type: expected a value PETSc accepts for the direct"
            " transport solver (Unable to find requested KSP type nonsense), got 'nonsense'",
        ),
        (
            'fieldsplit_1_pc_type = "nonsense"',
            "solver.petsc_options.fieldsplit_1_pc_type: expected a value PETSc accepts",
        ),
        ('ksp_rtol = "abc"', "solver.petsc_options.ksp_rtol: expected a value PETSc accepts"),
        (
            'ksp_typo = "cg"',
            "solver.petsc_options.ksp_typo: expected an option PETSc reads for the direct"
            " transport solver or iterative transport solver (a KSP, PC or factorization"
            " option), got 'ksp_typo', which none of them reads",
        ),
        (
            '"-ksp_type" = "cg"',
            "solver.petsc_options.-ksp_type: expected an option name of letters, digits and"
            " underscores, without the leading '-'",
        ),
    ],
    ids=["value", "fieldsplit-value", "number", "unknown-name", "dash"],
)
def test_petsc_options(tmp_path, option, fragment):
    text = BAR.replace('"ohmic"', '"charge_valley"').replace("Co3Sn2S2", "TaAs")
    line = refused(tmp_path, f"{text}[solver.petsc_options]\n{option}\n")
    assert line.startswith("error: dev.toml: solver.petsc_options."), line
    assert fragment in line


def test_valid_petsc_options_pass(tmp_path):
    options = 'ksp_type = "gmres"\npc_type = "hypre"\nksp_max_it = 50\nksp_monitor = ""\n'
    (tmp_path / "dev.toml").write_text(
        f'{BAR}[solver]\nkind = "iterative"\n[solver.petsc_options]\n{options}'
    )
    result = weylfem("check", "dev.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # the check's two lines (ok, estimate) and nothing else: the monitor was not run
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["dev.toml", "estimate"]


def test_field_file_that_is_not_an_npz(tmp_path):
    np.save(tmp_path / "B.npy", np.zeros((2, 2, 3)))
    text = BAR + '[fields]\nmagnetic_field_file = "B.npy"\n'
    line = refused(tmp_path, text, command="check")
    assert line == (
        "error: dev.toml: fields.magnetic_field_file: expected a NumPy .npz field file, got a"
        " single array (.npy, not an .npz archive) in B.npy"
    )


def test_field_file_with_nan_is_refused_by_run(tmp_path):
    axis = np.array([-1e-6, 5e-6])
    values = np.zeros((2, 2, 3))
    values[0, 0, 0] = np.nan
    np.savez(tmp_path / "B.npz", x=axis, y=axis, values=values)
    line = refused(tmp_path, BAR + '[fields]\nmagnetic_field_file = "B.npz"\n')
    assert "fields.magnetic_field_file: expected finite 'values', got 1 NaN or infinite" in line


@pytest.mark.parametrize(
    ("arrays", "fragment"),
    [
        ({"x": np.zeros(2)}, "expected a weylfem checkpoint; missing arrays format, ranks"),
        ({}, "expected the checkpoint.npz of an earlier run"),
    ],
    ids=["not-a-checkpoint", "absent"],
)
def test_initial_state_file(tmp_path, arrays, fragment):
    if arrays:
        np.savez(tmp_path / "state.npz", **arrays)
    text = FILM.replace("[dynamics]", 'initial_state_file = "state.npz"\n[dynamics]')
    line = refused(tmp_path, text)
    assert line.startswith("error: dev.toml: magnetization.initial_state_file: "), line
    assert fragment in line


def test_control_characters_in_a_name(tmp_path):
    text = BAR.replace("[contacts.drain]", '[contacts."drain\\n\\u001b[31mred"]')
    line = refused(tmp_path, text, command="check")
    assert line.startswith(
        "error: dev.toml: contacts.drain\\n\\x1b[31mred: expected a name of printable"
        " characters, not blank and without control characters"
    ), line
    assert "\x1b" not in line


def test_control_characters_in_any_message_are_escaped():
    error = ConfigError("a\nb.toml", "regions.x\u202e", "expected \x1b[2J")
    assert str(error) == "a\\nb.toml: regions.x\\u202e: expected \\x1b[2J"
    assert escape_controls(str(error)) == str(error)  # idempotent
    assert escape_controls("µm, Ω, tab\tend") == "µm, Ω, tab\\tend"


# --- 3. physically absurd magnitudes ----------------------------------------------------


def test_huge_conductivity(tmp_path):
    material = '[materials.big]\nbase = "Co3Sn2S2"\nconductivity_S_per_m = 1e300\n'
    text = BAR.replace('material = "Co3Sn2S2"', 'material = "big"') + material
    line = refused(tmp_path, text)
    assert line == (
        "error: dev.toml: materials.big.conductivity_S_per_m: expected a magnitude between"
        " 1e-100 and 1e+100 S/m (or 0): beyond that the operator leaves floating-point range;"
        " got 1e+300"
    )


def test_huge_field(tmp_path):
    text = BAR.replace('"ohmic"', '"charge_valley"').replace("Co3Sn2S2", "TaAs")
    line = refused(tmp_path, text + "[fields]\nmagnetic_field_T = [1e300, 0.0, 0.0]\n")
    assert "dev.toml: fields.magnetic_field_T: expected a magnitude at most 1e+100 T" in line


def test_field_whose_product_overflows(tmp_path):
    text = BAR.replace('"ohmic"', '"charge_valley"').replace("Co3Sn2S2", "TaAs")
    text += "[fields]\nmagnetic_field_T = [1e60, 0.0, 0.0]\n"
    line = refused(tmp_path, text, command="check")
    assert line.startswith(
        "error: dev.toml: fields.magnetic_field_T: expected a field whose products with the"
        " material coefficients stay below 1e+100"
    ), line
    assert "(dsigma/B^2) |B|^2 = 2.2" in line and "in region 'channel' (TaAs)" in line


def test_derived_coefficient_out_of_range(tmp_path):
    material = '[materials.slow]\nbase = "TaAs"\nfermi_velocity_m_per_s = 1e-20\n'
    text = BAR.replace('material = "Co3Sn2S2"', 'material = "slow"') + material
    line = refused(tmp_path, text, command="check")
    assert line.startswith(
        "error: dev.toml: materials.slow: expected inputs whose derived coefficients stay"
        " below 1e+100 in SI units"
    ), line
    assert "got N = " in line


# --- 4. contacts without transport --------------------------------------------------------


def test_contacts_with_transport_none(tmp_path):
    line = refused(tmp_path, FILM + "[contacts.source]\nvoltage_V = 1.0\n")
    assert line == (
        'error: dev.toml: contacts: expected no contacts with physics.transport = "none"'
        " (nothing carries a current), got source: remove them, or choose transport ="
        ' "ohmic" or "charge_valley"'
    )
