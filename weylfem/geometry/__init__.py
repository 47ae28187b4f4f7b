"""Device geometries (gmsh builders, users' files) and their distributed meshes."""

from weylfem.geometry.bar import BarGeometry
from weylfem.geometry.base import Geometry, Refinement
from weylfem.geometry.file import FileGeometry
from weylfem.geometry.hall_bar import HallBarGeometry
from weylfem.geometry.magnet_body import MagnetBodyGeometry
from weylfem.geometry.mesh import DeviceMesh, build_device_mesh, measure_groups
from weylfem.geometry.nonlocal_strip import NonlocalStripGeometry
from weylfem.geometry.ring import RingGeometry
from weylfem.geometry.stack import StackGeometry

GEOMETRIES: dict[str, type[Geometry]] = {
    "bar": BarGeometry,
    "hall_bar": HallBarGeometry,
    "nonlocal_strip": NonlocalStripGeometry,
    "stack": StackGeometry,
    "ring": RingGeometry,
    "magnet_body": MagnetBodyGeometry,
    "file": FileGeometry,
}
"""Geometry builders by the `kind` key of the [geometry] table."""

__all__ = [
    "GEOMETRIES",
    "BarGeometry",
    "DeviceMesh",
    "FileGeometry",
    "Geometry",
    "HallBarGeometry",
    "MagnetBodyGeometry",
    "NonlocalStripGeometry",
    "RingGeometry",
    "StackGeometry",
    "Refinement",
    "build_device_mesh",
    "measure_groups",
]
