"""weylfem: finite-element device modelling of magnetic Weyl semimetals.

Public API::

    from weylfem import load_device, default_device, run_device
    results = run_device(load_device("device.toml"), "out")
"""

from weylfem import compat  # noqa: F401  (first: it sets up DOLFINx imports)
from weylfem.config import default_device, device_from_mapping, load_device
from weylfem.run import run_device
from weylfem.version import __version__

__all__ = ["__version__", "default_device", "device_from_mapping", "load_device", "run_device"]
