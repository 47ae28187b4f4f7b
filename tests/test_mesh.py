"""Bar meshes: group measures equal the analytic values, the same on 1 and 2 ranks."""

import pytest

from weylfem.geometry import BarGeometry, build_device_mesh, measure_groups

pytestmark = pytest.mark.mpi


@pytest.mark.parametrize("dimension", [2, 3])
def test_bar_group_measures(dimension, comm):
    geometry = BarGeometry(dimension=dimension, length=6.0, width=1.5, thickness=0.5, mesh_size=0.5)
    device_mesh = build_device_mesh(geometry, comm)
    sizes = measure_groups(device_mesh)
    um = 1e-6
    if dimension == 3:
        expected = {
            "channel": 6.0 * 1.5 * 0.5 * um**3,
            "source": 1.5 * 0.5 * um**2,
            "drain": 1.5 * 0.5 * um**2,
            "walls": 2 * (6.0 * 1.5 + 6.0 * 0.5) * um**2,
        }
    else:
        expected = {
            "channel": 6.0 * 1.5 * um**2,
            "source": 1.5 * um,
            "drain": 1.5 * um,
            "walls": 2 * 6.0 * um,
        }
    assert sizes.keys() == expected.keys()
    for name, value in expected.items():
        assert sizes[name] == pytest.approx(value, rel=1e-10), name
    assert device_mesh.cell_groups == {"channel": 1}
    assert device_mesh.facet_groups == {"source": 1, "drain": 2, "walls": 3}


def test_mesh_size_is_respected(comm):
    coarse = build_device_mesh(BarGeometry(dimension=2, mesh_size=1.0), comm).counts()
    fine = build_device_mesh(BarGeometry(dimension=2, mesh_size=0.25), comm).counts()
    assert fine["cells"] > 10 * coarse["cells"]
