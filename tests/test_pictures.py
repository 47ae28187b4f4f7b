"""The pictures of a run (phi_c.png, phi_v.png, mesh.png): colour scales chosen from the
data, axes in the device's length unit, contacts labelled; `weylfem plot OUT` redraws
them from the files (without DOLFINx) with the same metadata, leaving the data alone.
Checked through the metadata each picture carries (`weylfem.output.maps`), not pixels."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib
from conftest import WEYLFEM, bar_table, mpi_env, run_cli

from weylfem.config import default_device_text, device_from_mapping
from weylfem.output.maps import LOG_SPAN, colour_scale, picture_metadata
from weylfem.run import mesh_only, run_device

PICTURES = ("phi_c.png", "phi_v.png")


def strip_text(dimension: int) -> str:
    """The default nonlocal strip (30 um x 1 um, 3D: x 0.5 um), coarser, as TOML."""
    sizes = {"mesh_size": 0.3, "size": 0.15} if dimension == 2 else {"mesh_size": 0.4, "size": 0.25}
    text = re.sub(r"^dimension = 3", f"dimension = {dimension}", default_device_text(), flags=re.M)
    for key, value in sizes.items():
        text, count = re.subn(rf"^{key} = [0-9.]+", f"{key} = {value}", text, flags=re.M)
        assert count == 1, key
    return text


def strip_table(dimension: int) -> dict:
    """`strip_text` read."""
    return tomllib.loads(strip_text(dimension))


def valley_bar_table() -> dict:
    """A 2D TaAs bar 10 um x 2 um with B along the current: the anomaly pumps a valley
    imbalance all along it (no decades)."""
    table = bar_table()
    table["geometry"].update(dimension=2, mesh_size=0.3)
    table["regions"]["channel"]["material"] = "TaAs"
    table["physics"]["transport"] = "charge_valley"
    table["fields"]["magnetic_field_T"] = [1.0, 0.0, 0.0]
    return table


def contact_names(table: dict) -> list[str]:
    return sorted(table["contacts"])


def check_axes(meta: dict, dimension: int) -> None:
    """Position axes in micrometres: x-y (2D), top x-y and front x-z (3D); scale bar."""
    expected = (
        [["x (µm)", "y (µm)"]] if dimension == 2 else [["x (µm)", "y (µm)"], ["x (µm)", "z (µm)"]]
    )
    assert meta["axis_labels"] == expected
    assert meta["scale_bar"].endswith(" µm")


def test_colour_scale_follows_the_data():
    """A decay over 3 decades is symmetric-log with its linear part below the 5th
    percentile; a ramp is linear (signed: symmetric about 0; else from min to max)."""
    x = np.linspace(0.0, 1.0, 1001)
    decay = 1e-11 * np.exp(-x * np.log(1e3))
    scale = colour_scale(decay, signed=True)
    assert scale.kind == "symlog" and scale.symmetric and scale.cmap == "RdBu_r"
    assert scale.vmax == pytest.approx(1e-11) and scale.vmin == pytest.approx(-1e-11)
    assert scale.linthresh == pytest.approx(np.percentile(decay, 5))
    assert scale.span == pytest.approx(1e-11 / np.percentile(decay, 5)) and scale.span > LOG_SPAN
    ramp = 2e-3 * x
    linear = colour_scale(ramp, signed=False)
    assert (linear.kind, linear.symmetric, linear.vmin, linear.vmax) == ("linear", False, 0, 2e-3)
    assert linear.span == pytest.approx(2e-3 / np.percentile(ramp[1:], 5))  # the zero left out
    signed = colour_scale(ramp - 1e-3, signed=False)  # both signs: symmetric
    assert (signed.kind, signed.symmetric, signed.vmin) == ("linear", True, -1e-3)
    # roundoff-sized values (a file's zeros) do not move the limits
    assert colour_scale(np.append(ramp, -1e-25), signed=False).vmin == 0.0


def run(table: dict, out: Path, comm) -> dict:
    return run_device(device_from_mapping(table, "dev.toml"), out, comm=comm, quiet=True)


@pytest.mark.mpi
def test_nonlocal_strip_pictures(shared_tmp_path, comm):
    """The nonlocal strip (2D): phi_v spans decades along it (symmetric-log scale, its
    profile on a symlog axis), phi_c does not (linear); every contact labelled; the
    scale limits are the field's largest magnitude (any number of ranks)."""
    table = strip_table(2)
    results = run(table, shared_tmp_path / "out", comm)
    assert set(PICTURES) <= set(results["outputs"].values())
    comm.barrier()
    phi_v = picture_metadata(shared_tmp_path / "out" / "phi_v.png")
    assert phi_v["norm"] == "symlog" and phi_v["symmetric"] and phi_v["span"] > LOG_SPAN
    assert phi_v["vmin"] == -phi_v["vmax"] and 0 < phi_v["linthresh"] < phi_v["vmax"] / LOG_SPAN
    assert phi_v["profile"]["yscale"] == "symlog"
    assert "symmetric-log" in phi_v["colour_bar_label"] and phi_v["colour_bar_label"].startswith(
        "φ_v (V)"
    )
    phi_c = picture_metadata(shared_tmp_path / "out" / "phi_c.png")
    assert phi_c["norm"] == "linear" and phi_c["span"] < LOG_SPAN
    for meta in (phi_c, phi_v):
        check_axes(meta, 2)
        assert meta["contact_labels"] == contact_names(table)
        assert meta["legend"] == ["current contact", "voltage contact", "floating probe"]
    # the limits are the field's own: the largest |phi| at the contacts' scale
    contacts = results["contacts"]
    largest_contact = max(abs(c["voltage_V"]) for c in contacts.values())
    assert phi_c["vmax"] >= 0.999 * largest_contact


