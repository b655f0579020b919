"""Measures of generated genes against real ones, shared by every generator (the GAN and the
autoregressive model): sliced Wasserstein distance, per-class mean profiles, mark-mark correlations,
and the validation score's structure gaps. Everything compares genes in the model's transformed
space (log1p + per-mark standardisation). The costlier analyses (two-sample test,
train-on-synthetic, walks) live in ``simplechrome.interpret.gan``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from ..data.histone import HistoneData
from .trained import TrainedModel

CLASS_NAMES = {0: "low", 1: "high"}


# -- measures ---------------------------------------------------------------------------------
def sliced_wasserstein(
    a: np.ndarray, b: np.ndarray, *, n_projections: int = 128, seed: int = 0
) -> float:
    """Mean 1-Wasserstein distance between ``a`` and ``b`` (``(n, ...)`` and ``(m, ...)``,
    flattened per gene) along ``n_projections`` seeded random unit directions.

    The sets may differ in size: each projection is compared at 200 common quantiles.
    A distance between distributions, so, unlike a mean profile, it sees a generator that
    gives every gene the same signal.
    """
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((a.shape[1], n_projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    q = (np.arange(200) + 0.5) / 200
    qa = np.quantile(a @ directions, q, axis=0)
    qb = np.quantile(b @ directions, q, axis=0)
    return float(np.abs(qa - qb).mean())


def class_groups(y: np.ndarray, task: str) -> list[tuple[str, np.ndarray]]:
    """``(name, mask)`` per class (``low``, ``high``), or one group ``all`` for regression."""
    if task == "classification":
        return [(CLASS_NAMES.get(int(k), str(k)), y == k) for k in np.unique(y)]
    return [("all", np.ones(len(y), dtype=bool))]


def profile_correlations(
    real: np.ndarray,
    fake: np.ndarray,
    y: np.ndarray,
    marks: tuple[str, ...],
    task: str,
    *,
    y_fake: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per class and mark: Pearson r of the mean profiles over bins, real vs generated
    (``y_fake``: the generated genes' labels, when they are not ``y``)."""
    y_fake = y if y_fake is None else y_fake
    rows = []
    groups = zip(class_groups(y, task), class_groups(y_fake, task), strict=True)
    for (name, sel), (_, sel_fake) in groups:
        for m, mark in enumerate(marks):
            a, b = real[sel, m].mean(0), fake[sel_fake, m].mean(0)
            r = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
            rows.append({"class": name, "mark": mark, "pearson_r": r})
    return pd.DataFrame(rows)


def mark_correlations(x: np.ndarray) -> np.ndarray:
    """``(marks, marks)`` Pearson correlation across genes of each gene's mean signal per mark."""
    per_gene = x.mean(axis=2)
    return np.corrcoef(per_gene, rowvar=False)


def generation_metrics(gan: TrainedModel, data: HistoneData, *, seed: int = 0) -> dict[str, Any]:
    """The cheap measures, for a run's ``metrics.json``: sliced Wasserstein distance (per class,
    averaged), the smallest mean-profile r over classes and marks, and the largest difference
    between the real and generated mark-mark correlations."""
    real, fake, y = gan.real_and_generated(data, seed=seed)
    groups = class_groups(y, gan.task)
    swd = np.mean([sliced_wasserstein(real[s], fake[s], seed=seed) for _, s in groups])
    profiles = profile_correlations(real, fake, y, gan.marks, gan.task)
    corr_gap = max(
        float(np.nanmax(np.abs(mark_correlations(real[s]) - mark_correlations(fake[s]))))
        for _, s in groups
    )
    return {
        "sliced_wasserstein": float(swd),
        "profile_r_min": float(profiles["pearson_r"].min()),
        "mark_corr_max_diff": corr_gap,
        "n_genes": int(data.n_genes),
    }


# -- the task --------------------------------------------------------------------------------
def condition_groups(c: torch.Tensor, n_levels: int = 4) -> list[torch.Tensor]:
    """A batch's genes grouped by condition, for the matching terms: by class, or, for levels
    (floating conditions), into ``n_levels`` groups of consecutive levels of about equal size
    (so the terms follow the trend along expression, not only its average)."""
    if not c.is_floating_point():
        return [c == k for k in torch.unique(c)]
    order = torch.argsort(c)
    groups = []
    for part in torch.tensor_split(order, n_levels):
        if len(part) > 1:
            mask = torch.zeros(len(c), dtype=torch.bool, device=c.device)
            mask[part] = True
            groups.append(mask)
    return groups


def _mean_gap(
    generated: torch.Tensor, real: torch.Tensor, c: torch.Tensor, n_levels: int = 4
) -> torch.Tensor:
    """Mean squared gap between the per-group (class or level group) mean profiles of
    generated and real genes of a batch."""
    groups = condition_groups(c, n_levels)
    gaps = [((generated[g].mean(0) - real[g].mean(0)) ** 2).mean() for g in groups]
    return torch.stack(gaps).mean()


def _correlation(per_gene: torch.Tensor) -> torch.Tensor:
    """``(genes, marks)`` -> the ``(marks, marks)`` Pearson correlation across genes."""
    centred = per_gene - per_gene.mean(0, keepdim=True)
    scaled = centred / (centred.square().sum(0, keepdim=True).sqrt() + 1e-6)
    return scaled.T @ scaled


QUANTILES = torch.linspace(0.02, 0.98, 25)


def _quantiles(x: torch.Tensor) -> torch.Tensor:
    """``(genes, marks, bins)`` -> ``(marks, len(QUANTILES))``: each mark's value quantiles
    over all its bins (differentiable: ``torch.quantile`` sorts)."""
    flat = x.transpose(0, 1).reshape(x.shape[1], -1)
    return torch.quantile(flat, QUANTILES.to(x), dim=1).T


def _structure_gap(
    generated: torch.Tensor,
    probability: torch.Tensor,
    real: torch.Tensor,
    real_zero: torch.Tensor,
    c: torch.Tensor,
    n_levels: int = 4,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Three gaps between a batch's generated and real genes, each a mean squared difference
    averaged over groups of genes with similar conditions:

    - zeros (per class or group of levels, ``n_levels`` groups): the generated bins' zero
      probabilities against the real bins' share of exact zeros, per mark and bin (the zero
      decisions are draws, so their probabilities, not the draws, carry the gradient);
    - co-variation (per class or level half, for enough genes per estimate): the mark-mark
      correlation across genes of each gene's mean signal per mark, what the visualisation of
      mark combinations draws on;
    - values (per class or level group): each mark's value quantiles over its bins, the
      marginal distribution including the low counts next to the zeros.
    """
    zeros, values, corr = [], [], []
    for g in condition_groups(c, n_levels):
        zeros.append(((probability[g].mean(0) - real_zero[g].mean(0)) ** 2).mean())
        values.append(((_quantiles(generated[g]) - _quantiles(real[g])) ** 2).mean())
    for g in condition_groups(c, n_levels=2):
        gap = _correlation(generated[g].mean(2)) - _correlation(real[g].mean(2))
        corr.append((gap**2).mean())
    return torch.stack(zeros).mean(), torch.stack(corr).mean(), torch.stack(values).mean()
