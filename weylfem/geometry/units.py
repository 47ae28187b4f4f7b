"""The coordinate scale: meshes are built in a convenient length unit, physics is SI."""

from typing import Literal

from weylfem.constants import METRES_PER_UNIT

LengthUnit = Literal["m", "mm", "um", "nm"]

__all__ = ["METRES_PER_UNIT", "LengthUnit"]
