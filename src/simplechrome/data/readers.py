"""Readers of binned histone signals: the DeepChrome/Zenodo CSV and the DeepDiff 200-bin CSV.

Parsing is vectorised (pyarrow's multi-threaded CSV reader); Python loops run only over the
error path, to name the offending line. Every reader returns ``HistoneData``.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..errors import InputError
from ..ids import normalise_gene_id
from .histone import DEEPCHROME_MARKS, HistoneData

#: Bumped whenever parsing changes what a file turns into (it keys the cache).
PARSER_VERSION = 1

DEEPDIFF_MARKS: tuple[str, ...] = ("H3K4me1", "H3K4me3", "H3K9me3", "H3K27me3", "H3K36me3")


def read_deepchrome_csv(
    path: str | Path,
    *,
    marks: Sequence[str] | None = None,
    cell: str | None = None,
    bin_size: int = 100,
) -> HistoneData:
    """Read one split in the DeepChrome format (``.csv`` or ``.csv.gz``).

    Rows are ``gene_id, bin, mark_1 .. mark_m, label``, one per bin, genes in blocks, bins
    1..n in order. A header line is optional (its mark names are used when present). Gene ids
    may be zero-padded (``000003``) or bare (``3``) numbers, or Ensembl ids; numbers map to
    ``ENSG`` + 11 digits. Values may be integer counts or floats.
    """
    path = Path(path)
    first = first_line(path)
    header = header_names(first)
    n_cols = len(first.split(","))
    if n_cols < 4:
        raise InputError(
            f"expected gene_id,bin,<marks...>,label columns, found {n_cols} column(s)",
            path=path,
            line=1,
        )
    n_marks = n_cols - 3
    names = [f"c{i}" for i in range(n_cols)]
    types = {names[0]: pa.string(), names[1]: pa.int64(), names[-1]: pa.int64()}
    types.update({n: pa.float64() for n in names[2:-1]})
    table = _read_table(path, names, types, skip=1 if header else 0)
    skip = 1 if header else 0
    if table.num_rows == 0:
        raise InputError("empty split file: no genes", path=path)

    if header:
        mark_names = tuple(header[2:-1])
    elif marks is not None:
        mark_names = tuple(marks)
    elif n_marks == len(DEEPCHROME_MARKS):
        mark_names = DEEPCHROME_MARKS
    else:
        mark_names = tuple(f"mark{i + 1}" for i in range(n_marks))
    if len(mark_names) != n_marks:
        raise InputError(f"{n_marks} mark columns but {len(mark_names)} mark names", path=path)

    values = np.column_stack([table.column(n).to_numpy() for n in names[2:-1]])
    labels = table.column(names[-1]).to_numpy()
    bins = table.column(names[1]).to_numpy()
    return _assemble(
        path,
        table.column(names[0]),
        bins,
        values,
        labels,
        marks=mark_names,
        cell=cell or infer_cell_name(path),
        bin_size=bin_size,
        first_line=1 + skip,
    )


def read_deepdiff_csv(
    path: str | Path,
    *,
    expression: str | Path | None = None,
    cell: str | None = None,
    bin_size: int = 100,
) -> HistoneData:
    """Read a DeepDiff split: ``ENSGID_SYMBOL_bin, H3K4me1, H3K4me3, H3K9me3, H3K27me3, H3K36me3``.

    The file has no label column. With ``expression`` (a DeepDiff ``Cell*.expr.csv`` of
    ``gene_id,count`` rows) the label is 1 where the gene's count is above the median count of
    that file, as DeepChrome defines its labels; without it the data is unlabelled.
    """
    path = Path(path)
    first = first_line(path)
    n_cols = len(first.split(","))
    if n_cols != len(DEEPDIFF_MARKS) + 1:
        raise InputError(
            f"expected {len(DEEPDIFF_MARKS) + 1} columns (ENSGID_SYMBOL_bin + 5 marks), "
            f"found {n_cols}",
            path=path,
            line=1,
        )
    names = [f"c{i}" for i in range(n_cols)]
    types = {names[0]: pa.string(), **{n: pa.float64() for n in names[1:]}}
    table = _read_table(path, names, types, skip=0)
    if table.num_rows == 0:
        raise InputError("empty split file: no genes", path=path)
    keys = table.column(names[0])
    parts = pc.split_pattern(keys, "_", reverse=True, max_splits=1)
    flat = pc.list_flatten(parts).to_numpy(zero_copy_only=False)
    lengths = pc.list_value_length(parts).to_numpy()
    bad = np.flatnonzero(lengths != 2)
    if bad.size:
        row = int(bad[0])
        raise InputError(
            f"first column {keys[row].as_py()!r} is not ENSGID_SYMBOL_bin", path=path, line=row + 1
        )
    prefix, bin_text = flat[0::2], flat[1::2]
    try:
        bins = bin_text.astype(np.int64)
    except ValueError:
        row = next(i for i, b in enumerate(bin_text) if not b.isdigit())
        raise InputError(
            f"bin {bin_text[row]!r} is not a number", path=path, line=row + 1
        ) from None
    genes = pa.array(np.char.partition(prefix.astype(str), "_")[:, 0])
    values = np.column_stack([table.column(n).to_numpy() for n in names[1:]])
    data = _assemble(
        path,
        genes,
        bins,
        values,
        None,
        marks=DEEPDIFF_MARKS,
        cell=cell or infer_cell_name(path),
        bin_size=bin_size,
        first_line=1,
    )
    if expression is not None:
        data = data.replace(y=_deepdiff_labels(Path(expression), data.gene_ids))
    return data


def infer_cell_name(path: Path) -> str:
    """``.../E012/classification/train.csv`` -> ``E012``; ``.../Cell1.train.csv`` -> ``Cell1``."""
    parent = path.parent
    if parent.name == "classification":
        return parent.parent.name or "unknown"
    stem = path.name.split(".")[0]
    if stem in ("train", "valid", "test"):
        return parent.name or "unknown"
    return stem


# -- shared machinery ---------------------------------------------------------------------


def first_line(path: Path) -> str:
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.is_dir():
        raise InputError("is a directory, expected a CSV file", path=path)
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt") as fh:  # type: ignore[operator]
            for line in fh:
                if line.strip():
                    return line.strip()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read ({exc})", path=path) from None
    raise InputError("empty split file: no genes", path=path)


def header_names(first: str) -> list[str] | None:
    fields = [f.strip() for f in first.split(",")]
    try:
        float(fields[1])
    except (ValueError, IndexError):
        return fields
    return None


def _read_table(path: Path, names: list[str], types: dict, skip: int) -> pa.Table:
    try:
        return pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=skip, block_size=1 << 24),
            parse_options=pcsv.ParseOptions(newlines_in_values=False),
            convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        _diagnose(path, names, types, skip)
        raise InputError(f"cannot parse ({exc})", path=path) from None


def _diagnose(path: Path, names: list[str], types: dict, skip: int) -> None:
    """Find and report the first bad line (only runs after the fast reader failed)."""
    numeric = [i for i, n in enumerate(names) if types[n] != pa.string()]
    try:
        raw = path.read_bytes()
        text = gzip.decompress(raw) if path.name.endswith(".gz") else raw
        lines = io.StringIO(text.decode())
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise InputError(f"cannot read ({exc})", path=path) from None
    for lineno, line in enumerate(lines, start=1):
        if lineno <= skip or not line.strip():
            continue
        fields = line.rstrip("\r\n").split(",")
        if len(fields) != len(names):
            raise InputError(
                f"expected {len(names)} columns, found {len(fields)}", path=path, line=lineno
            )
        for i in numeric:
            try:
                float(fields[i])
            except ValueError:
                raise InputError(
                    f"column {i + 1}: {fields[i]!r} is not a number", path=path, line=lineno
                ) from None
            if types[names[i]] == pa.int64() and not fields[i].strip().lstrip("-").isdigit():
                raise InputError(
                    f"column {i + 1}: {fields[i]!r} is not an integer", path=path, line=lineno
                )


def _assemble(
    path: Path,
    gene_col: pa.Array | pa.ChunkedArray,
    bins: np.ndarray,
    values: np.ndarray,
    labels: np.ndarray | None,
    *,
    marks: Sequence[str],
    cell: str,
    bin_size: int,
    first_line: int,
) -> HistoneData:
    """Check the per-bin rows and fold them into ``(genes, marks, bins)``."""

    def line_of(row: int) -> int:
        return int(row) + first_line

    n_rows = values.shape[0]
    finite = np.isfinite(values)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise InputError(
            f"mark {marks[col]}: value {values[row, col]} (NaN or infinite)",
            path=path,
            line=line_of(row),
        )
    if (values < 0).any():
        row, col = np.argwhere(values < 0)[0]
        raise InputError(
            f"mark {marks[col]}: negative value {values[row, col]}", path=path, line=line_of(row)
        )

    if isinstance(gene_col, pa.ChunkedArray):
        gene_col = gene_col.combine_chunks()
    encoded = pc.dictionary_encode(gene_col)
    codes = encoded.indices.to_numpy()
    dictionary = encoded.dictionary.to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.flatnonzero(codes[1:] != codes[:-1]) + 1])
    block_codes = codes[starts]
    raw_ids = dictionary[block_codes]
    if len(starts) != len(dictionary):
        seen: dict[int, int] = {}
        for b, c in enumerate(block_codes.tolist()):
            if c in seen:
                raise InputError(
                    f"duplicate gene: its rows appear again after other genes (first block "
                    f"at line {line_of(starts[seen[c]])})",
                    path=path,
                    line=line_of(starts[b]),
                    gene=normalise_gene_id(str(raw_ids[b])),
                )
            seen[c] = b
    gene_ids = np.array([normalise_gene_id(g) for g in raw_ids.tolist()])
    empty = np.flatnonzero(gene_ids == "")
    if empty.size:
        raise InputError("empty gene id", path=path, line=line_of(starts[empty[0]]))
    if len(set(gene_ids.tolist())) != len(gene_ids):
        _, first_idx, counts = np.unique(gene_ids, return_index=True, return_counts=True)
        dup = gene_ids[first_idx[counts > 1][0]]
        b = np.flatnonzero(gene_ids == dup)[1]
        raise InputError(
            "duplicate gene (the same id written two ways)",
            path=path,
            line=line_of(starts[b]),
            gene=str(dup),
        )

    def at(g: int, j: int, problem: str) -> InputError:
        """An error about bin ``j`` (0-based row within the gene) of gene ``g``."""
        return InputError(problem, path=path, line=line_of(starts[g] + j), gene=str(gene_ids[g]))

    lengths = np.diff(np.concatenate([starts, [n_rows]]))
    n_bins = int(lengths[0])
    wrong = np.flatnonzero(lengths != n_bins)
    if wrong.size:
        b = int(wrong[0])
        raise at(b, 0, f"has {lengths[b]} bins, expected {n_bins} (as the first gene has)")
    n_genes = len(starts)
    bins2 = bins.reshape(n_genes, n_bins)
    expected = np.arange(1, n_bins + 1)
    bad = bins2 != expected
    if bad.any():
        g, j = np.argwhere(bad)[0]
        raise at(g, j, f"bins out of order: expected bin {expected[j]}, found {bins2[g, j]}")

    y = None
    if labels is not None:
        lab2 = labels.reshape(n_genes, n_bins)
        changes = lab2 != lab2[:, :1]
        if changes.any():
            g, j = np.argwhere(changes)[0]
            raise at(g, j, f"label changes within the gene ({lab2[g, 0]} then {lab2[g, j]})")
        y = lab2[:, 0]
        outside = np.flatnonzero((y != 0) & (y != 1))
        if outside.size:
            raise at(int(outside[0]), 0, f"label {y[outside[0]]} is not 0 or 1")

    # (rows, marks) -> (genes, bins, marks) -> (genes, marks, bins)
    x = values.astype(np.float32).reshape(n_genes, n_bins, len(marks)).transpose(0, 2, 1)
    return HistoneData(
        x=np.ascontiguousarray(x),
        y=y,
        gene_ids=gene_ids,
        marks=tuple(marks),
        cell=cell,
        bin_size=bin_size,
    )


def _deepdiff_labels(path: Path, gene_ids: np.ndarray) -> np.ndarray:
    import pandas as pd

    try:
        table = pd.read_csv(path, header=None, names=["gene_id", "count"], dtype={"gene_id": str})
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read expression ({exc})", path=path) from None
    counts = pd.to_numeric(table["count"], errors="coerce")
    if counts.isna().any():
        row = int(np.flatnonzero(counts.isna().to_numpy())[0])
        raise InputError("count is not a number", path=path, line=row + 1)
    table["gene_id"] = [normalise_gene_id(g) for g in table["gene_id"]]
    series = pd.Series(counts.to_numpy(), index=table["gene_id"])
    missing = [g for g in gene_ids if g not in series.index]
    if missing:
        raise InputError("has no expression value", path=path, gene=missing[0])
    threshold = float(np.median(series.to_numpy()))
    return (series.loc[gene_ids].to_numpy() > threshold).astype(np.int64)
