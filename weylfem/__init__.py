"""weylfem: finite-element device modelling of magnetic Weyl semimetals.

Public API::

    from weylfem import load_device, default_device, run_device
    results = run_device(load_device("device.toml"), "out")

The names are imported on first use, so that the parts that need no DOLFINx (`weylfem
plot`, which reads HDF5 through h5py and must not meet DOLFINx's HDF5 library in one
process) can be imported without it.
"""

from __future__ import annotations

import importlib

try:
    # Debian's DOLFINx 0.5.2 libraries, loaded first, capture the std::regex symbols that
    # VTK wheels use; VTK then crashes drawing a scalar bar.  Loading VTK's core library
    # before any DOLFINx import avoids it.
    import vtkmodules.vtkCommonCore  # noqa: F401
except ImportError:  # pyvista (the `plot` extra) not installed
    pass

from weylfem.version import __version__

_PUBLIC = {
    "default_device": "weylfem.config",
    "device_from_mapping": "weylfem.config",
    "load_device": "weylfem.config",
    "run_device": "weylfem.run",
}

__all__ = ["__version__", "default_device", "device_from_mapping", "load_device", "run_device"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'weylfem' has no attribute {name!r}")
