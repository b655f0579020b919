"""Statistics for result tables: intervals over seeds and paired comparisons over genes.

- ``bootstrap_mean``: a mean over seeds with its 95% percentile-bootstrap interval.
- ``paired_auroc_difference``: model A minus model B on the same test genes, AUROC averaged over
  seeds, with a 95% interval from resampling genes (the same resample for both models).
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


def summarise(
    table: pd.DataFrame, by: list[str], metric: str = "test_auroc", *, seed: int = 0
) -> pd.DataFrame:
    """Mean of ``metric`` over seeds with a 95% bootstrap interval, per group of ``by``."""
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
) -> dict[str, float]:
    """Mean-over-seeds AUROC of A minus B on the same genes, with a gene-bootstrap interval."""
    y = np.asarray(y)
    n = y.size
    rng = np.random.default_rng(seed)
    ones = np.ones((1, n))

    def mean_auc(scores: list[np.ndarray], w: np.ndarray) -> np.ndarray:
        return np.mean([weighted_auroc(y, s, w) for s in scores], axis=0)

    diff = float(mean_auc(scores_a, ones)[0] - mean_auc(scores_b, ones)[0])
    boots = []
    for lo in range(0, n_boot, 250):
        idx = rng.integers(0, n, size=(min(250, n_boot - lo), n))
        w = np.zeros((idx.shape[0], n))
        np.add.at(w, (np.arange(idx.shape[0])[:, None], idx), 1.0)
        boots.append(mean_auc(scores_a, w) - mean_auc(scores_b, w))
    b = np.concatenate(boots)
    b = b[np.isfinite(b)]
    alpha = (1 - level) / 2
    return {
        "difference": diff,
        "low": float(np.quantile(b, alpha)),
        "high": float(np.quantile(b, 1 - alpha)),
        "p_two_sided": float(min(1.0, 2 * min((b <= 0).mean(), (b >= 0).mean()))),
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
