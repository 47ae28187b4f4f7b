"""Device geometries (gmsh builders) and their distributed meshes."""

from weylfem.geometry.bar import BarGeometry
from weylfem.geometry.mesh import DeviceMesh, build_device_mesh, measure_groups

GEOMETRIES: dict[str, type] = {"bar": BarGeometry}
"""Geometry builders by the `kind` key of the [geometry] table."""

__all__ = ["GEOMETRIES", "BarGeometry", "DeviceMesh", "build_device_mesh", "measure_groups"]
