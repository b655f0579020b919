"""``.npz`` cache of parsed splits, keyed by the source file's content hash and parser version."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .._io import atomic_write, home
from .histone import HistoneData
from .readers import infer_cell_name

log = logging.getLogger(__name__)


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def cache_dir() -> Path:
    return home() / "cache"


def cached_read(
    path: str | Path, reader: Callable[[Path], HistoneData], *, key: str
) -> HistoneData:
    """``reader(path)``, memoised on disk by (file hash, ``key``).

    ``key`` names the reader, its version and any option that changes the result. The
    cache holds only what the file's bytes determine (signals, labels, ids, marks): the cell's
    name comes from ``path`` on every call (two folders holding the same files are two cells),
    and a corrupt or unreadable cache entry is ignored and rewritten.
    """
    path = Path(path)
    digest = hashlib.sha256(f"{file_hash(path)}:{key}".encode()).hexdigest()[:32]
    entry = cache_dir() / f"{digest}.npz"
    if entry.exists():
        try:
            with np.load(entry, allow_pickle=False) as z:
                y = z["y"] if z["has_y"] else None
                return HistoneData(
                    x=z["x"],
                    y=y,
                    gene_ids=z["gene_ids"],
                    marks=tuple(z["marks"].tolist()),
                    cell=infer_cell_name(path),
                    bin_size=int(z["bin_size"]),
                )
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable cache entry %s (%s)", entry, exc)
    data = reader(path)
    try:
        with atomic_write(entry, "wb") as fh:
            np.savez(
                fh,
                x=data.x,
                y=data.y if data.y is not None else np.zeros(0),
                has_y=data.y is not None,
                gene_ids=data.gene_ids,
                marks=np.array(data.marks),
                bin_size=data.bin_size,
            )
    except OSError as exc:  # a read-only or full cache never stops a load
        log.warning("could not write cache entry %s (%s)", entry, exc)
    return data
