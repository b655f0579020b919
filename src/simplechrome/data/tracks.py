"""Raw tracks -> per-gene bins: bigWig, bedGraph, BAM and tagAlign/BED reads.

Every reader fills a ``(n_genes, n_bins)`` array for the bins of ``Windows``. Read formats
count reads the way ``bedtools multicov`` does (a read counts once in every bin it overlaps),
or by 5' end, or by covered base pairs; signal formats sum (or average) the signal over each
bin's bases, a base without data counting as zero. Counting is vectorised per chromosome: the
bins' edges are sorted once, every read is located among them with ``searchsorted`` and the
counts follow from cumulative histograms, so a read costs two binary searches, whatever the
number of genes or how their windows overlap.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Literal

import numpy as np
import pandas as pd

from ..errors import InputError

log = logging.getLogger(__name__)

ReadCount = Literal["overlap", "start", "coverage"]
Progress = Callable[[int], None] | None  # told the work done since its last call
SignalStat = Literal["sum", "mean"]
FORMATS = ("bigwig", "bedgraph", "bam", "tagalign")
_SUFFIXES = {
    ".bw": "bigwig",
    ".bigwig": "bigwig",
    ".bedgraph": "bedgraph",
    ".bdg": "bedgraph",
    ".bam": "bam",
    ".tagalign": "tagalign",
    ".bed": "tagalign",
}
_BATCH_BYTES = 32 << 20  # text per parsed block: bounds memory whatever the file size


def infer_format(path: str | Path) -> str:
    """The track format from the file name (``.gz`` ignored): bigwig, bedgraph, bam, tagalign."""
    name = Path(path).name.lower()
    name = name.removesuffix(".gz")
    for suffix, fmt in _SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise InputError(
        "cannot tell the track format from the file name; add a 'format' column "
        f"({', '.join(FORMATS)})",
        path=path,
    )


@dataclasses.dataclass(frozen=True)
class Windows:
    """Bins of every gene: gene ``i`` bin ``k`` covers ``[left[i] + k*bin_size, +bin_size)``.

    Coordinates are 0-based, half-open, on chromosome ``chrom[i]``; ``left`` may be negative
    (a window running off the chromosome start; those bins stay zero).
    """

    chrom: np.ndarray
    left: np.ndarray
    n_bins: int
    bin_size: int

    def __len__(self) -> int:
        return len(self.left)

    @classmethod
    def around_tss(
        cls, tss: pd.DataFrame, n_bins: int, bin_size: int, *, strand_order: bool = False
    ) -> Windows:
        """Bins centred on each TSS (``chrom``, 1-based ``tss``, ``strand`` columns): the
        window is ``[tss - 1 - half, tss - 1 + half)``; with ``strand_order`` minus-strand
        windows are mirrored (``[tss - half, tss + half)``), to be read right to left."""
        left = tss["tss"].to_numpy(np.int64) - 1 - n_bins * bin_size // 2
        if strand_order:
            left = np.where(tss["strand"].to_numpy() == "-", left + 1, left)
        return cls(tss["chrom"].to_numpy().astype(str), left, n_bins, bin_size)

    def by_chrom(self) -> dict[str, np.ndarray]:
        """Gene indices per chromosome."""
        chrom = np.asarray(self.chrom).astype(str)
        names, inverse = np.unique(chrom, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        parts = np.split(order, np.cumsum(np.bincount(inverse, minlength=len(names)))[:-1])
        return {str(n): p for n, p in zip(names, parts, strict=True)}

    def edges(self, idx: np.ndarray) -> np.ndarray:
        """``(len(idx), n_bins + 1)`` bin edges of the genes ``idx``."""
        steps = np.arange(self.n_bins + 1, dtype=np.int64) * self.bin_size
        return self.left[idx, None].astype(np.int64) + steps


class _Edges:
    """One chromosome's bin edges, sorted and de-duplicated (``u``); ``pos`` indexes into it."""

    def __init__(self, genes: np.ndarray, edges: np.ndarray) -> None:
        self.genes = genes
        self.u, inverse = np.unique(edges, return_inverse=True)
        self.pos = inverse.reshape(edges.shape)

    def per_bin(self, at_edges: np.ndarray) -> np.ndarray:
        """Bin values from a function evaluated at every edge: ``F(right) - F(left)``."""
        f = at_edges[self.pos]
        return f[:, 1:] - f[:, :-1]


