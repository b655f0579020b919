"""Atomic file writing: everything is written to a temporary file, then renamed."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the result is an ordinary file
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name; rename it to ``path`` when complete.

    A reader never sees a half-written directory: either the old one (or none) or the new one.
    """
    path = Path(path)
    if path.exists() and not overwrite and any(path.iterdir()):
        raise FileExistsError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def home() -> Path:
    """The cache/data directory: ``$SIMPLECHROME_HOME`` or ``~/.cache/simplechrome``."""
    env = os.environ.get("SIMPLECHROME_HOME")
    return Path(env) if env else Path.home() / ".cache" / "simplechrome"


def caching() -> bool:
    """Whether on-disk caches (parsed splits, pretrained VAEs) are used.

    ``SIMPLECHROME_CACHE=off`` turns them off: every load parses and every VAE is fitted, which
    leak tests need (a cache keyed without labels would otherwise compare a result with
    itself).
    """
    return os.environ.get("SIMPLECHROME_CACHE", "on").lower() not in ("off", "0", "no", "false")
