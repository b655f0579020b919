"""Statistics for result tables: intervals over seeds and genes, paired comparisons over genes.

- ``seed_gene_interval``: a score's mean over seeds with a 95% two-level bootstrap interval that
  resamples both the seeds and the test genes (the seeds share their test genes, so one gene
  resample serves them all): what a summary of several runs shows. One run: genes only.
- ``bootstrap_mean``: a mean over seeds with its 95% percentile-bootstrap interval over seeds
  only (with 3 seeds this is nearly [min, max]; used only where no predictions are stored).
- ``paired_auroc_difference``: model A minus model B on the same test genes, AUROC averaged over
  seeds, with a 95% interval from resampling seeds and genes (one gene resample for both
  models; the same seeds for both where their runs pair by seed).
- ``delong``: DeLong's test for two correlated AUROCs (one seed each): difference, interval, p.

Bootstrapped AUROCs use ``weighted_auroc``: one sort per score vector, then every resample is a
weighted Mann-Whitney count over the same order, so thousands of resamples cost seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


def bootstrap_mean(
    values: np.ndarray, *, n_boot: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """``(mean, low, high)``; with one value the interval is that value (no spread to show)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan, math.nan, math.nan)
    if v.size == 1:
        return (float(v[0]), float(v[0]), float(v[0]))
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    alpha = (1 - level) / 2
    return (float(v.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha)))


def weighted_pearson(y: np.ndarray, pred: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pearson r of ``y`` and ``pred`` for each row of ``weights`` (gene multiplicities)."""
    w = np.atleast_2d(weights).astype(np.float64)
    total = w.sum(axis=1, keepdims=True)
    my = (w * y).sum(axis=1, keepdims=True) / total
    mp = (w * pred).sum(axis=1, keepdims=True) / total
    dy, dp = y[None, :] - my, pred[None, :] - mp
    cov = (w * dy * dp).sum(axis=1)
    return cov / np.sqrt((w * dy * dy).sum(axis=1) * (w * dp * dp).sum(axis=1))


def _gene_weights(rng: np.random.Generator, n_boot: int, n: int) -> np.ndarray:
    idx = rng.integers(0, n, size=(n_boot, n))
    w = np.zeros((n_boot, n))
    np.add.at(w, (np.arange(n_boot)[:, None], idx), 1.0)
    return w


def seed_gene_interval(
    runs: list[tuple[np.ndarray, np.ndarray]],
    *,
    metric: str = "auroc",
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(mean, low, high)`` of a score over runs (seeds), each ``(y, score)`` on its test genes.

    Two-level bootstrap: every resample draws the seeds with replacement and the test genes with
    replacement (one draw of genes for all seeds when they share their genes, as the seeds of a
    setting do), and averages the score over the drawn seeds. With one run the interval is the
    gene bootstrap alone. ``metric``: ``auroc`` or ``pearson``.
    """
    if not runs:
        return (math.nan, math.nan, math.nan)
    score = weighted_auroc if metric == "auroc" else weighted_pearson
    full = [float(score(y, s, np.ones((1, len(y))))[0]) for y, s in runs]
    mean = float(np.mean(full))
    rng = np.random.default_rng(seed)
    shared = all(len(y) == len(runs[0][0]) and np.array_equal(y, runs[0][0]) for y, _ in runs)
    per_run = np.empty((len(runs), n_boot))
    common = _gene_weights(rng, n_boot, len(runs[0][0])) if shared else None
    for i, (y, s) in enumerate(runs):
        w = common if common is not None else _gene_weights(rng, n_boot, len(y))
        per_run[i] = score(y, s, w)
    picks = rng.integers(0, len(runs), size=(n_boot, len(runs)))
    boots = per_run[picks, np.arange(n_boot)[:, None]].mean(axis=1)
    boots = boots[np.isfinite(boots)]
    alpha = (1 - level) / 2
    return (mean, float(np.quantile(boots, alpha)), float(np.quantile(boots, 1 - alpha)))


def summarise(
    table: pd.DataFrame, by: list[str], metric: str = "test_auroc", *, seed: int = 0
) -> pd.DataFrame:
    """Mean of ``metric`` over seeds with a 95% bootstrap interval over seeds, per group of
    ``by`` (from the records alone; ``results`` prefers the seed-and-gene interval)."""
    rows = []
    for key, part in table.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        mean, lo, hi = bootstrap_mean(part[metric].to_numpy(dtype=float), seed=seed)
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "mean": mean,
                "low": lo,
                "high": hi,
                "n_seeds": int(part["seed"].nunique()) if "seed" in part else len(part),
            }
        )
    return pd.DataFrame(rows)


