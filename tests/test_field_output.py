"""Field files open as one dataset: every XDMF file a run writes is read back with meshio
5.3.5 (``meshio.read`` for one time, ``TimeSeriesReader`` for several) and its arrays
are checked against the solution: the exact linear potential and uniform current of an
ohmic bar, the region and facet tags, the times and the uniform valley potential of a
transient, unit magnetization at every node of a dynamics run.  Serial and on 2 ranks.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import bar_table, magnet_film_table

from weylfem.config import device_from_mapping
from weylfem.run import run_device

pytestmark = pytest.mark.mpi

READER = Path(__file__).with_name("read_field_file.py")


def read_fields(path: Path, kind: str) -> dict[str, np.ndarray]:
    """The arrays meshio reads from `path` (in a separate process: see read_field_file)."""
    out = path.with_name(path.name + ".npz")
    subprocess.run([sys.executable, str(READER), str(path), str(out), kind], check=True)
    with np.load(out) as data:
        return dict(data)


def test_ohmic_bar_fields_are_one_grid(shared_tmp_path, comm):
    """phi_c = V (1 - x/L) at every node, J = (I/A, 0, 0) in every cell, region tags of
    the channel, and the contacts' facets of area W T in the boundaries file."""
    table = bar_table()
    table["geometry"]["mesh_size"] = 0.5
    table["output"]["png"] = False
    device = device_from_mapping(table, "bar")
    out = shared_tmp_path / "bar"
    results = run_device(device, out, comm, quiet=True)
    comm.barrier()
    if comm.rank != 0:
        return
    assert {"fields.xdmf", "fields_boundaries.xdmf"} <= set(results["outputs"].values())
    fields = read_fields(out / "fields.xdmf", "single")
    length, width, thickness = 10e-6, 2e-6, 0.5e-6
    voltage = results["contacts"]["source"]["voltage_V"]
    current = results["contacts"]["source"]["current_A"]
    points = fields["points"]
    assert len(points) == results["mesh"]["vertices"]
    assert len(fields["cells"]) == results["mesh"]["cells"]
    phi = fields["point/phi_c"][:, 0]
    np.testing.assert_allclose(phi, voltage * (1 - points[:, 0] / length), atol=1e-9 * voltage)
    current_density = fields["cell/J"]
    assert current_density.shape == (len(fields["cells"]), 3)
    expected = np.array([current / (width * thickness), 0.0, 0.0])
    np.testing.assert_allclose(
        current_density, np.broadcast_to(expected, current_density.shape), atol=1e-7 * expected[0]
    )
    np.testing.assert_array_equal(fields["cell/regions"][:, 0], 1.0)

    facets = read_fields(out / "fields_boundaries.xdmf", "single")
    groups = json.loads((out / "device.json").read_text())["contacts"]
    assert set(groups) == {"source", "drain"}
    tags = facets["cell/boundaries"][:, 0]
    corners = facets["points"][facets["cells"]]
    areas = 0.5 * np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    at_source = np.isclose(corners[:, :, 0], 0.0, atol=1e-12).all(axis=1)
    assert len(np.unique(tags[at_source])) == 1
    assert areas[at_source].sum() == pytest.approx(width * thickness, rel=1e-10)
    assert areas[tags == tags[at_source][0]].sum() == pytest.approx(width * thickness, rel=1e-10)


