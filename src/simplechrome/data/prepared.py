"""Prepared cell folders: the sample sheet that goes in, the folder and manifest that come out.

``DIR/<cell>/`` holds ``classification/{train,valid,test}.csv`` (the DeepChrome format),
``genes.tsv`` (chromosome, TSS, strand, split, flags, expression) and ``manifest.json`` (inputs
with their SHA-256, options, marks, bin size, package version), which ``load_cell`` reads.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_directory, atomic_write
from ..errors import InputError
from . import tracks
from .histone import HistoneData
from .writers import write_deepchrome_csv

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


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


def write_prepared(
    splits: dict[str, HistoneData],
    genes: pd.DataFrame,
    clipped: np.ndarray,
    expr: pd.DataFrame | None,
    column: str,
    manifest: dict,
    folder: Path,
    overwrite: bool,
) -> Path:
    """Write the cell folder atomically: a reader sees the old folder or the complete new one."""
    from .. import __version__

    split_of = pd.Series("", index=genes.index)
    for name, part in splits.items():
        split_of[part.gene_ids] = name
    table = genes[["chrom", "tss", "strand", "gene_name"]].assign(
        split=split_of, near_chromosome_end=clipped.astype(int)
    )
    if expr is not None:
        table = table.assign(expression=expr[column].reindex(genes.index).to_numpy())
    try:
        with atomic_directory(folder, overwrite=overwrite) as tmp:
            for name, part in splits.items():
                write_deepchrome_csv(part, tmp / "classification" / f"{name}.csv")
            with atomic_write(tmp / "genes.tsv") as fh:
                table.to_csv(fh, sep="\t", index_label="gene_id")
            with atomic_write(tmp / MANIFEST) as fh:
                json.dump(manifest | {"version": __version__}, fh, indent=1)
    except FileExistsError:
        raise InputError(
            "output folder exists and is not empty (overwrite it?)", path=folder
        ) from None
    return folder


def read_manifest(folder: str | Path) -> dict | None:
    """A prepared cell folder's manifest, or ``None`` for other folders."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"unreadable manifest ({exc})", path=path) from None