class _Binner:
    """Shared bookkeeping: the windows split by chromosome, which chromosomes were seen."""

    def __init__(self, windows: Windows) -> None:
        self.windows = windows
        self.chroms = {c: _Edges(i, windows.edges(i)) for c, i in windows.by_chrom().items()}
        self.seen: set[str] = set()
        self.n_used = 0

    def result(self, values: Callable[[_Edges, str], np.ndarray]) -> np.ndarray:
        out = np.zeros((len(self.windows), self.windows.n_bins), dtype=np.float64)
        for name, edges in self.chroms.items():
            out[edges.genes] = values(edges, name)
        return out


class ReadCounter(_Binner):
    """Accumulates reads, batch by batch, into per-bin counts.

    ``count``: ``overlap`` (a read counts in every bin it overlaps by at least one base, as
    ``bedtools multicov``), ``start`` (only the bin holding the read's 5' end) or ``coverage``
    (the base pairs of the read inside the bin: the integral of the read coverage).
    """

    def __init__(self, windows: Windows, count: ReadCount = "overlap") -> None:
        super().__init__(windows)
        if count not in ("overlap", "start", "coverage"):
            raise InputError(f"unknown read count {count!r}: use overlap, start or coverage")
        self.count = count
        n_terms = 4 if count == "coverage" else (1 if count == "start" else 2)
        self.acc = {c: np.zeros((n_terms, len(e.u) + 1), np.int64) for c, e in self.chroms.items()}

    def add(
        self, chrom: str, start: np.ndarray, end: np.ndarray, reverse: np.ndarray | None = None
    ) -> None:
        """Reads ``[start, end)`` on ``chrom`` (0-based); ``reverse`` marks minus-strand reads."""
        self.seen.add(chrom)
        edges = self.chroms.get(chrom)
        if edges is None or len(start) == 0:
            return
        self.n_used += len(start)
        acc, u, n = self.acc[chrom], edges.u, len(edges.u) + 1
        if self.count == "overlap":
            # a read overlaps [a, b) unless it ends at or before a or starts at or after b
            acc[0] += np.bincount(np.searchsorted(u, start, "right"), minlength=n)
            acc[1] += np.bincount(np.searchsorted(u, end, "left"), minlength=n)
        elif self.count == "start":
            five = start if reverse is None else np.where(reverse, end - 1, start)
            acc[0] += np.bincount(np.searchsorted(u, five, "right"), minlength=n)
        else:
            ks, ke = np.searchsorted(u, start, "right"), np.searchsorted(u, end, "right")
            # weighted sums are exact in float64 for a batch (< 2**53), then kept as int64
            acc[0] += np.bincount(ks, minlength=n)
            acc[1] += np.rint(np.bincount(ks, weights=start, minlength=n)).astype(np.int64)
            acc[2] += np.bincount(ke, minlength=n)
            acc[3] += np.rint(np.bincount(ke, weights=end, minlength=n)).astype(np.int64)

    def counts(self) -> np.ndarray:
        """``(n_genes, n_bins)`` counts of everything added so far."""
        return self.result(self._chrom_counts)

    def _chrom_counts(self, edges: _Edges, chrom: str) -> np.ndarray:
        cum = np.cumsum(self.acc[chrom], axis=1)[:, :-1]  # terms at each edge u_j
        if self.count == "overlap":
            starts_before, ends_by = cum[0][edges.pos], cum[1][edges.pos]
            return (starts_before[:, 1:] - ends_by[:, :-1]).astype(np.float64)
        if self.count == "start":
            return edges.per_bin(cum[0]).astype(np.float64)
        # F(x) = sum over reads of the bases of [start, end) left of x
        x = edges.u
        f = x * cum[0] - cum[1] - (x * cum[2] - cum[3])
        return edges.per_bin(f).astype(np.float64)


