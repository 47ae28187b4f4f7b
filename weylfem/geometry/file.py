"""Users' own geometry: a gmsh `.geo` script or `.msh` mesh with named physical groups."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from weylfem import interrupts
from weylfem.geometry.base import Geometry


def merge(gmsh, path: str) -> None:
    """gmsh.merge(path), leaving gmsh's .geo parser usable when it fails: after a syntax
    error the parser fails once more on the next script, whatever it holds (gmsh 4.11,
    even across finalize/initialize; an unreadable .msh is parsed as a script too), so a
    failed merge is followed by a throwaway parse of a comment-only script before the
    error is raised."""
    try:
        gmsh.merge(path)
    except Exception:
        with tempfile.NamedTemporaryFile("w", suffix=".geo") as flush:
            flush.write("// resets the .geo parser after a syntax error\n")
            flush.flush()
            try:
                gmsh.merge(flush.name)
            except Exception:  # the expected stale-parser failure
                pass
        raise


@functools.lru_cache(maxsize=16)
def read_groups(path: str) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """(top dimension, region names, boundary names) of the physical groups in a file.

    Raises OSError for a missing file and ValueError for one gmsh cannot read or that
    has no named physical groups."""
    import gmsh

    if not Path(path).is_file():
        raise OSError(f"no such file: {path}")
    started = not gmsh.isInitialized()
    if started:
        gmsh.initialize(interruptible=False)
        interrupts.restore()  # gmsh.initialize resets SIGTERM to its default
        gmsh.option.setNumber("General.Terminal", 0)
    previous = gmsh.model.getCurrent() if not started else None
    gmsh.model.add("weylfem-probe")
    try:
        try:
            merge(gmsh, path)
        except Exception as error:  # gmsh raises a bare Exception with its log message
            raise ValueError(f"gmsh cannot read it ({error})") from None
        groups = gmsh.model.getPhysicalGroups()
        if not groups:
            raise ValueError("it has no physical groups")
        dim = max(d for d, _ in groups)
        names = {
            d: tuple(gmsh.model.getPhysicalName(d, t) for dd, t in groups if dd == d)
            for d in (dim, dim - 1)
        }
        if any(not name for group in names.values() for name in group):
            raise ValueError("every physical group of dimension d and d-1 needs a name")
        return dim, names[dim], names[dim - 1]
    finally:
        gmsh.model.remove()
        if started:
            gmsh.finalize()
        elif previous:
            gmsh.model.setCurrent(previous)


@dataclass(frozen=True, kw_only=True)
class FileGeometry(Geometry):
    """A `.geo` (meshed with `mesh_size` and refinements) or `.msh` (used as it is) file.

    Regions are the physical groups of the top dimension, boundaries and interfaces those
    one dimension lower; coordinates are in `length_unit`.  A relative `path` is taken
    relative to the device file."""

    kind: Literal["file"] = "file"
    path: str

    def validate(self):
        """The file must exist, be readable by gmsh and match `dimension`."""
        suffix = Path(self.path).suffix
        if suffix not in (".geo", ".msh"):
            yield "path", f"expected a gmsh .geo or .msh file, got {self.path!r}"
            return
        try:
            dim, _, _ = read_groups(self.path)
        except (OSError, ValueError) as error:
            yield "path", f"expected a readable gmsh file with named physical groups: {error}"
            return
        if dim != self.dimension:
            yield "dimension", f"expected {dim}, the dimension of the regions in {self.path}"
            return
        yield from super().validate()

    def cell_groups(self) -> tuple[str, ...]:
        """Region names found in the file."""
        return read_groups(self.path)[1]

    def facet_groups(self) -> tuple[str, ...]:
        """Boundary and interface names found in the file."""
        return read_groups(self.path)[2]

    def add_to_gmsh(self, gmsh) -> None:
        """Load the file into the current model (a .msh brings its mesh along)."""
        merge(gmsh, self.path)