@pytest.mark.mpi
def test_bar_and_3d_pictures(shared_tmp_path, comm):
    """A bar: phi_c linear from 0 to the source voltage, phi_v linear and symmetric;
    a 3D strip: seen from above and the front, phi_v still symmetric-log."""
    table = valley_bar_table()
    run(table, shared_tmp_path / "bar", comm)
    comm.barrier()
    phi_c = picture_metadata(shared_tmp_path / "bar" / "phi_c.png")
    source = table["contacts"]["source"]["voltage_V"]
    assert (phi_c["norm"], phi_c["symmetric"], phi_c["cmap"]) == ("linear", False, "viridis")
    assert phi_c["vmin"] == 0.0 and phi_c["vmax"] == pytest.approx(source, rel=1e-5)
    phi_v = picture_metadata(shared_tmp_path / "bar" / "phi_v.png")
    assert (phi_v["norm"], phi_v["symmetric"], phi_v["cmap"]) == ("linear", True, "RdBu_r")
    assert phi_v["profile"] is None  # 10 um x 2 um: no profile panel
    for meta in (phi_c, phi_v):
        check_axes(meta, 2)
        assert meta["contact_labels"] == ["drain", "source"]
        assert meta["legend"] == ["voltage contact"]
    table = strip_table(3)
    run(table, shared_tmp_path / "strip3d", comm)
    comm.barrier()
    phi_v = picture_metadata(shared_tmp_path / "strip3d" / "phi_v.png")
    assert phi_v["views"] == ["top (x–y)", "front (x–z)"] and phi_v["norm"] == "symlog"
    check_axes(phi_v, 3)
    assert phi_v["contact_labels"] == contact_names(table)


@pytest.mark.mpi
def test_mesh_picture(shared_tmp_path, comm):
    """mesh.png: every region and named boundary (walls included) in the legend, the
    contacts labelled, axes in micrometres."""
    table = strip_table(2)
    report = mesh_only(device_from_mapping(table, "dev.toml"), shared_tmp_path / "m", comm)
    comm.barrier()
    meta = picture_metadata(shared_tmp_path / "m" / "mesh.png")
    assert meta["legend"] == ["channel", *report["boundaries"]] and "walls" in meta["legend"]
    assert meta["contact_labels"] == contact_names(table)
    assert meta["cells"] == report["mesh"]["cells"]
    check_axes(meta, 2)


def all_metadata(directory: Path) -> dict:
    return {
        p.name: picture_metadata(p)
        for p in sorted(directory.glob("*.png"))
        if p.name != "four_probe.png"
    }


def data_bytes(directory: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.suffix != ".png"}


@pytest.mark.serial
def test_plot_redraws_the_pictures_from_the_files(tmp_path):
    """`weylfem plot OUT` (no DOLFINx imported) recreates phi_c.png, phi_v.png and
    mesh.png with the metadata of the run (serial and on 2 ranks), the data files
    byte for byte unchanged."""
    (tmp_path / "strip.toml").write_text(strip_text(2))
    (tmp_path / "strip3d.toml").write_text(strip_text(3))
    mpirun = ("mpirun", "-n", "2")
    made = {}
    for out, args, launcher in (
        ("serial", ("run", "strip.toml"), ()),
        ("parallel", ("run", "strip.toml"), mpirun),
        ("serial3d", ("run", "strip3d.toml"), ()),
        ("mesh", ("mesh", "strip.toml"), mpirun),
    ):
        done = run_cli(*args, "--out", out, cwd=tmp_path, launcher=launcher)
        assert done.returncode == 0, done.stderr
        made[out] = all_metadata(tmp_path / out)
    assert set(made["serial"]) == set(PICTURES) and set(made["mesh"]) == {"mesh.png"}
    assert made["parallel"] == made["serial"]  # the same pictures on 2 ranks
    for out, pictures in made.items():
        data = data_bytes(tmp_path / out)
        for name in pictures:
            (tmp_path / out / name).unlink()
        redrawn = run_cli("plot", out, cwd=tmp_path)
        assert redrawn.returncode == 0, redrawn.stderr
        assert all(name in redrawn.stdout for name in pictures), redrawn.stdout
        assert all_metadata(tmp_path / out) == pictures, out
        assert data_bytes(tmp_path / out) == data
    # the plot path imports no DOLFINx (h5py's HDF5 and DOLFINx's must not meet)
    code = (
        "import sys; from weylfem.cli import main; from weylfem.output.replot import redraw;"
        " redraw(sys.argv[1]); print(sorted(m for m in sys.modules if m.startswith('dolfinx')))"
    )
    probe = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "serial")],
        capture_output=True,
        text=True,
        env=mpi_env(),
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"
    assert WEYLFEM.is_file()
    assert json.loads((tmp_path / "serial" / "results.json").read_text())["groups"]["regions"] == {
        "channel": 1
    }