class SignalBinner(_Binner):
    """Accumulates a piecewise-constant signal (non-overlapping intervals with values)."""

    def __init__(self, windows: Windows) -> None:
        super().__init__(windows)
        self.acc = {c: np.zeros(len(e.u), np.float64) for c, e in self.chroms.items()}

    def add(self, chrom: str, start: np.ndarray, end: np.ndarray, value: np.ndarray) -> int:
        """Intervals of one chromosome; returns the index of an overlapping pair, or -1."""
        self.seen.add(chrom)
        edges = self.chroms.get(chrom)
        if edges is None or len(start) == 0:
            return -1
        order = np.argsort(start, kind="stable")
        s, e, v = start[order], end[order], value[order]
        clash = np.flatnonzero(s[1:] < e[:-1])
        if clash.size:
            return int(order[clash[0] + 1])
        self.n_used += len(s)
        area = np.concatenate([[0.0], np.cumsum(v * (e - s))])
        x = edges.u
        k = np.searchsorted(e, x, "right")  # intervals wholly left of x
        inside = np.minimum(k, len(s) - 1)
        partial = np.where((k < len(s)) & (s[inside] < x), v[inside] * (x - s[inside]), 0.0)
        self.acc[chrom] += area[k] + partial
        return -1

    def sums(self) -> np.ndarray:
        return self.result(lambda edges, chrom: edges.per_bin(self.acc[chrom]))


# -- file readers ------------------------------------------------------------------------
def _open_text(path: Path) -> Iterator[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", errors="replace") as fh:
        yield from fh


def _header_lines(path: Path) -> tuple[int, int]:
    """(lines of track/browser/# header, columns of the first data line)."""
    try:
        for i, line in enumerate(_open_text(path)):
            if line.startswith(("track", "browser", "#")) or not line.strip():
                continue
            return i, len(line.rstrip("\n").split("\t"))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"cannot read track ({exc})", path=path) from None
    raise InputError("no data lines", path=path)


def _bad_line(path: Path, skip: int, check: Callable[[list[str]], str | None]) -> InputError:
    """Find the first line that fails ``check`` (only on the error path: a Python scan)."""
    try:
        for i, line in enumerate(_open_text(path)):
            if i < skip:
                continue
            problem = check(line.rstrip("\n").split("\t"))
            if problem:
                return InputError(problem, path=path, line=i + 1)
    except (OSError, EOFError) as exc:
        return InputError(f"cannot read track ({exc})", path=path)
    return InputError("cannot parse track", path=path)


def _check_fields(n_cols: int, value_col: int | None) -> Callable[[list[str]], str | None]:
    def check(fields: list[str]) -> str | None:
        if len(fields) != n_cols:
            return f"expected {n_cols} tab-separated columns, found {len(fields)}"
        for col, kind in ((1, int), (2, int)) + (((value_col, float),) if value_col else ()):
            try:
                kind(fields[col])
            except ValueError:
                return f"column {col + 1}: {fields[col]!r} is not a number"
        return None

    return check


def read_intervals(
    path: Path, *, value: bool = False, strand: bool = False, progress: Progress = None
) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray | None, int]]:
    """Stream a BED-like file: ``(chrom, start, end, value_or_reverse, first_line)`` per
    chromosome and block. Columns: chrom, start, end, then the value (bedGraph, column 4) or
    the strand (tagAlign/BED6, column 6). Blocks of ~32 MB of text keep memory flat;
    ``progress`` is told how many bytes of the file (compressed, if it is) each block took.
    """
    with open(path, "rb") as raw:
        yield from _read_intervals(path, raw, value, strand, progress)


