from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from simplechrome.experiments.stats import (
    bootstrap_mean,
    delong,
    paired_auroc_difference,
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
