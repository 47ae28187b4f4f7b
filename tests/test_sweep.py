"""Sweeps (`weylfem sweep`, `weylfem.sweep.run_sweep`) against closed forms.

- Planar Hall: in the bulk of a charge_valley conductor the anomaly adds Son-Spivak's
  Delta sigma = (dsigma/dB^2) B^2 along B (docs/theory.md Sec. 2), so
  rho = (1/sigma)(1 - Delta sigma/(sigma + Delta sigma) b b^T), and a 2D Hall bar with
  floating probes gives, per metre of depth, R_xy = rho_yx = -Delta sigma sin phi cos phi
  /(sigma (sigma + Delta sigma)) and R_xx = rho_xx dx/W.  The Hall probes' arms
  (0.1 um wide on a 2 um bar) change R_xy by the finite width of their junctions:
  measured |R_xy| 1.5-2.9% above the closed form from 15 to 75 degrees (7% with 0.5 um
  arms; it shrinks with the arm width, not with the mesh or lambda_v), hence 4%; R_xx
  within 6e-4; R_xy vanishes at 0 and 90 degrees (to the mesh's asymmetry).
- Two-terminal 2D ohmic bar: R = L/(sigma W) per metre of depth at every width (one mesh
  per width) and drive.
- Serial equals `--groups 2` under mpirun -n 2; an interrupted sweep resumes with the
  points not yet solved; bad --set values stop before meshing with one line, exit 2.
"""

import json
import math

import numpy as np
import pytest
from conftest import run_cli

from weylfem.config import device_from_mapping
from weylfem.errors import ConfigError
from weylfem.sweep import SweepSpec, parse_assignment, run_sweep

HALL_BAR = {
    "name": "planar Hall bar",
    "geometry": {
        "kind": "hall_bar",
        "dimension": 2,
        "length": 12.0,
        "width": 2.0,
        "probe_pairs": 2,
        "arm_width": 0.1,
        "arm_length": 1.0,
        "mesh_size": 0.05,
    },
    "materials": {"short": {"base": "TaAs", "valley_conductivity_S_per_m": 200.0}},
    "regions": {"channel": {"material": "short"}},
    "contacts": {
        "source": {"current_A": 1e-3},
        "drain": {"voltage_V": 0.0},
        **{f"probe_{i}_{s}": {"floating": True} for i in (1, 2) for s in ("bottom", "top")},
    },
    "four_probe": {
        "xx": {"current": ["source", "drain"], "voltage": ["probe_1_bottom", "probe_2_bottom"]},
        "xy": {"current": ["source", "drain"], "voltage": ["probe_1_bottom", "probe_1_top"]},
    },
    "fields": {"magnetic_field_T": [3.0, 0.0, 0.0]},
    "physics": {"transport": "charge_valley"},
    "output": {"png": False},
}

BAR = {
    "name": "bar",
    "geometry": {"kind": "bar", "dimension": 2, "length": 4.0, "width": 1.0, "mesh_size": 0.5},
    "regions": {"channel": {"material": "Co3Sn2S2"}},
    "contacts": {"source": {"voltage_V": 1e-3}, "drain": {"voltage_V": 0.0}},
    "output": {"png": False},
}


def spec(*assignments: str, zipped: bool = False) -> SweepSpec:
    return SweepSpec(tuple(parse_assignment(a) for a in assignments), zipped)


def rows(out) -> list[dict]:
    return json.loads((out / "table.json").read_text())["rows"]