def _read_intervals(
    path: Path, raw: IO[bytes], value: bool, strand: bool, progress: Progress
) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray | None, int]]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    skip, n_cols = _header_lines(path)
    names = [f"c{i}" for i in range(n_cols)]
    dict_str = pa.dictionary(pa.int32(), pa.string())
    types = {"c0": dict_str, "c1": pa.int64(), "c2": pa.int64()}
    if value:
        if n_cols < 4:
            raise InputError(f"bedGraph needs 4 columns, found {n_cols}", path=path, line=skip + 1)
        types["c3"] = pa.float64()
    strand = strand and n_cols >= 6
    if strand:
        types["c5"] = dict_str
    source = pa.PythonFile(raw, mode="r")
    if path.name.lower().endswith(".gz"):
        source = pa.CompressedInputStream(source, "gzip")
    try:
        reader = pcsv.open_csv(
            source,
            read_options=pcsv.ReadOptions(
                column_names=names, skip_rows=skip, block_size=_BATCH_BYTES
            ),
            parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pcsv.ConvertOptions(include_columns=list(types), column_types=types),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise _bad_line(path, skip, _check_fields(n_cols, 3 if value else None)) from exc
    line, done = skip + 1, 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, OSError, EOFError) as exc:
            raise _bad_line(path, skip, _check_fields(n_cols, 3 if value else None)) from exc
        if progress is not None:
            progress(raw.tell() - done)
            done = raw.tell()
        start = batch.column(1).to_numpy(zero_copy_only=False)
        end = batch.column(2).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero((start < 0) | (end <= start))
        if bad.size:
            i = int(bad[0])
            raise InputError(
                f"interval {start[i]}-{end[i]} is empty or negative", path=path, line=line + i
            )
        extra = None
        if value:
            extra = batch.column(3).to_numpy(zero_copy_only=False)
            nan = np.flatnonzero(~np.isfinite(extra))
            if nan.size:
                raise InputError("value is not a finite number", path=path, line=line + nan[0])
        elif strand:
            col = batch.column(3)
            minus = np.asarray(col.dictionary.to_pylist()) == "-"
            extra = minus[col.indices.to_numpy(zero_copy_only=False)]
        chrom = batch.column(0)
        codes = chrom.indices.to_numpy(zero_copy_only=False)
        for code, name in enumerate(chrom.dictionary.to_pylist()):
            rows = np.flatnonzero(codes == code)
            if rows.size:
                yield (
                    name,
                    start[rows],
                    end[rows],
                    None if extra is None else extra[rows],
                    line + int(rows[0]),
                )
        line += batch.num_rows


def count_read_file(
    path: Path,
    windows: Windows,
    *,
    count: ReadCount = "overlap",
    extend: int | None = None,
    progress: Progress = None,
) -> ReadCounter:
    """Count a tagAlign / BED file (``.gz`` too) into the windows' bins."""
    counter = ReadCounter(windows, count)
    need_strand = count == "start" or extend is not None
    blocks = read_intervals(path, strand=need_strand, progress=progress)
    for chrom, start, end, reverse, _ in blocks:
        if need_strand and reverse is None:
            raise InputError(
                "needs a strand column (6th) to extend reads or count 5' ends", path=path
            )
        if extend is not None:
            start, end = extend_reads(start, end, reverse, extend)
        counter.add(chrom, start, end, reverse)
    return counter


def extend_reads(
    start: np.ndarray, end: np.ndarray, reverse: np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reads extended to ``length`` bp in their 3' direction (ChIP fragment length)."""
    new_start = np.where(reverse, np.maximum(end - length, 0), start)
    new_end = np.where(reverse, end, start + length)
    return new_start, new_end


def bin_bedgraph(path: Path, windows: Windows, *, progress: Progress = None) -> SignalBinner:
    """Sum a bedGraph's signal over the windows' bins (``.gz`` too)."""
    binner = SignalBinner(windows)
    for chrom, start, end, value, first in read_intervals(path, value=True, progress=progress):
        assert value is not None
        clash = binner.add(chrom, start, end, value)
        if clash >= 0:
            raise InputError(
                "overlapping bedGraph intervals (each base may have one value)",
                path=path,
                line=first + clash,
            )
    return binner
