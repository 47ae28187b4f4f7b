"""The coordinate scale: meshes are built in a convenient length unit, physics is SI."""

from typing import Literal

LengthUnit = Literal["m", "mm", "um", "nm"]

METRES_PER_UNIT: dict[str, float] = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "nm": 1e-9}
"""Metres in one geometry length unit."""
