"""Binary track formats: bigWig (pyBigWig) and BAM (pysam, the ``[bam]`` extra)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import InputError
from .tracks import Progress, ReadCount, ReadCounter, Windows, extend_reads


@contextlib.contextmanager
def _open_bigwig(path: Path) -> Iterator[object]:
    import pyBigWig

    try:
        bw = pyBigWig.open(str(path))
    except RuntimeError:
        bw = None
    if bw is None or not bw.isBigWig():
        raise InputError("not a readable bigWig file", path=path)
    try:
        yield bw
    finally:
        bw.close()


def bigwig_chroms(path: Path) -> dict[str, int]:
    with _open_bigwig(path) as bw:
        return dict(bw.chroms())  # type: ignore[attr-defined]


def bin_bigwig(
    path: Path, windows: Windows, *, progress: Progress = None
) -> tuple[np.ndarray, set[str]]:
    """Per-bin signal sums from a bigWig (bases without data count as zero) and its chroms."""
    out = np.zeros((len(windows), windows.n_bins), np.float64)
    width = windows.n_bins * windows.bin_size
    with _open_bigwig(path) as bw:
        sizes = dict(bw.chroms())  # type: ignore[attr-defined]
        for chrom, genes in windows.by_chrom().items():
            size = sizes.get(chrom)
            if size is None:
                continue
            for g in genes:
                a = int(windows.left[g])
                lo, hi = max(a, 0), min(a + width, size)
                if hi <= lo:
                    continue
                base = np.zeros(width, np.float64)
                values = bw.values(chrom, lo, hi, numpy=True)  # type: ignore[attr-defined]
                base[lo - a : hi - a] = np.nan_to_num(values, nan=0.0)
                out[g] = base.reshape(windows.n_bins, windows.bin_size).sum(axis=1)
            if progress is not None:
                progress(len(genes))
    return out, set(sizes)


def bam_chroms(path: Path) -> dict[str, int]:
    with _open_bam(path) as bam:
        return dict(zip(bam.references, bam.lengths, strict=True))


@contextlib.contextmanager
def _open_bam(path: Path) -> Iterator[object]:
    try:
        import pysam
    except ImportError:
        raise InputError(
            "reading BAM needs pysam: pip install 'simplechrome[bam]'", path=path
        ) from None
    try:
        bam = pysam.AlignmentFile(str(path), "rb")
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable BAM file ({exc})", path=path) from None
    try:
        yield bam
    finally:
        bam.close()


_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x800  # unmapped, secondary, QC fail, supplementary


def count_bam(
    path: Path,
    windows: Windows,
    *,
    count: ReadCount = "overlap",
    extend: int | None = None,
    min_mapq: int = 0,
    keep_duplicates: bool = False,
    progress: Progress = None,
) -> ReadCounter:
    """Count a BAM's alignments into the windows' bins (needs the ``[bam]`` extra, pysam).

    Unmapped, secondary, supplementary and QC-failed alignments are skipped, as are duplicates
    unless ``keep_duplicates`` and alignments with MAPQ below ``min_mapq``. With an index only
    the regions around the genes are read.
    """
    counter = ReadCounter(windows, count)
    skip = _SKIP_FLAGS | (0 if keep_duplicates else 0x400)
    width = windows.n_bins * windows.bin_size

    def add(chrom: str, rows: list[tuple[int, int, int, bool]]) -> None:
        if rows:
            arr = np.array(rows, dtype=np.int64)
            start, end, reverse = arr[:, 1], arr[:, 2], arr[:, 3].astype(bool)
            if extend is not None:
                start, end = extend_reads(start, end, reverse, extend)
            counter.add(chrom, start, end, reverse)

    with _open_bam(path) as bam:
        names = list(bam.references)  # type: ignore[attr-defined]
        counter.seen.update(names)
        if not bam.has_index():  # type: ignore[attr-defined]
            # one pass over the whole file, in chunks of alignments
            chunk: list[tuple[int, int, int, bool]] = []
            for r in bam.fetch(until_eof=True):  # type: ignore[attr-defined]
                if not r.flag & skip and r.mapping_quality >= min_mapq:
                    chunk.append((r.reference_id, r.reference_start, r.reference_end, r.is_reverse))
                if len(chunk) >= 1 << 20:
                    _add_by_reference(add, names, chunk)
                    chunk = []
            _add_by_reference(add, names, chunk)
            if progress is not None:
                progress(len(windows))
            return counter
        for chrom, genes in windows.by_chrom().items():
            if chrom not in names:
                continue
            previous_end = None
            pad = extend or 0  # an extended read reaches the window from this far away
            for lo, hi in _merge(windows.left[genes] - pad, width + 2 * pad):
                rows = [
                    (0, r.reference_start, r.reference_end, r.is_reverse)
                    for r in bam.fetch(chrom, lo, hi)  # type: ignore[attr-defined]
                    if not r.flag & skip
                    and r.mapping_quality >= min_mapq
                    # a read spanning the gap between two regions was counted with the first
                    and (previous_end is None or r.reference_start >= previous_end)
                ]
                previous_end = hi
                add(chrom, rows)
            if progress is not None:
                progress(len(genes))
    return counter


def _add_by_reference(
    add: Callable[[str, list], None], names: list[str], rows: list[tuple[int, int, int, bool]]
) -> None:
    by_ref: dict[int, list] = {}
    for row in rows:
        by_ref.setdefault(row[0], []).append(row)
    for ref, part in by_ref.items():
        add(names[ref], part)


def _merge(left: np.ndarray, width: int) -> list[tuple[int, int]]:
    """Sorted, disjoint regions covering the windows (clipped at 0)."""
    lo = np.sort(np.maximum(left, 0))
    hi = np.sort(np.maximum(left + width, 0))
    out: list[tuple[int, int]] = []
    for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