def test_transient_fields_are_one_time_series(shared_tmp_path, comm):
    """Snapshots at steps 0, 5, 10 as one collection: the times, the region tags at every
    time, phi_c between the contact voltages, phi_v uniform along the bar (the closed form
    of test_transient) and growing in time."""
    insulating = {"valley_conductance_S_per_m2": 0.0}
    table = {
        "geometry": {"kind": "bar", "dimension": 2, "length": 4.0, "width": 1.0, "mesh_size": 0.5},
        "regions": {"channel": {"material": "Co3Sn2S2"}},
        "contacts": {
            "source": {"voltage_V": 1e-3, **insulating},
            "drain": {"voltage_V": 0.0, **insulating},
        },
        "fields": {"magnetic_field_T": [1.0, 0.0, 0.0]},
        "physics": {"transport": "charge_valley"},
        "transient": {"end_time_s": 1e-10, "time_step_s": 1e-11, "snapshot_every": 5},
        "output": {"png": False},
    }
    out = shared_tmp_path / "transient"
    results = run_device(device_from_mapping(table, "transient"), out, comm, quiet=True)
    comm.barrier()
    if comm.rank != 0:
        return
    fields = read_fields(out / "fields.xdmf", "series")
    np.testing.assert_allclose(fields["times"], [0.0, 5e-11, 1e-10], rtol=1e-12)
    assert fields["points"].shape == (results["mesh"]["vertices"], 2)
    valley = []
    for k in range(3):
        np.testing.assert_array_equal(fields[f"{k}/cell/regions"], 1.0)
        phi_c = fields[f"{k}/point/phi_c"][:, 0]
        assert phi_c.min() == pytest.approx(0.0, abs=1e-12)
        assert phi_c.max() == pytest.approx(1e-3, rel=1e-9)
        phi_v = fields[f"{k}/point/phi_v"][:, 0]
        valley.append(phi_v.mean())
        assert np.ptp(phi_v) <= 1e-8 * max(abs(phi_v).max(), 1e-30)
    assert valley[0] == 0.0 and 0 < abs(valley[1]) < abs(valley[2])


def test_magnetization_snapshots_are_one_time_series(shared_tmp_path, comm):
    """m and B_eff at 0, 2, 4 ps in one collection; |m| = 1 at every node."""
    table = magnet_film_table()
    table["dynamics"].update(end_time_s=4e-12, snapshot_every=2)
    table["output"] = {"png": False}
    out = shared_tmp_path / "film"
    run_device(device_from_mapping(table, "film"), out, comm, quiet=True)
    comm.barrier()
    if comm.rank != 0:
        return
    fields = read_fields(out / "magnetization.xdmf", "series")
    np.testing.assert_allclose(fields["times"], [0.0, 2e-12, 4e-12], rtol=1e-12)
    for k in range(3):
        m = fields[f"{k}/point/m"]
        np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, rtol=1e-10)
        assert np.isfinite(fields[f"{k}/point/B_eff"]).all()
        np.testing.assert_array_equal(fields[f"{k}/cell/regions"], 1.0)
    assert (out / "magnetization_boundaries.xdmf").is_file()


PARAVIEW_SCRIPT = """
import sys
from paraview import servermanager
from paraview.simple import Xdmf3ReaderT
reader = Xdmf3ReaderT(FileName=[sys.argv[1]])
reader.UpdatePipeline(float(reader.TimestepValues[-1]) if reader.TimestepValues else 0.0)
data = servermanager.Fetch(reader)
assert data.IsA("vtkUnstructuredGrid"), data.GetClassName()
names = sorted(reader.PointData.keys()) + sorted(reader.CellData.keys())
print(" ".join(names), len(reader.TimestepValues or []), data.GetNumberOfCells())
"""


@pytest.mark.slow
@pytest.mark.serial
def test_paraview_opens_fields_as_one_dataset(tmp_path):
    """ParaView's own Python (pvpython, when installed) reads fields.xdmf of the default
    device as one unstructured grid with every array."""
    import shutil

    pvpython = shutil.which("pvpython")
    if pvpython is None:
        pytest.skip("ParaView's pvpython is not installed")
    results = run_device(device_from_mapping(bar_table(), "bar"), tmp_path / "out", quiet=True)
    script = tmp_path / "open.py"
    script.write_text(PARAVIEW_SCRIPT)
    shown = subprocess.run(
        [pvpython, str(script), str(tmp_path / "out" / "fields.xdmf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert shown[:3] == ["phi_c", "J", "regions"]
    assert int(shown[-1]) == results["mesh"]["cells"]
