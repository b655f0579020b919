"""The package version, and the code a result was made by (the git commit, in a checkout)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

__version__ = "0.2.0"


@functools.cache
def code_version() -> str:
    """``0.2.0`` for an installed package; in a git checkout ``0.2.0+g<commit>``, with
    ``.dirty`` when the package's sources differ from that commit. Records carry it, so that a
    table can say when its rows were made by different code."""
    root = Path(__file__).resolve().parent
    try:

        def git(*args: str) -> str:
            return subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10,
                check=True,
            ).stdout.strip()  # fmt: skip

        commit = git("rev-parse", "--short=10", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", str(root))
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}" + (".dirty" if dirty else "")
