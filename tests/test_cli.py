"""The `weylfem` command: init, check, materials, run, bad input, and serial == mpirun -n 2."""

import json

import pytest
from conftest import run_cli

pytestmark = pytest.mark.serial


weylfem = run_cli


def assert_bad_input(result, fragment: str):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert fragment in lines[0]


def test_init_then_check(tmp_path):
    assert weylfem("init", "dev.toml", cwd=tmp_path).returncode == 0
    text = (tmp_path / "dev.toml").read_text()
    assert "[contacts.injector_bottom]" in text and "# " in text
    checked = weylfem("check", "dev.toml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "ok" in checked.stdout


def test_init_does_not_overwrite(tmp_path):
    (tmp_path / "dev.toml").write_text("mine")
    assert_bad_input(weylfem("init", "dev.toml", cwd=tmp_path), "dev.toml: (file):")
    assert (tmp_path / "dev.toml").read_text() == "mine"


def test_check_reports_bad_key(tmp_path):
    text = weylfem_default(tmp_path).replace("voltage_V = 0.0", "voltage_V = 'zero'")
    (tmp_path / "bad.toml").write_text(text)
    assert_bad_input(
        weylfem("check", "bad.toml", cwd=tmp_path),
        "error: bad.toml: contacts.injector_top.voltage_V: expected a number",
    )


def weylfem_default(tmp_path) -> str:
    weylfem("init", "default.toml", "--force", cwd=tmp_path)
    return (tmp_path / "default.toml").read_text()


def test_run_with_bad_input_writes_nothing_and_keeps_old_results(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.json").write_text("{}")
    text = weylfem_default(tmp_path).replace('material = "TaAs"', 'material = "nope"')
    (tmp_path / "bad.toml").write_text(text)
    result = weylfem("run", "bad.toml", "--out", "out", cwd=tmp_path)
    assert_bad_input(result, "bad.toml: regions.channel.material: expected a known material")
    assert (tmp_path / "out" / "results.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "default.toml", "out"]


FFT_FILM_ON_A_FREE_MESH = """name = "SP4 film, fft on free triangles"
[geometry]
kind = "magnet_body"
length_unit = "nm"
lx = 500.0
ly = 125.0
lz = 3.0
open_boundary = "none"
magnet_mesh_size = 10.0
mesh_size = 10.0
layers = 1
[regions.magnet]
material = "permalloy"
magnetization_direction = [1, 0.1, 0]
[physics]
transport = "none"
[magnetization]
demagnetization = "fft"
fft_cells = [50, 12, 1]
[dynamics]
end_time_s = 1e-11
time_step_s = 1e-11
"""


def test_run_refuses_what_only_the_mesh_shows_naming_the_file(tmp_path):
    # the fft cells must each hold whole elements: found after meshing, reported like any
    # bad input (exit 2, one line naming the file and the key), nothing written
    (tmp_path / "film.toml").write_text(FFT_FILM_ON_A_FREE_MESH)
    result = weylfem("run", "film.toml", "--out", "out", cwd=tmp_path)
    assert_bad_input(result, "error: film.toml: magnetization.fft_cells: expected cells each")
    assert "elements cross cell faces of the 50 x 12 x 1 grid" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.toml"]


def test_missing_config_file(tmp_path):
    assert_bad_input(weylfem("check", "absent.toml", cwd=tmp_path), "absent.toml: (file):")


def test_materials_list_and_show(tmp_path):
    listing = weylfem("materials", cwd=tmp_path)
    assert listing.returncode == 0
    for name in ("Co3Sn2S2", "TaAs", "Cd3As2", "permalloy"):
        assert name in listing.stdout
    shown = weylfem("materials", "Co3Sn2S2", cwd=tmp_path)
    assert shown.returncode == 0
    assert "S/m" in shown.stdout
    assert_bad_input(weylfem("materials", "unobtainium", cwd=tmp_path), "unobtainium")


def test_default_run_serial_equals_mpi(tmp_path):
    # the default device: the nonlocal strip, 1 mA injected, floating detector pairs
    serial = weylfem("run", "--out", "serial", cwd=tmp_path)
    assert serial.returncode == 0, serial.stderr
    assert "four-probe (nonlocal) resistances" in serial.stdout
    assert "R_NL_12um" in serial.stdout
    parallel = weylfem("run", "--out", "mpi", cwd=tmp_path, launcher=("mpirun", "-n", "2"))
    assert parallel.returncode == 0, parallel.stderr
    assert parallel.stdout.count("four-probe (nonlocal) resistances") == 1  # rank 0 prints alone
    one = json.loads((tmp_path / "serial" / "results.json").read_text())
    two = json.loads((tmp_path / "mpi" / "results.json").read_text())
    assert one["mesh"]["ranks"] == 1 and two["mesh"]["ranks"] == 2
    assert one["mesh"]["cells"] == two["mesh"]["cells"]
    injected = one["contacts"]["injector_bottom"]["current_A"]
    # I = G V reproduces the imposed current to round-off (a small dense solve for V)
    assert injected == pytest.approx(1.0e-3, rel=1e-12)
    for name, contact in one["contacts"].items():
        other = two["contacts"][name]
        assert other["drive"] == contact["drive"]
        if contact["drive"] == "voltage":
            assert other["voltage_V"] == contact["voltage_V"]
        else:  # solved for: floating probes and the current-driven injector
            assert other["voltage_V"] == pytest.approx(contact["voltage_V"], rel=1e-8)
        # floating probes carry no current: compare on the scale of the injected current
        assert other["current_A"] == pytest.approx(
            contact["current_A"], rel=1e-8, abs=1e-12 * injected
        )
    resistances = one["nonlocal_resistances_ohm"]
    assert list(resistances) == ["R_NL_1um", "R_NL_2um", "R_NL_4um", "R_NL_8um", "R_NL_12um"]
    for name, value in resistances.items():
        assert two["nonlocal_resistances_ohm"][name] == pytest.approx(value, rel=1e-8)
    # ohmic spreading (positive) near the injector, the valley signal (negative) far away
    assert resistances["R_NL_1um"] > 0 and resistances["R_NL_12um"] < 0
    assert {p.name for p in (tmp_path / "mpi").iterdir()} == {
        "results.json",
        "device.json",
        "fields.xdmf",
        "fields.h5",
        "fields_boundaries.xdmf",
        "phi_c.png",
        "phi_v.png",
        "four_probe.png",
    }


def test_mesh_command_writes_tagged_mesh_and_preview(tmp_path):
    result = weylfem("mesh", "--out", "m", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "min quality" in result.stdout
    report = json.loads((tmp_path / "m" / "mesh.json").read_text())
    assert report["regions"] == {"channel": 1}
    # injector patch: contact_length 0.25 um times the thickness 0.5 um
    assert report["measures_SI"]["injector_bottom"] == pytest.approx(0.125e-12, rel=1e-10)
    xdmf = (tmp_path / "m" / "mesh.xdmf").read_text()
    assert 'Name="regions"' in xdmf
    assert 'Name="boundaries"' in (tmp_path / "m" / "mesh_boundaries.xdmf").read_text()
    assert (tmp_path / "m" / "mesh.png").read_bytes()[:4] == b"\x89PNG"
