"""The statistics a report shows, computed once when a study finishes and stored beside it.

Summaries with intervals, paired differences, ROC points, cross-cell matrices, learning curves
and the claims' verdicts come from bootstraps over seeds and genes that take seconds to
minutes; a report (and ``verdicts``) should draw, not compute. ``experiment`` calls
``report_tables.store`` at its end; every function decorated ``@stored`` then finds its result in
``RESULTS/report_tables/<digest>/`` and reads it back.

The digest is the SHA-256 of the folder's ``table.parquet`` (the records it was computed
from), so tables of an earlier state of the folder (a study resumed with more runs) are never
read for a later one. Tables are Parquet files with a JSON skeleton written last (a reader
sees a complete entry or none); nothing is unpickled. A folder without stored tables (made
before they existed, or unwritable) is computed as before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from .._io import atomic_write

log = logging.getLogger(__name__)

FOLDER = "report_tables"
F = TypeVar("F", bound=Callable[..., Any])
_MISSING = object()


def digest(folder: Path) -> str | None:
    """What the folder's tables were computed from: its table's SHA-256 (``None``: no table)."""
    table = Path(folder) / "table.parquet"
    if not table.is_file():
        return None
    return hashlib.sha256(table.read_bytes()).hexdigest()[:16]


def stored(fn: F) -> F:
    """``fn(results, ...)``'s value read from the results folder's stored tables when there,
    else computed and stored."""

    @functools.wraps(fn)
    def wrapper(results: Any, *args: Any, **kwargs: Any) -> Any:
        folder = getattr(results, "path", None)
        version = digest(folder) if folder is not None else None
        if version is None:
            return fn(results, *args, **kwargs)
        where = Path(folder) / FOLDER / version
        key = fn.__name__
        if args or kwargs:
            text = json.dumps([args, kwargs], sort_keys=True, default=str)
            key += "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
        value = _read(where, key)
        if value is _MISSING:
            value = fn(results, *args, **kwargs)
            _write(where, key, value)
        return value

    return wrapper  # type: ignore[return-value]


def _encode(value: Any, frames: list[pd.DataFrame]) -> Any:
    if isinstance(value, pd.DataFrame):
        frames.append(value)
        return {"frame": len(frames) - 1}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(v, frames) for v in value]}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return {"value": value.item()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return {"value": value}
    raise TypeError(f"cannot store a {type(value).__name__}")


def _decode(node: Any, frames: list[pd.DataFrame]) -> Any:
    if "frame" in node:
        return frames[node["frame"]]
    if "list" in node:
        return [_decode(v, frames) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, frames) for v in node["tuple"])
    return node["value"]


def _write(where: Path, key: str, value: Any) -> None:
    frames: list[pd.DataFrame] = []
    try:
        skeleton = _encode(value, frames)
        where.mkdir(parents=True, exist_ok=True)
        for i, frame in enumerate(frames):
            with atomic_write(where / f"{key}.{i}.parquet", "wb") as fh:
                frame.to_parquet(fh)
        with atomic_write(where / f"{key}.json") as fh:  # last: marks the entry complete
            json.dump({"skeleton": skeleton, "frames": len(frames)}, fh)
    except (OSError, TypeError, ValueError) as exc:  # unwritable, or not storable: computed
        log.debug("report table %s not stored (%s)", key, exc)


def _read(where: Path, key: str) -> Any:
    entry = where / f"{key}.json"
    if not entry.is_file():
        return _MISSING
    try:
        meta = json.loads(entry.read_text())
        frames = [pd.read_parquet(where / f"{key}.{i}.parquet") for i in range(meta["frames"])]
        return _decode(meta["skeleton"], frames)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("stored report table %s unreadable (%s): computing it", key, exc)
        return _MISSING
