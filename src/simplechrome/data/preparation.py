"""``prepare``: raw ChIP-seq tracks + a GTF (+ expression) -> a model-ready cell folder.

The DeepChrome preprocessing, one function: for every gene, ``2 * window / bin_size`` bins
of ``bin_size`` bp centred on the TSS (the TSS base opens the bin right of the centre), one
row of bins per mark, labelled by the cell's median expression. Coordinates: the TSS is the
GTF gene start on ``+`` and the gene end on ``-`` (1-based); the window is
``[TSS - 1 - window, TSS - 1 + window)`` 0-based. With ``order="strand"`` minus-strand
windows are mirrored (``[TSS - window, TSS + window)``) and their bins reversed, so bin 1 is
always the most upstream; the published data use ``order="genomic"`` (bin 1 leftmost).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..errors import InputError
from ..ids import eid_in
from . import bigwig_bam, tracks
from .annotation import median_labels, read_expression, read_gtf_tss, regression_targets
from .cache import file_hash
from .histone import HistoneData
from .prepared_folder import MANIFEST_VERSION, write_prepared
from .sample_sheet import Track, read_sheet
from .splits import SPLITS, split_by_chromosome, split_random

log = logging.getLogger(__name__)

#: First gene IDs of the valid and test blocks of the published (Zenodo) split.
ZENODO_BOUNDARIES = ("ENSG00000132963", "ENSG00000172936")


@dataclasses.dataclass(frozen=True)
class PrepareOptions:
    """How tracks become bins (the DeepChrome defaults).

    Attributes:
        window: bp either side of the TSS.
        bin_size: bp per bin (``2 * window`` must be a multiple).
        genes: ``auto`` (the expression matrix's genes when one is given, else protein-coding),
            ``protein_coding``, ``expression``, ``all``, or a file of gene IDs (one per line).
        order: ``genomic`` (bin 1 leftmost, as published) or ``strand`` (bin 1 most upstream).
        signal: bigWig/bedGraph per bin: ``mean`` over the bin's bases or ``sum`` over them
            (bases without data count as zero either way).
        reads: BAM/tagAlign per bin: ``overlap`` (reads overlapping the bin, as
            ``bedtools multicov``), ``start`` (reads whose 5' end is in the bin) or
            ``coverage`` (read base pairs in the bin).
        extend: extend reads to this fragment length (bp) in their 3' direction first.
        min_mapq, keep_duplicates: BAM filters (duplicates are dropped by default).
        split: ``zenodo`` (the published gene-ID blocks), ``chromosome`` or ``random``.
        seed: seed of the random split.
    """

    window: int = 5000
    bin_size: int = 100
    genes: str = "auto"
    order: Literal["genomic", "strand"] = "genomic"
    signal: tracks.SignalStat = "mean"
    reads: tracks.ReadCount = "overlap"
    extend: int | None = None
    min_mapq: int = 0
    keep_duplicates: bool = False
    split: Literal["zenodo", "chromosome", "random"] = "zenodo"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.window <= 0 or self.bin_size <= 0 or (2 * self.window) % self.bin_size:
            raise InputError(
                f"window {self.window} and bin size {self.bin_size}: 2 x window must be a "
                "positive multiple of the bin size"
            )
        checks = {
            "order": ("genomic", "strand"),
            "signal": ("mean", "sum"),
            "reads": ("overlap", "start", "coverage"),
            "split": ("zenodo", "chromosome", "random"),
        }
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise InputError(f"{name} must be one of {', '.join(allowed)}")
        if self.extend is not None and self.extend <= 0:
            raise InputError("extend must be a positive fragment length")

    @property
    def n_bins(self) -> int:
        return 2 * self.window // self.bin_size


def select_genes(
    annotation: pd.DataFrame, genes: str, expression: pd.DataFrame | None, *, gtf: Path
) -> pd.DataFrame:
    """The TSS table rows of the chosen gene set, sorted by gene ID."""
    if genes == "auto":
        genes = "expression" if expression is not None else "protein_coding"
    if genes == "protein_coding":
        chosen = annotation[annotation["gene_type"] == "protein_coding"]
        what = "protein-coding genes"
    elif genes == "all":
        chosen, what = annotation, "genes"
    elif genes == "expression":
        if expression is None:
            raise InputError("gene set 'expression' needs an expression matrix")
        chosen = annotation[annotation.index.isin(expression.index)]
        what = f"the expression matrix's {len(expression)} genes"
    else:
        ids = _read_gene_list(Path(genes))
        chosen = annotation[annotation.index.isin(ids)]
        what = f"the {len(ids)} genes of {genes}"
    if chosen.empty:
        example = ", ".join(annotation.index[:2])
        raise InputError(f"{what} match no gene of the GTF (its IDs look like {example})", path=gtf)
    return chosen.sort_index()


def _read_gene_list(path: Path) -> set[str]:
    if not path.exists():
        raise InputError("gene list not found", path=path)
    text = path.read_text().split()
    ids = {t.split(".", 1)[0] for t in text if t and not t.startswith("#")}
    if not ids:
        raise InputError("gene list is empty", path=path)
    return ids


def gene_windows(genes: pd.DataFrame, options: PrepareOptions) -> tracks.Windows:
    """The bins of every gene (see the module docstring for the coordinates)."""
    return tracks.Windows.around_tss(
        genes, options.n_bins, options.bin_size, strand_order=options.order == "strand"
    )


def bin_track(
    track: Track, windows: tracks.Windows, options: PrepareOptions, *, progress: bool = False
) -> tuple[np.ndarray, dict]:
    """One track -> ``(n_genes, n_bins)`` values and what was read (for the manifest)."""
    text = track.format in ("bedgraph", "tagalign")  # progress in bytes, else in genes
    bar = tqdm(
        total=track.path.stat().st_size if text else len(windows),
        desc=f"{track.cell} {track.mark}",
        unit="B" if text else " genes",
        unit_scale=text,
        disable=not progress,
        leave=False,
    )
    with bar:
        return _bin_track(track, windows, options, bar.update)


def _bin_track(
    track: Track, windows: tracks.Windows, options: PrepareOptions, progress: tracks.Progress
) -> tuple[np.ndarray, dict]:
    if track.format == "bigwig":
        values, chroms = bigwig_bam.bin_bigwig(track.path, windows, progress=progress)
        used = None
    elif track.format == "bedgraph":
        binner = tracks.bin_bedgraph(track.path, windows, progress=progress)
        values, chroms, used = binner.sums(), binner.seen, binner.n_used
    elif track.format == "bam":
        counter = bigwig_bam.count_bam(
            track.path,
            windows,
            count=options.reads,
            extend=options.extend,
            min_mapq=options.min_mapq,
            keep_duplicates=options.keep_duplicates,
            progress=progress,
        )
        values, chroms, used = counter.counts(), counter.seen, counter.n_used
    else:
        counter = tracks.count_read_file(
            track.path, windows, count=options.reads, extend=options.extend, progress=progress
        )
        values, chroms, used = counter.counts(), counter.seen, counter.n_used
    _check_chromosomes(track.path, set(windows.chrom.tolist()), chroms)
    if track.format in ("bigwig", "bedgraph") and options.signal == "mean":
        values = values / options.bin_size
    info = {"mark": track.mark, "path": str(track.path), "format": track.format}
    if used is not None:
        info["records_on_gene_chromosomes"] = int(used)
    return values, info


def _check_chromosomes(path: Path, gene_chroms: set[str], track_chroms: set[str]) -> None:
    common = gene_chroms & track_chroms
    if common:
        absent = sorted(gene_chroms - track_chroms)
        if absent:
            log.warning("%s has no %s: those genes read zero there", path, ", ".join(absent[:5]))
        return
    genes_eg = ", ".join(sorted(gene_chroms)[:3])
    track_eg = ", ".join(sorted(track_chroms)[:3]) or "none"
    hint = ""
    if any(c.startswith("chr") for c in gene_chroms) != any(
        c.startswith("chr") for c in track_chroms
    ):
        hint = ": one names them with a 'chr' prefix and the other without; rename one to match"
    raise InputError(
        f"no chromosome of the genes ({genes_eg} ...) is in this track ({track_eg} ...){hint}",
        path=path,
    )


def _chrom_sizes(track_list: list[Track]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for t in track_list:
        if t.format == "bigwig":
            sizes.update(bigwig_bam.bigwig_chroms(t.path))
        elif t.format == "bam":
            sizes.update(bigwig_bam.bam_chroms(t.path))
    return sizes


def _split(data: HistoneData, options: PrepareOptions) -> dict[str, HistoneData]:
    if options.split == "chromosome":
        return split_by_chromosome(data)
    if options.split == "random":
        return split_random(data, seed=options.seed)
    ids = data.gene_ids
    cuts = np.searchsorted(ids, np.array(ZENODO_BOUNDARIES))
    parts = dict(zip(SPLITS, np.split(np.arange(len(ids)), cuts), strict=True))
    empty = [k for k, v in parts.items() if v.size == 0]
    if empty:
        raise InputError(
            f"the published split ({ZENODO_BOUNDARIES[0]}, {ZENODO_BOUNDARIES[1]} boundaries) "
            f"leaves {', '.join(empty)} empty for these gene IDs: use split chromosome or random"
        )
    return {k: data.subset(v) for k, v in parts.items()}


def prepare(
    sheet: str | Path,
    gtf: str | Path,
    *,
    cell: str | None = None,
    expression: str | Path | None = None,
    expression_column: str | None = None,
    task: Literal["classification", "regression"] = "classification",
    out: str | Path | None = None,
    options: PrepareOptions | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, HistoneData]:
    """Bin one cell's tracks around every gene's TSS: ``{"train", "valid", "test"}``.

    Args:
        sheet: sample sheet (``cell, mark, path[, format]``); see ``read_sheet``.
        gtf: gene annotation (GENCODE or Ensembl GTF, ``.gz`` too) of the tracks' genome build.
        cell: the sheet's cell to prepare (needed when it lists several).
        expression: Roadmap-style expression matrix (genes x cells): labels are 1 where the
            gene's value is above the column's median; ``task="regression"`` gives
            ``log2(value + 1)``. Without one the data are unlabelled.
        expression_column: the matrix column of this cell (default: the cell's name).
        out: write ``<out>/<cell>/`` (DeepChrome CSVs, ``genes.tsv``, ``manifest.json``).
        options: window, bins, gene set, order, per-format counting, split.
        progress: a progress bar per track on stderr.
    """
    options = options or PrepareOptions()
    gtf = Path(gtf)
    if task == "regression" and expression is None:
        raise InputError("regression targets need an expression matrix")
    listed = read_sheet(sheet)
    cells = sorted({t.cell for t in listed})
    if cell is None and len(cells) > 1:
        raise InputError(f"the sheet lists cells {', '.join(cells)}: choose one", path=sheet)
    cell = cell or cells[0]
    target = None if out is None else Path(out) / cell
    if target is not None and not overwrite and target.is_dir() and any(target.iterdir()):
        raise InputError("output folder exists and is not empty (overwrite it?)", path=target)
    mine = sorted((t for t in listed if t.cell == cell), key=lambda t: t.mark)
    if not mine:
        raise InputError(f"no tracks for cell {cell!r} (it lists {', '.join(cells)})", path=sheet)
    expr = read_expression(expression) if expression is not None else None
    column = expression_column or cell
    if expr is not None and column not in expr.columns:
        raise InputError(
            f"no column {column!r} in the expression matrix (e.g. {', '.join(expr.columns[:3])})"
            "; name it with expression_column / --cell",
            path=expression,
        )
    genes = select_genes(read_gtf_tss(gtf), options.genes, expr, gtf=gtf)
    if expr is not None:
        known = genes.index.isin(expr.index)
        if not known.all():
            log.warning("%d gene(s) without expression left out", int((~known).sum()))
            genes = genes[known]
    windows = gene_windows(genes, options)
    started = time.perf_counter()
    x = np.zeros((len(genes), len(mine), options.n_bins), np.float32)
    track_info = []
    for j, track in enumerate(mine):
        values, info = bin_track(track, windows, options, progress=progress)
        x[:, j] = values
        info["sha256"] = file_hash(track.path)
        track_info.append(info)
    if options.order == "strand":
        minus = genes["strand"].to_numpy() == "-"
        x[minus] = x[minus, :, ::-1]
    clipped = _clipped(windows, _chrom_sizes(mine))
    # the files always hold the median labels; regression targets live in genes.tsv
    labels = None if expr is None else median_labels(expr, column).reindex(genes.index)
    whole = HistoneData(
        x, None if labels is None else labels.to_numpy(), genes.index.to_numpy(),
        tuple(t.mark for t in mine), cell=cell, bin_size=options.bin_size,
        tss=genes[["chrom", "tss", "strand"]], expression=expr,
        eid=column if expr is not None else eid_in(cell),
    )  # fmt: skip
    splits = _split(whole, options)
    if out is not None:
        manifest = {
            "kind": "simplechrome prepared cell",
            "manifest_version": MANIFEST_VERSION,
            "cell": cell,
            "marks": list(whole.marks),
            "bin_size": options.bin_size,
            "n_bins": options.n_bins,
            "labels": "none" if expr is None else "median",
            "options": dataclasses.asdict(options),
            "gtf": {"path": str(gtf), "sha256": file_hash(gtf)},
            "expression": None
            if expr is None
            else {"path": str(expression), "sha256": file_hash(expression), "column": column},
            "tracks": track_info,
            "genes": {k: v.n_genes for k, v in splits.items()}
            | {"near_chromosome_end": int(clipped.sum())},
            "track_seconds": round(time.perf_counter() - started, 3),
        }
        write_prepared(splits, genes, clipped, expr, column, manifest, target, overwrite)
    if task == "regression":
        targets = regression_targets(expr, column)
        splits = {
            k: dataclasses.replace(v, y=targets.loc[v.gene_ids].to_numpy(), task="regression")
            for k, v in splits.items()
        }
        whole = dataclasses.replace(
            whole, y=targets.loc[whole.gene_ids].to_numpy(), task="regression"
        )
    return {k: v.replace(pool=whole) for k, v in splits.items()}


def _clipped(windows: tracks.Windows, sizes: dict[str, int]) -> np.ndarray:
    """Genes whose window runs off a chromosome end (zero-padded there)."""
    width = windows.n_bins * windows.bin_size
    end = np.array([sizes.get(c, np.iinfo(np.int64).max) for c in windows.chrom.tolist()])
    return (windows.left < 0) | (windows.left + width > end)
