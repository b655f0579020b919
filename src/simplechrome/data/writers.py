"""Writers of the DeepChrome CSV format (atomic, vectorised)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_write
from .histone import HistoneData


def write_deepchrome_csv(data: HistoneData, path: str | Path, *, header: bool = False) -> Path:
    """Write one split as DeepChrome rows ``gene_id,bin,marks...,label`` (``.gz`` by suffix).

    ``ENSG`` ids are written as the 6-digit numeric form the published files use; other ids as
    they are. Unlabelled data gets label 0. Integer-valued signals are written as integers.
    """
    path = Path(path)
    n, m, b = data.x.shape
    ids = np.array(
        [g[4:].lstrip("0").zfill(6) if g.startswith("ENSG") else g for g in data.gene_ids.tolist()]
    )
    # (genes, marks, bins) -> (genes, bins, marks) -> rows
    values = data.x.transpose(0, 2, 1).reshape(n * b, m)
    frame = pd.DataFrame(values, columns=list(data.marks))
    if np.all(values == np.round(values)):
        frame = frame.astype(np.int64)
    frame.insert(0, "bin", np.tile(np.arange(1, b + 1), n))
    frame.insert(0, "gene_id", np.repeat(ids, b))
    y = np.zeros(n, dtype=np.int64) if data.y is None else data.y
    frame["label"] = np.repeat(y, b)
    text = frame.to_csv(index=False, header=header, float_format="%.6g")
    mode = "wb"
    with atomic_write(path, mode) as fh:
        payload = text.encode()
        fh.write(gzip.compress(payload, 6) if path.name.endswith(".gz") else payload)
    return path


def write_cell(splits: dict[str, HistoneData], folder: str | Path) -> Path:
    """Write a cell folder ``<folder>/classification/{train,valid,test}.csv``."""
    folder = Path(folder)
    for name, data in splits.items():
        write_deepchrome_csv(data, folder / "classification" / f"{name}.csv")
    return folder
