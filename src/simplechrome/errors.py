"""Exception types of simplechrome.

Library code raises these and never prints or exits; ``cli.py`` turns them into one line on
stderr and exit status 2.
"""

from __future__ import annotations

from pathlib import Path


class SimplechromeError(Exception):
    """Base class of every error the package raises on purpose."""


class InputError(SimplechromeError):
    """Bad user input: a file, a line or a gene that cannot be used.

    The message names where the problem is (file, line and/or gene) and what it is.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        gene: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        self.line = line
        self.gene = gene
        where = []
        if self.path is not None:
            where.append(self.path if line is None else f"{self.path}:{line}")
        elif line is not None:
            where.append(f"line {line}")
        if gene is not None:
            where.append(f"gene {gene}")
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {problem}" if prefix else problem)


class ConfigError(SimplechromeError):
    """A configuration key or value that is not accepted."""


class ModelMismatchError(SimplechromeError):
    """Data whose marks or bins differ from those a model was trained on."""


class DownloadError(SimplechromeError):
    """A download that failed, was truncated, or does not match its recorded hash."""


class RunError(SimplechromeError):
    """A run directory that is missing, incomplete or of an unknown format."""
