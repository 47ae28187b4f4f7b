"""Exceptions raised by weylfem.

`ConfigError` is bad input, found before anything is solved; the CLI prints it as
``error: FILE: KEY: what was expected`` and exits with status 2; `PathError` is one about a
path such as --out (``error: PATH: what was expected``).  `ConvergenceError`
is a solver that did not converge; `InternalError` a broken assumption of the numerics.
"""

from __future__ import annotations

import unicodedata

_CONTROL_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
"""Unicode categories escaped in error lines: control and format characters (newlines,
escape sequences, bidirectional overrides), surrogates and line/paragraph separators."""


def escape_controls(text: str) -> str:
    """`text` with every control character written as a Python escape (``\\n``, ``\\x1b``,
    ``\\u202e``), so that a message stays one line and prints no terminal control codes.
    Other characters, backslashes included, are kept: escaping twice changes nothing."""
    if text.isprintable():
        return text
    return "".join(
        repr(c)[1:-1] if unicodedata.category(c) in _CONTROL_CATEGORIES else c for c in text
    )


def has_controls(text: str) -> bool:
    """True if `text` has a character `escape_controls` would escape."""
    return escape_controls(text) != text


class WeylfemError(Exception):
    """Base class of every error weylfem raises on purpose."""


class ConfigError(WeylfemError):
    """Invalid device description: names the source file, the key and what was expected.
    The message is one line: control characters of the three parts are escaped."""

    def __init__(self, source: str, key: str, expected: str):
        self.source = source
        self.key = key
        self.expected = expected
        parts = (escape_controls(str(part)) for part in (source, key, expected))
        super().__init__(": ".join(parts))


class PathError(ConfigError):
    """A path given on the command line (such as --out) that cannot be used: printed as
    ``PATH: what was expected, what was found`` (control characters escaped)."""

    def __init__(self, path: str, expected: str):
        self.source, self.key, self.expected = path, "", expected
        self.path = path
        WeylfemError.__init__(self, f"{escape_controls(path)}: {expected}")


class ConvergenceError(WeylfemError):
    """A PETSc solver stopped without converging."""

    def __init__(self, solver: str, reason: str, iterations: int):
        self.solver = solver
        self.reason = reason
        self.iterations = iterations
        super().__init__(
            f"solver '{solver}' did not converge: {reason} after {iterations} iterations"
        )


class InternalError(WeylfemError):
    """An assumption of the numerics does not hold: a bug in weylfem (or in a term added
    to it), not bad input."""
