"""Paired comparisons read from results folders: two groups of runs scored on the same test
genes (a difference with a seed-and-gene interval), and the neighbour models' comparisons the
report shows. Like ``results``, nothing here trains or fits: stored predictions only."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from .. import models
from .results import Results, fmt, summary
from .stats import paired_auroc_difference
from .stored import stored


def neighbour_models(table: pd.DataFrame) -> pd.Series:
    """Which records are of models that read their neighbour genes (registry ``inputs``)."""
    if "model_name" not in table:
        return pd.Series(False, index=table.index)
    return table["model_name"].map(lambda n: models.get(n).inputs == "neighbor_latents")


def neighbour_setting(params: str) -> tuple[str, int]:
    """``(by, k)`` of a neighbour model's recorded parameters."""
    p = json.loads(params)
    by = p.get("by", "genome")
    return by, 0 if by == "none" else int(p.get("k", 10))


def paired_runs(results: Results, a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float] | None:
    """Paired AUROC difference of runs ``a`` minus runs ``b`` (same seeds, same test genes)."""
    seeds = sorted(set(a["seed"]) & set(b["seed"]))
    sa = [results.test_predictions(a[a["seed"] == s]["run_id"].iloc[0]) for s in seeds]
    sb = [results.test_predictions(b[b["seed"] == s]["run_id"].iloc[0]) for s in seeds]
    if not seeds or any(x is None for x in sa + sb):
        return None
    return paired_auroc_difference(
        sa[0]["label"].to_numpy(),
        [x["score"].to_numpy() for x in sa],
        [x["score"].to_numpy() for x in sb],
    )


def paired_groups(results: Results, a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float] | None:
    """Mean AUROC of runs ``a`` minus that of runs ``b`` (any numbers of runs), on the test
    genes they share, with the seed-and-gene interval (the same gene resample for both; seeds
    drawn independently for each, as the groups' runs need not pair)."""
    preds_a = [results.test_predictions(r) for r in a["run_id"]]
    preds_b = [results.test_predictions(r) for r in b["run_id"]]
    if not preds_a or not preds_b or any(p is None for p in preds_a + preds_b):
        return None
    genes = preds_a[0]["gene_id"].to_numpy()
    if any(not np.array_equal(p["gene_id"].to_numpy(), genes) for p in preds_a + preds_b):
        return None
    return paired_auroc_difference(
        preds_a[0]["label"].to_numpy(),
        [p["score"].to_numpy() for p in preds_a],
        [p["score"].to_numpy() for p in preds_b],
        paired_seeds=False,
    )


@stored
def neighbour_comparisons(results: Results) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Neighbour-aware models, per test cell and training source (protocol): their scores, and
    each one's paired difference against the same model without neighbours, random neighbours
    of the same k, the compendium ``prior`` and the best model that reads no neighbours."""
    t = results.predictors
    t = t[t["size"] == -1]
    nb_mask = neighbour_models(t)
    if not nb_mask.any() or not results.has_runs:
        return pd.DataFrame(), pd.DataFrame()
    scores = summary(results, t, ["test_cell", "source", "model"], "test_auroc")
    rows = []
    for (cell, source), part in t.groupby(["test_cell", "source"], sort=False):
        nb = part[neighbour_models(part)].copy()
        if nb.empty:
            continue
        nb[["by", "k"]] = [neighbour_setting(p) for p in nb["model_params"]]
        singles = part[~neighbour_models(part)]
        here = scores[(scores["test_cell"] == cell) & (scores["source"] == source)]
        single_scores = here[here["model"].isin(singles["model"])]
        best = single_scores.sort_values("mean")["model"].iloc[-1] if len(single_scores) else None
        priors = [m for m in singles["model_name"].unique() if models.get(m).inputs == "compendium"]
        for model, runs in nb.groupby("model", sort=False):
            by, k = runs["by"].iloc[0], int(runs["k"].iloc[0])
            row: dict[str, Any] = {
                "cell": cell,
                "source": source,
                "model": model,
                "neighbours": by,
                "k": k,
                "test AUROC": fmt(here.set_index("model").loc[model]),
            }
            comparisons = {
                "vs no neighbours": nb[nb["by"] == "none"] if by != "none" else None,
                "vs random, same k": nb[(nb["by"] == "random") & (nb["k"] == k)]
                if by not in ("random", "none")
                else None,
                "vs prior": singles[singles["model_name"] == priors[0]] if priors else None,
                f"vs best without neighbours ({best})": singles[singles["model"] == best]
                if best
                else None,
            }
            for name, other in comparisons.items():
                if other is not None and not other.empty:
                    d = paired_runs(results, runs, other)
                    if d:
                        excludes = d["low"] > 0 or d["high"] < 0
                        row[name.split(" (")[0]] = (
                            f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
                            + (" (excludes 0)" if excludes else "")
                        )
                        if name.startswith("vs best"):
                            row["best without neighbours"] = best
            rows.append(row)
    return scores, pd.DataFrame(rows)