@pytest.mark.mpi
def test_planar_hall_sweep_matches_closed_form(shared_tmp_path, comm):
    angles = "fields.B_phi_deg=0,15,45,75,90"
    results = run_sweep(HALL_BAR, "hall.toml", spec(angles), shared_tmp_path / "s", comm)
    assert results["points"] == 5 and results["meshes_built"] == 1
    material = device_from_mapping(HALL_BAR, "hall").material_of("channel")
    sigma = material.conductivity_S_per_m
    extra = material.son_spivak_coefficient_S_per_m_T2 * 3.0**2
    table = rows(shared_tmp_path / "s")
    assert [row["fields.B_phi_deg"] for row in table] == [0, 15, 45, 75, 90]
    hall_45 = table[2]["R_xy_ohm"]
    for row in table:
        phi = math.radians(row["fields.B_phi_deg"])
        assert [row["B_x_T"], row["B_y_T"]] == pytest.approx(
            [3 * math.cos(phi), 3 * math.sin(phi)], abs=1e-12
        )
        rho_yx = -extra / (sigma * (sigma + extra)) * math.sin(phi) * math.cos(phi)
        rho_xx = (1 - extra / (sigma + extra) * math.cos(phi) ** 2) / sigma
        if row["fields.B_phi_deg"] in (0, 90):
            # only the mesh's asymmetry (measured 3e-4 of R_xy at 45 degrees)
            assert abs(row["R_xy_ohm"]) < 1e-3 * abs(hall_45)
        else:
            assert row["R_xy_ohm"] == pytest.approx(rho_yx, rel=0.04)
        assert row["R_xx_ohm"] == pytest.approx(rho_xx * 4.0 / 2.0, rel=0.03)
        current = row["I_source_A"]
        assert current == pytest.approx(1e-3, rel=1e-12) and row["I_drain_A"] == pytest.approx(
            -current, rel=1e-9
        )
    # negative longitudinal magnetoresistance, largest with B along the current
    assert table[0]["MR_xx"] == 0.0 and table[-1]["MR_xx"] > 0.5


@pytest.mark.mpi
def test_width_and_drive_grid_of_an_ohmic_bar(shared_tmp_path, comm):
    """R = L/(sigma W) per metre of depth; one mesh per width; a zipped sweep pairs."""
    out = shared_tmp_path / "grid"
    results = run_sweep(
        BAR,
        "bar.toml",
        spec("geometry.width=0.5:1.5:3", "contacts.source.voltage_V=1e-3,2e-3"),
        out,
    )
    assert results["points"] == 6 and results["meshes_built"] == 3 * min(comm.size, 1)
    sigma = device_from_mapping(BAR, "bar").material_of("channel").conductivity_S_per_m
    for row in rows(out):
        width = row["geometry.width"] * 1e-6
        assert row["R_two_terminal_ohm"] == pytest.approx(4e-6 / (sigma * width), rel=1e-10)
        assert row["V_source_V"] == row["contacts.source.voltage_V"]
    zipped = run_sweep(
        BAR,
        "bar.toml",
        spec("geometry.width=0.5,1.0", "contacts.source.voltage_V=1e-3,2e-3", zipped=True),
        shared_tmp_path / "zip",
    )
    assert zipped["points"] == 2
    table = rows(shared_tmp_path / "zip")
    assert [(r["geometry.width"], r["contacts.source.voltage_V"]) for r in table] == [
        (0.5, 1e-3),
        (1.0, 2e-3),
    ]


class Stop(Exception):
    """Stands for the sweep being killed."""


@pytest.mark.serial
def test_interrupted_sweep_resumes_with_the_points_not_done(shared_tmp_path, comm):
    values = spec("fields.B_T=0:2:5")
    table = {**BAR, "physics": {"transport": "charge_valley"}}
    table["fields"] = {"magnetic_field_T": [1.0, 0.0, 0.0]}
    full = run_sweep(table, "bar.toml", values, shared_tmp_path / "full")
    out = shared_tmp_path / "cut"
    lines = []

    def stop_after_two(line: str) -> None:
        lines.append(line)
        if len(lines) == 2:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(table, "bar.toml", values, out, log=stop_after_two)
    running = shared_tmp_path / "cut.running"
    done = sorted(p.name for p in running.glob("point-*.json"))
    assert done == ["point-00000.json", "point-00001.json"]
    kept = {name: (running / name).stat().st_mtime_ns for name in done}
    with pytest.raises(ConfigError, match="--resume"):
        run_sweep(table, "bar.toml", values, out)  # a fresh sweep would lose it
    with pytest.raises(ConfigError, match="interrupted sweep"):
        run_sweep(table, "bar.toml", spec("fields.B_T=0:2:4"), out, resume=True)
    resumed = run_sweep(table, "bar.toml", values, out, resume=True)
    assert resumed["points"] == full["points"] == 5
    assert not running.exists()
    for name, stamp in kept.items():
        assert (out / name).stat().st_mtime_ns == stamp  # not solved again
    first, second = rows(shared_tmp_path / "full"), rows(out)
    for a, b in zip(first, second, strict=True):
        assert b["R_two_terminal_ohm"] == pytest.approx(a["R_two_terminal_ohm"], rel=1e-9)
    conductance = [1 / r["R_two_terminal_ohm"] for r in first]
    assert np.all(np.diff(conductance) > 0)  # Son-Spivak: more current at larger B || I


