from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from simplechrome.experiments.stats import (
    bootstrap_mean,
    delong,
    paired_auroc_difference,
    seed_gene_interval,
    summarise,
    weighted_auroc,
)


def test_weighted_auroc_matches_sklearn_with_ties_and_resampling():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.round(y + rng.normal(0, 1, 500), 1)  # many ties
    assert weighted_auroc(y, s, np.ones((1, 500)))[0] == pytest.approx(roc_auc_score(y, s))
    idx = rng.integers(0, 500, 500)
    w = np.bincount(idx, minlength=500)[None, :]
    assert weighted_auroc(y, s, w)[0] == pytest.approx(roc_auc_score(y[idx], s[idx]))


def test_bootstrap_mean_interval_contains_the_mean():
    mean, lo, hi = bootstrap_mean(np.array([0.90, 0.92, 0.94]))
    assert mean == pytest.approx(0.92) and lo < mean < hi and lo >= 0.90 and hi <= 0.94
    assert bootstrap_mean(np.array([0.5])) == (0.5, 0.5, 0.5)


def test_summarise_groups():
    t = pd.DataFrame(
        {
            "cell": ["a", "a", "b", "b"],
            "model": "m",
            "seed": [0, 1, 0, 1],
            "test_auroc": [0.8, 0.9, 0.6, 0.6],
        }
    )
    s = summarise(t, ["cell", "model"])
    assert s.set_index("cell").loc["a", "mean"] == pytest.approx(0.85)
    assert s.set_index("cell").loc["b", "low"] == pytest.approx(0.6)


def test_paired_difference_and_delong_agree():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    a = y + rng.normal(0, 1.0, 2000)
    b = y + rng.normal(0, 1.5, 2000)
    boot = paired_auroc_difference(y, [a], [b], n_boot=1000)
    dl = delong(y, a, b)
    true = roc_auc_score(y, a) - roc_auc_score(y, b)
    assert boot["difference"] == pytest.approx(true) and dl["difference"] == pytest.approx(true)
    assert boot["low"] > 0 and dl["low"] > 0 and dl["p_two_sided"] < 0.01
    # interval widths agree within 30%
    assert (boot["high"] - boot["low"]) == pytest.approx(dl["high"] - dl["low"], rel=0.3)
    # identical models: no difference
    same = paired_auroc_difference(y, [a], [a], n_boot=200)
    assert same["difference"] == 0 and same["low"] == 0 and same["high"] == 0


def _runs_of_three_seeds(n: int = 400, seed: int = 3):
    """One set of test genes scored by three seeds of differing quality."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, [y * q + rng.normal(0, 1, n) for q in (0.4, 0.9, 1.4)]


def _brute_two_level(y, scores_a, scores_b=None, *, n_boot=3000, seed=11, paired=True):
    """The two-level bootstrap written out: draw seeds, draw genes, score each draw by the
    Mann-Whitney rank sum (independent of ``weighted_auroc``)."""
    from scipy.stats import rankdata

    def roc_auc_score(labels, score):
        ranks = rankdata(score)
        n1 = labels.sum()
        return (ranks[labels == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(labels) - n1))

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_boot):
        genes = rng.integers(0, len(y), len(y))
        if len(np.unique(y[genes])) < 2:
            continue
        pa = rng.integers(0, len(scores_a), len(scores_a))
        a = np.mean([roc_auc_score(y[genes], scores_a[i][genes]) for i in pa])
        if scores_b is None:
            out.append(a)
            continue
        pb = pa if paired else rng.integers(0, len(scores_b), len(scores_b))
        out.append(a - np.mean([roc_auc_score(y[genes], scores_b[i][genes]) for i in pb]))
    return np.quantile(out, [0.025, 0.975])


def test_seed_gene_interval_matches_a_brute_force_two_level_bootstrap():
    y, scores = _runs_of_three_seeds()
    mean, low, high = seed_gene_interval([(y, s) for s in scores], n_boot=3000)
    lo, hi = _brute_two_level(y, scores)
    width = hi - lo
    assert abs(low - lo) < 0.08 * width and abs(high - hi) < 0.08 * width
    # the seeds' spread is in it: far wider than any one seed's gene interval
    _, l1, h1 = seed_gene_interval([(y, scores[1])], n_boot=3000)
    assert np.isfinite(l1) and (high - low) > 1.5 * (h1 - l1)


def test_paired_difference_resamples_seeds_and_genes_like_a_brute_force_bootstrap():
    y, a = _runs_of_three_seeds(seed=5)
    _, b = _runs_of_three_seeds(seed=6)
    b = [s + 0.3 * y for s in b]  # the same genes, a second model
    for paired in (True, False):
        d = paired_auroc_difference(y, a, b, n_boot=3000, paired_seeds=paired)
        lo, hi = _brute_two_level(y, a, b, paired=paired)
        width = hi - lo
        assert abs(d["low"] - lo) < 0.08 * width and abs(d["high"] - hi) < 0.08 * width, paired
    genes_only = paired_auroc_difference(y, a[1:2], b[1:2], n_boot=3000)
    assert (d["high"] - d["low"]) > 1.5 * (genes_only["high"] - genes_only["low"])
