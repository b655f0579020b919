"""Synthetic cells with planted, documented ground truth, for ``demo`` and fast tests.

How a synthetic cell is made (all seeded):

1. Genes lie on ``n_chroms`` chromosomes at random TSS positions, with random strands, and each
   belongs to one of ``n_modules`` co-expression modules.
2. Expression (log2 scale) of gene g in cell c is
   ``base_g + module_effect[module_g, c] + genomic_field_g + noise``, where ``genomic_field`` is
   an AR(1) process along each chromosome (correlation ``genome_rho`` between adjacent genes):
   genes near each other on the genome, and genes of one module across cells, share activity.
   Column ``target_cell`` is the cell whose signals are simulated; the others only feed
   co-expression neighbours.
3. Activity ``a_g`` = the standardised target-cell expression. Reads per bin are Poisson with a
   mean shaped per mark (``MARK_EFFECTS``) times a gene-level log-normal noise (sd 0.6):
   H3K4me3 a peak that grows with activity and whose share on the TSS is ``sigmoid(2 a)`` (the
   rest lies 10-35 bins away: position carries information that per-mark pooling loses);
   H3K36me3 a gene-body ramp downstream of the TSS (right on +, left on -) that grows with it;
   H3K4me1 flanking peaks, weakly positive; H3K27me3 broad, decreasing with activity; H3K9me3
   broad, weakly decreasing.
4. Labels: 1 where target-cell expression is above its median (DeepChrome's rule); regression
   targets are ``log2(RPKM + 1)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .histone import DEEPCHROME_MARKS, HistoneData

#: mark -> (log-amplitude change per unit of activity, shape). Positive: more signal when expressed.
MARK_EFFECTS: dict[str, tuple[float, str]] = {
    "H3K27me3": (-0.9, "broad"),
    "H3K36me3": (0.8, "body"),
    "H3K4me1": (0.3, "flanks"),
    "H3K4me3": (1.2, "tss_peak"),
    "H3K9me3": (-0.4, "broad"),
}


@dataclasses.dataclass
class SyntheticCell:
    """A synthetic cell: its splits, the TSS table, the expression matrix and the ground truth."""

    splits: dict[str, HistoneData]
    tss: pd.DataFrame
    expression: pd.DataFrame
    activity: pd.Series
    module: pd.Series
    mark_effects: dict[str, tuple[float, str]]


def make_synthetic(
    n_genes: int = 3000,
    *,
    n_bins: int = 100,
    n_cells: int = 12,
    n_chroms: int = 4,
    n_modules: int = 20,
    genome_rho: float = 0.95,
    signal_scale: float = 1.5,
    target_cell: str = "SYN01",
    task: str = "classification",
    seed: int = 0,
) -> SyntheticCell:
    """Simulate one cell's histone signals and labels with known ground truth (module docstring)."""
    rng = np.random.default_rng(seed)
    gene_ids = np.array([f"SYNG{i:07d}" for i in range(1, n_genes + 1)])
    chrom = rng.integers(1, n_chroms + 1, size=n_genes)
    pos = rng.integers(10_000, 50_000_000, size=n_genes)
    strand = rng.choice(["+", "-"], size=n_genes)
    module = rng.integers(0, n_modules, size=n_genes)

    field = np.zeros(n_genes)
    for c in range(1, n_chroms + 1):
        on = np.flatnonzero(chrom == c)
        on = on[np.argsort(pos[on])]
        eps = rng.normal(size=on.size)
        walk = np.empty(on.size)
        prev = 0.0
        for i, e in enumerate(eps):  # AR(1) along the chromosome
            prev = genome_rho * prev + np.sqrt(1 - genome_rho**2) * e
            walk[i] = prev
        field[on] = walk

    cells = [f"SYN{i:02d}" for i in range(1, n_cells + 1)]
    if target_cell not in cells:
        cells[0] = target_cell
    module_effect = rng.normal(0, 1.2, size=(n_modules, n_cells))
    base = rng.normal(3.0, 1.0, size=n_genes)
    log_expr = (
        base[:, None]
        + module_effect[module]
        + 1.2 * field[:, None]
        + rng.normal(0, 0.5, size=(n_genes, n_cells))
    )
    rpkm = np.clip(np.exp2(log_expr) - 1.0, 0.0, None).round(3)
    expression = pd.DataFrame(rpkm, index=pd.Index(gene_ids, name="gene_id"), columns=cells)

    target = np.log2(expression[target_cell].to_numpy() + 1.0)
    activity = (target - target.mean()) / target.std()
    x = _signals(activity, strand, n_bins, signal_scale, rng)

    if task == "classification":
        y: np.ndarray = (target > np.median(target)).astype(np.int64)
    else:
        y = target.astype(np.float32)
    tss = pd.DataFrame(
        {"chrom": [f"chr{c}" for c in chrom], "tss": pos, "strand": strand},
        index=pd.Index(gene_ids, name="gene_id"),
    )
    whole = HistoneData(
        x=x,
        y=y,
        gene_ids=gene_ids,
        marks=DEEPCHROME_MARKS,
        cell=target_cell,
        bin_size=100,
        task=task,  # type: ignore[arg-type]
        tss=tss,
        expression=expression,
    )
    # contiguous blocks of gene ids, as the published splits are
    cuts = [0, n_genes // 3, 2 * n_genes // 3, n_genes]
    splits = {
        name: whole.subset(slice(cuts[i], cuts[i + 1]))
        for i, name in enumerate(("train", "valid", "test"))
    }
    return SyntheticCell(
        splits=splits,
        tss=tss,
        expression=expression,
        activity=pd.Series(activity, index=gene_ids),
        module=pd.Series(module, index=gene_ids),
        mark_effects=dict(MARK_EFFECTS),
    )


def _signals(
    activity: np.ndarray, strand: np.ndarray, n_bins: int, scale: float, rng: np.random.Generator
) -> np.ndarray:
    centre = (n_bins - 1) / 2
    b = np.arange(n_bins)
    width = n_bins * 0.05
    shapes = {
        "broad": np.ones(n_bins),
        "flanks": 0.5
        + np.exp(-0.5 * ((b - centre - n_bins * 0.2) / (n_bins * 0.06)) ** 2)
        + np.exp(-0.5 * ((b - centre + n_bins * 0.2) / (n_bins * 0.06)) ** 2),
    }
    ramp = np.clip((b - centre) / centre, 0, None) * 1.5 + 0.2
    n = activity.size
    x = np.empty((n, len(MARK_EFFECTS), n_bins), dtype=np.float32)
    plus = (strand == "+")[:, None]
    # Position matters for H3K4me3: a share sigmoid(2a) of its peak sits on the TSS, the rest at
    # a random distal place, so the amount alone (what pooling sees) says less than its position.
    at_tss = 1.0 / (1.0 + np.exp(-2.0 * activity))
    distal = rng.uniform(0.1, 0.35, size=n) * n_bins * rng.choice([-1, 1], size=n) + centre
    for m, (effect, shape) in enumerate(MARK_EFFECTS.values()):
        if shape == "body":  # downstream of the TSS: right on +, left on -
            profile = np.where(plus, ramp[None, :], ramp[::-1][None, :])
        elif shape == "tss_peak":
            peak_tss = np.exp(-0.5 * ((b[None, :] - centre) / width) ** 2)
            peak_far = np.exp(-0.5 * ((b[None, :] - distal[:, None]) / width) ** 2)
            profile = 0.3 + 3.0 * (at_tss[:, None] * peak_tss + (1 - at_tss[:, None]) * peak_far)
        else:
            profile = np.broadcast_to(shapes[shape], (n, n_bins))
        gene_level = np.exp(effect * activity + rng.normal(0, 0.6, size=n))
        x[:, m, :] = rng.poisson(scale * profile * gene_level[:, None])
    return x
