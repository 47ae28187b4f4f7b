"""series.csv of a time-stepped run, written a row at a time.

Rank 0 appends each row and flushes it, so a killed run keeps every row written before
it died; `sync` also forces them to disk (at every checkpoint).  A resumed run first cuts
the file back to the rows of the steps up to its checkpoint (the first column is then the
step), which it then recomputes.  Numbers are written with 17 significant digits (they
read back to the same float).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from mpi4py import MPI

from weylfem.output.staging import replace_atomically


class SeriesFile:
    """The series file, open for appending on rank 0 (a context manager; collective)."""

    def __init__(
        self, path: Path, columns: list[str], comm: MPI.Comm, keep_until: int | None = None
    ):
        """A new file with the header, or (`keep_until` = a step) the existing file cut
        back to the rows of steps <= keep_until."""
        self.comm = comm
        self.file = None
        if comm.rank != 0:
            return
        header = ",".join(columns)
        if keep_until is None:
            lines = [header]
        else:
            lines = path.read_text().splitlines()
            if not lines or lines[0] != header:
                raise ValueError(f"{path}: expected the columns {header}")
            kept = [line for line in lines[1:] if int(line.split(",")[0]) <= keep_until]
            lines = [header, *kept]
        text = "\n".join(lines) + "\n"
        replace_atomically(path, lambda file: file.write(text.encode()))
        self.file = open(path, "a")

    def write(self, values: Sequence[float]) -> None:
        """Append a row and flush it to the operating system (rank 0)."""
        if self.file is None:
            return
        self.file.write(",".join(f"{float(v):.17g}" for v in values) + "\n")
        self.file.flush()

    def sync(self) -> None:
        """Force the rows to disk."""
        if self.file is not None:
            os.fsync(self.file.fileno())

    def close(self) -> None:
        """Close the file."""
        if self.file is not None:
            self.file.close()
            self.file = None

    def __enter__(self) -> SeriesFile:
        return self

    def __exit__(self, *error) -> None:
        self.close()


def read_series(path: Path) -> dict[str, np.ndarray]:
    """The columns of a series file by name."""
    with open(path) as file:
        names = file.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: data[:, i] for i, name in enumerate(names)}
