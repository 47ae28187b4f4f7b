"""Device geometries (gmsh builders, users' files) and their distributed meshes."""

from weylfem.geometry.bar import BarGeometry
from weylfem.geometry.base import Geometry, Refinement
from weylfem.geometry.file import FileGeometry
from weylfem.geometry.mesh import DeviceMesh, build_device_mesh, measure_groups

GEOMETRIES: dict[str, type[Geometry]] = {"bar": BarGeometry, "file": FileGeometry}
"""Geometry builders by the `kind` key of the [geometry] table."""

__all__ = [
    "GEOMETRIES",
    "BarGeometry",
    "DeviceMesh",
    "FileGeometry",
    "Geometry",
    "Refinement",
    "build_device_mesh",
    "measure_groups",
]
