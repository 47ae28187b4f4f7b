"""What only the mesh shows is checked by the config layer, `config.check_mesh`, before
anything is built: the open-boundary demagnetization's shell must lie between two
concentric spheres (`demag.shell_spheres`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import magnet_film_table
from dolfinx import mesh as dolfinx_mesh

from weylfem.config import check_mesh, device_from_mapping
from weylfem.device import Magnetization
from weylfem.errors import ConfigError
from weylfem.geometry import DeviceMesh, MagnetBodyGeometry, build_device_mesh
from weylfem.magnet.demag import shell_spheres


def _open_boundary_device():
    device = device_from_mapping(magnet_film_table(), "dev.toml")
    return dataclasses.replace(device, magnetization=Magnetization("open_boundary"))


@pytest.mark.mpi
def test_shell_between_concentric_circles_passes(comm):
    geometry = MagnetBodyGeometry(
        dimension=2, air_radius=2.0, shell_radius=4.0, magnet_mesh_size=0.5, mesh_size=1.0
    )
    device_mesh = build_device_mesh(geometry, comm)
    center, inner, outer = shell_spheres(device_mesh)
    assert np.linalg.norm(center) < 1e-9
    assert (inner, outer) == pytest.approx((2e-6, 4e-6), rel=1e-6)
    check_mesh(_open_boundary_device(), device_mesh, "dev.toml")


@pytest.mark.mpi
def test_square_shell_is_a_config_error(comm):
    square = dolfinx_mesh.create_unit_square(comm, 4, 4)
    device_mesh = DeviceMesh.single_region(square, region="shell", boundary="infinity")
    assert shell_spheres(device_mesh) is None
    with pytest.raises(ConfigError) as info:
        check_mesh(_open_boundary_device(), device_mesh, "dev.toml")
    assert str(info.value) == (
        "dev.toml: magnetization.demagnetization: expected a shell between two concentric spheres"
    )
