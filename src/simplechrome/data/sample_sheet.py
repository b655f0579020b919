"""Sample sheets: the tab-separated list of tracks (``cell, mark, path[, format]``) that
``prepare`` reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from ..errors import InputError
from . import tracks


@dataclasses.dataclass(frozen=True)
class Track:
    """One row of a sample sheet."""

    cell: str
    mark: str
    path: Path
    format: str


def read_sheet(path: str | Path) -> list[Track]:
    """A tab-separated sample sheet with columns ``cell, mark, path`` and optional ``format``.

    Relative paths are relative to the sheet; the format defaults to the file extension
    (``.bw``/``.bigWig``, ``.bedGraph``/``.bdg``, ``.bam``, ``.tagAlign``/``.bed``, ``.gz`` too).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, comment="#", skip_blank_lines=True)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse sample sheet ({exc})", path=path) from None
    table.columns = [c.strip().lower() for c in table.columns]
    missing = [c for c in ("cell", "mark", "path") if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (need a header: cell, mark, path[, format])",
            path=path,
            line=1,
        )
    out: list[Track] = []
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(table.itertuples(index=False), start=2):
        cell, mark, file = (str(getattr(row, c) or "").strip() for c in ("cell", "mark", "path"))
        if not cell or not mark or not file or "nan" in (cell, mark, file):
            raise InputError("empty cell, mark or path", path=path, line=i)
        if (cell, mark) in seen:
            raise InputError(f"{cell} {mark} is listed twice", path=path, line=i)
        seen.add((cell, mark))
        track = Path(file) if Path(file).is_absolute() else path.parent / file
        fmt = str(getattr(row, "format", "") or "").strip().lower()
        if fmt in ("", "nan"):
            fmt = tracks.infer_format(track)
        elif fmt not in tracks.FORMATS:
            raise InputError(
                f"unknown format {fmt!r} (use {', '.join(tracks.FORMATS)})", path=path, line=i
            )
        if not track.exists():
            raise InputError(f"track not found: {track}", path=path, line=i)
        out.append(Track(cell, mark, track, fmt))
    if not out:
        raise InputError("no tracks listed", path=path)
    return out
