"""How often a perfect generator would miss issue 39's profile line by chance, from training
and validation genes only.

The line asks a generated class's mean profile to correlate with the real test genes' at
least as well as the real training genes' does, less 0.05. Both sides are sample means, and for
a mark whose mean profile is nearly flat (H3K9me3, E100's H3K36me3 in the low class) the
sampling noise is most of the profile, so the two r's differ by chance. Here two random
halves of a class's training genes stand in for the ceiling's training genes (A) and for a
perfect generator's draw (B): two real samples of one population. The validation genes stand
in for the test genes. A split misses when r(B, valid) < r(A, valid) - 0.05. A half holds half
the training genes, about as many as the measure's generated sample holds for the scarcer
class of the test genes (one generated gene per test gene), and twice the noise of the
ceiling's whole training set: the rates are an approximation, not a bound.

    python tools/profile_chance.py runs/ar-e012-s0 runs/ar-e027-s0 runs/ar-e100-s0

Prints JSON per run: per class and mark the median r of a half against the validation genes,
the share of splits that miss and the 95th percentile of how far under the line a split falls
(the size a chance miss reaches); and the share of splits in which any pair misses.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import classes

MARGIN = 0.05  # issue 39's profile line: r >= ceiling - 0.05


def chance_misses(
    x: np.ndarray, y: np.ndarray, x_ref: np.ndarray, y_ref: np.ndarray, marks: list[str], *,
    splits: int = 200, seed: int = 0,
) -> dict:  # fmt: skip
    """``x``, ``y``: the training genes ``(genes, marks, bins)`` and classes; ``x_ref``,
    ``y_ref``: the genes standing in for the test genes. Per ``"class mark"``, the median r of
    half A with the reference, the share of ``splits`` in which half B misses the line and
    ``under_95``, the 95th percentile of how far under the line half B falls (negative: above
    it in 95% of splits), which sizes a chance miss; ``"any"``: the share in which some pair
    misses."""
    rng = np.random.default_rng(seed)
    out, anywhere = {}, np.zeros(splits, dtype=bool)
    for k in np.unique(y_ref):
        idx, ref = np.flatnonzero(y == k), x_ref[y_ref == k].mean(0)
        r_a, r_b = np.empty((splits, len(marks))), np.empty((splits, len(marks)))
        for s in range(splits):
            p = rng.permutation(idx)
            a, b = x[p[: len(p) // 2]].mean(0), x[p[len(p) // 2 :]].mean(0)
            r_a[s] = [np.corrcoef(a[i], ref[i])[0, 1] for i in range(len(marks))]
            r_b[s] = [np.corrcoef(b[i], ref[i])[0, 1] for i in range(len(marks))]
        miss = r_b < r_a - MARGIN
        anywhere |= miss.any(axis=1)
        name = {0: "low", 1: "high"}.get(int(k), str(k))
        for i, m in enumerate(marks):
            under = r_a[:, i] - MARGIN - r_b[:, i]  # how far half B falls under the line
            out[f"{name} {m}"] = {
                "median_r": round(float(np.median(r_a[:, i])), 3),
                "miss": round(float(miss[:, i].mean()), 3),
                "under_95": round(float(np.quantile(under, 0.95)), 3),
            }
    out["any"] = round(float(anywhere.mean()), 3)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--splits", type=int, default=200)
    args = ap.parse_args(argv)
    report = {}
    for run in args.runs:
        gan, splits = _model(run), run_splits(run)
        train, valid = splits["train"], splits["valid"]
        report[run] = {"cell": train.cell, **chance_misses(
            gan.transformed(train), classes(train), gan.transformed(valid), classes(valid),
            list(gan.marks), splits=args.splits)}  # fmt: skip
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
