"""Export an attention model's bin and mark attention: a tidy TSV, an ``.npz`` and bedGraphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_write
from ..data.histone import HistoneData
from ..data.tracks import Windows
from ..ids import isin

WINDOW_BP = 5000  # DeepChrome's window: TSS +/- 5 kb in 100 bp bins, leftmost bin first


def attention_table(
    gene_ids: np.ndarray, marks, bins: np.ndarray, mark_att: np.ndarray
) -> pd.DataFrame:
    """Tidy rows: ``gene_id, mark, mark_attention, bin, bin_attention`` (bins numbered from 1)."""
    n, m, b = bins.shape
    return pd.DataFrame(
        {
            "gene_id": np.repeat(gene_ids, m * b),
            "mark": np.tile(np.repeat(np.asarray(marks), b), n),
            "mark_attention": np.repeat(mark_att.reshape(-1), b),
            "bin": np.tile(np.arange(1, b + 1), n * m),
            "bin_attention": bins.reshape(-1),
        }
    )


def bin_intervals(tss: pd.DataFrame, n_bins: int, bin_size: int) -> tuple[np.ndarray, np.ndarray]:
    """0-based half-open ``(starts, ends)`` ``(genes, bins)`` of each gene's bins, TSS +/- half
    the window, leftmost genomic position first (the published bin order, both strands)."""
    windows = Windows.around_tss(tss, n_bins, bin_size)  # the bins `prepare` counts in
    edges = windows.edges(np.arange(len(windows)))
    return edges[:, :-1], edges[:, 1:]


def bedgraph_lines(
    chrom: np.ndarray, starts: np.ndarray, ends: np.ndarray, values: np.ndarray
) -> list[str]:
    """bedGraph data lines, sorted by position, overlaps between neighbouring genes' windows
    removed by ending each interval where the next one starts (nearer TSS wins the overlap)."""
    order = np.lexsort((starts, chrom))
    c, s, e, v = chrom[order], starts[order], ends[order].copy(), values[order]
    same = c[1:] == c[:-1]
    e[:-1] = np.where(same & (e[:-1] > s[1:]), s[1:], e[:-1])
    keep = (e > s) & (s >= 0)
    return [
        f"{a}\t{b}\t{x}\t{y:.6g}\n"
        for a, b, x, y in zip(c[keep], s[keep], e[keep], v[keep], strict=True)
    ]


def write_attention(
    out: str | Path,
    data: HistoneData,
    bins: np.ndarray,
    marks_att: np.ndarray,
    marks: tuple[str, ...],
    *,
    tss: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``attention.tsv``, ``attention.npz`` and, with a TSS table, one bedGraph per mark."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with atomic_write(out / "attention.tsv") as fh:
        attention_table(data.gene_ids, marks, bins, marks_att).to_csv(
            fh, sep="\t", index=False, float_format="%.6g"
        )
    written.append(out / "attention.tsv")
    with atomic_write(out / "attention.npz", "wb") as fh:
        np.savez(
            fh,
            gene_ids=data.gene_ids,
            marks=np.array(marks),
            bin_attention=bins,
            mark_attention=marks_att,
        )
    written.append(out / "attention.npz")
    if tss is not None:
        known = isin(data.gene_ids, tss.index)
        if known.any():
            table = tss.loc[data.gene_ids[known]]
            starts, ends = bin_intervals(table, bins.shape[2], data.bin_size)
            chrom = np.repeat(table["chrom"].to_numpy(), bins.shape[2])
            for m, mark in enumerate(marks):
                lines = bedgraph_lines(
                    chrom, starts.reshape(-1), ends.reshape(-1), bins[known, m, :].reshape(-1)
                )
                path = out / f"attention.{mark}.bedGraph"
                with atomic_write(path) as fh:
                    fh.write(
                        f'track type=bedGraph name="{mark} bin attention" '
                        f'description="simplechrome bin attention, {data.cell}"\n'
                    )
                    fh.writelines(lines)
                written.append(path)
    return written
