"""Prepared cell folders: what ``prepare`` writes and ``load_cell`` reads back.

``DIR/<cell>/`` holds ``classification/{train,valid,test}.csv`` (the DeepChrome format),
``genes.tsv`` (chromosome, TSS, strand, split, flags, expression) and ``manifest.json`` (inputs
with their SHA-256, options, marks, bin size, package version), which ``load_cell`` reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_directory, atomic_write
from .._version import __version__
from ..errors import InputError
from .histone import HistoneData
from .writers import write_deepchrome_csv

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


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