def weighted_auroc(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUROC for each row of ``weights`` (``(n_resamples, n_genes)`` gene multiplicities).

    Ties count one half, as in the Mann-Whitney statistic.
    """
    y = np.asarray(y).astype(bool)
    order = np.argsort(score, kind="stable")
    s = np.asarray(score)[order]
    w = np.atleast_2d(weights)[:, order].astype(np.float64)
    pos = w * y[order]
    neg = w * ~y[order]
    # group tied scores
    starts = np.flatnonzero(np.concatenate([[True], s[1:] != s[:-1]]))
    pos_g = np.add.reduceat(pos, starts, axis=1)
    neg_g = np.add.reduceat(neg, starts, axis=1)
    below = np.cumsum(neg_g, axis=1) - neg_g  # negatives strictly below each group
    wins = (pos_g * (below + 0.5 * neg_g)).sum(axis=1)
    return wins / (pos.sum(axis=1) * neg.sum(axis=1))


def paired_auroc_difference(
    y: np.ndarray,
    scores_a: list[np.ndarray],
    scores_b: list[np.ndarray],
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    paired_seeds: bool | None = None,
) -> dict[str, float]:
    """Mean-over-seeds AUROC of A minus B on the same genes, with a 95% interval from a
    two-level bootstrap: every resample draws the seeds (runs) with replacement and the test
    genes with replacement, one gene draw for every run of both models (paired on genes within
    a seed). ``paired_seeds`` (default: when A and B have as many runs) draws the same seed
    positions for A and B: run i of A and run i of B share a seed (the same labelled draw).
    With one run each the interval is the gene bootstrap alone."""
    y = np.asarray(y)
    n = y.size
    rng = np.random.default_rng(seed)
    ones = np.ones((1, n))
    ka, kb = len(scores_a), len(scores_b)
    paired = (ka == kb) if paired_seeds is None else paired_seeds
    if paired and ka != kb:
        raise ValueError("paired seeds need as many runs of A as of B")

    def aucs(scores: list[np.ndarray], w: np.ndarray) -> np.ndarray:
        return np.stack([weighted_auroc(y, s, w) for s in scores])  # (runs, resamples)

    diff = float(aucs(scores_a, ones).mean() - aucs(scores_b, ones).mean())
    boots = []
    for lo in range(0, n_boot, 250):
        m = min(250, n_boot - lo)
        w = _gene_weights(rng, m, n)
        a, b = aucs(scores_a, w), aucs(scores_b, w)
        pick_a = rng.integers(0, ka, size=(m, ka))
        pick_b = pick_a if paired else rng.integers(0, kb, size=(m, kb))
        cols = np.arange(m)[:, None]
        boots.append(a[pick_a, cols].mean(axis=1) - b[pick_b, cols].mean(axis=1))
    bs = np.concatenate(boots)
    bs = bs[np.isfinite(bs)]
    alpha = (1 - level) / 2
    return {
        "difference": diff,
        "low": float(np.quantile(bs, alpha)),
        "high": float(np.quantile(bs, 1 - alpha)),
        "p_two_sided": float(min(1.0, 2 * min((bs <= 0).mean(), (bs >= 0).mean()))),
    }


def delong(
    y: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, *, level: float = 0.95
) -> dict[str, float]:
    """DeLong et al. (1988) comparison of two AUROCs on the same genes."""
    y = np.asarray(y).astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    v10, v01, aucs = [], [], []
    for s in (np.asarray(score_a, float), np.asarray(score_b, float)):
        pos, neg = s[y], s[~y]
        # structural components from mid-ranks: V10 per positive, V01 per negative
        r_all = stats.rankdata(np.concatenate([pos, neg]))
        r_pos, r_neg = stats.rankdata(pos), stats.rankdata(neg)
        v10.append((r_all[:m] - r_pos) / n)
        v01.append(1.0 - (r_all[m:] - r_neg) / m)
        aucs.append(float(v10[-1].mean()))
    s10 = np.cov(np.vstack(v10))
    s01 = np.cov(np.vstack(v01))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    diff = aucs[0] - aucs[1]
    se = math.sqrt(max(var, 0.0))
    z = stats.norm.ppf(1 - (1 - level) / 2)
    p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return {
        "auroc_a": aucs[0],
        "auroc_b": aucs[1],
        "difference": diff,
        "low": diff - z * se,
        "high": diff + z * se,
        "p_two_sided": p,
    }