@pytest.mark.serial
def test_serial_equals_two_groups_under_mpirun(tmp_path):
    (tmp_path / "hall.toml").write_text(toml(HALL_BAR))
    args = ("sweep", "hall.toml", "--set", "fields.B_phi_deg=0:90:4", "--set", "fields.B_T=1,3")
    serial = run_cli(*args, "--out", "serial", cwd=tmp_path)
    assert serial.returncode == 0, serial.stderr
    launcher = ("mpirun", "-n", "2")
    parallel = run_cli(*args, "--out", "mpi", "--groups", "2", cwd=tmp_path, launcher=launcher)
    assert parallel.returncode == 0, parallel.stderr
    assert "on 2 group(s), 2 mesh(es)" in parallel.stdout
    assert parallel.stdout.count("sweep of planar Hall bar") == 1  # rank 0 only
    one, two = rows(tmp_path / "serial"), rows(tmp_path / "mpi")
    assert len(one) == 8
    for a, b in zip(one, two, strict=True):
        for key, value in a.items():
            if key.startswith(("R_", "V_")):
                assert b[key] == pytest.approx(value, rel=1e-8, abs=1e-14), key
    header = (tmp_path / "serial" / "table.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["point", "fields.B_phi_deg", "fields.B_T", "B_x_T", "B_y_T", "B_z_T"]
    assert {"V_probe_1_top_V", "I_source_A", "R_xx_ohm", "R_xy_ohm", "MR_xx"} <= set(header)


@pytest.mark.serial
@pytest.mark.parametrize(
    ("assignment", "fragment"),
    [
        ("fields.B_T=abc", "--set fields.B_T: expected numbers, got 'abc'"),
        ("contacts.nope.voltage_V=1", "expected a name of the device's contacts"),
        ("geometry.nonsense=1", "geometry.nonsense"),
        ("contacts.source.voltage_V=0:1:x", "expected a range START:STOP:N"),
        ("regions.channel.material=TaAs,nope", "expected a known material"),
        ("B_T", "expected KEY=VALUES"),
    ],
)
def test_bad_set_stops_before_meshing(tmp_path, assignment, fragment):
    (tmp_path / "bar.toml").write_text(toml(BAR))
    result = run_cli("sweep", "bar.toml", "--set", assignment, "--out", "o", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bar.toml: "), result.stderr
    assert fragment in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bar.toml"]


def toml(table: dict, prefix: str = "") -> str:
    """A device table as TOML (tables, numbers, strings, booleans, lists)."""

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines, tables = [], []
    for key, v in table.items():
        (tables if isinstance(v, dict) else lines).append((key, v))
    text = ""
    if prefix and lines:
        text += f"[{prefix}]\n"
    text += "".join(f"{k} = {value(v)}\n" for k, v in lines)
    for key, v in tables:
        text += toml(v, f"{prefix}.{key}" if prefix else key)
    return text


@pytest.mark.serial
def test_plot_redraws_a_finished_sweep_and_run(tmp_path):
    """`weylfem plot OUT` recreates sweep.png and a run's pictures from the
    files (no solve: the point files are untouched)."""
    table = {**HALL_BAR, "output": {"png": True}}
    table["geometry"] = {**HALL_BAR["geometry"], "mesh_size": 0.2, "arm_width": 0.5}
    (tmp_path / "hall.toml").write_text(toml(table))
    made = run_cli("sweep", "hall.toml", "--set", "fields.B_phi_deg=0:90:3", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    ran = run_cli("run", "hall.toml", "--out", "run", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    run_pictures = ["phi_c.png", "phi_v.png", "four_probe.png"]
    for out, names in (("weylfem-sweep", ["sweep.png"]), ("run", run_pictures)):
        pictures = [tmp_path / out / name for name in names]
        stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob(f"{out}/*.json")}
        for picture in pictures:
            picture.unlink()
        redrawn = run_cli("plot", out, cwd=tmp_path)
        assert redrawn.returncode == 0, redrawn.stderr
        assert f"redrew {', '.join(names)}" in redrawn.stdout
        for picture in pictures:
            assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert stamps == {p.name: p.stat().st_mtime_ns for p in tmp_path.glob(f"{out}/*.json")}
    refused = run_cli("plot", "hall.toml", cwd=tmp_path)
    assert refused.returncode == 2 and "expected the output of a finished" in refused.stderr
