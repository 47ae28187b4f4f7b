"""Physical constants in SI units (CODATA 2018; e, h and hence hbar are exact)."""

import math

ELEMENTARY_CHARGE = 1.602176634e-19
"""e (C), positive."""
PLANCK = 6.62607015e-34
"""h (J s)."""
HBAR = PLANCK / (2 * math.pi)
"""Reduced Planck constant (J s)."""
ELECTRON_VOLT = ELEMENTARY_CHARGE
"""One electronvolt in joules."""
VACUUM_PERMEABILITY = 1.25663706212e-6
"""mu_0 (T m / A)."""
BOHR_MAGNETON = 9.2740100783e-24
"""mu_B (J / T)."""
ELECTRON_GYROMAGNETIC_RATIO = 1.76085963023e11
"""|gamma_e| (rad / (s T))."""

METRES_PER_UNIT: dict[str, float] = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "nm": 1e-9}
"""Metres in one geometry length unit (`weylfem.geometry.units.LengthUnit`)."""
