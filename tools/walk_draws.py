"""How many generated genes per step the walk needs (issue 39's walk line), from training and
validation genes only.

A perfect generator would draw real training genes. Its walk, ``n`` genes per step at each of
the groups' levels, would still not reproduce the training genes' trend exactly: each step's
mean is a sample mean. Here the training genes stand in for generated ones: at each step ``n``
are drawn (with replacement) from the training genes at that step's levels, the trend is
compared with all of them (``trend_r``, as ``walk_trend_r_train``), ``--repeats`` times. The
levels come from the **validation** genes (``level_matched_groups``), so no test gene is read.
A generator's walk holds its noise fixed across steps, which can only smooth its trend, so
this bounds the noise of the measure from above.

    python tools/walk_draws.py runs/ar-e012-s0 --draws 256 1024 4096

Prints JSON: per draw count and mark, the median r, its 5th percentile and the share of
repeats below the line (0.9).

``--network K``: the run's own walk (``training_walk``, the measure's draw count) at walk seeds
0 to K-1, each against the training genes' trend at the validation groups' levels: how much of
a network's ``walk_trend_r_train`` is the walk's own draw (the noise held fixed per seed), to
set beside the spread between networks trained with other seeds.

    python tools/walk_draws.py runs/dev-E012-s6 --network 6
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import (
    level_matched_groups,
    training_trends,
    training_walk,
    trend_r,
)

LINE = 0.9  # issue 39's walk line


def perfect_walk_r(x: np.ndarray, groups: list[np.ndarray], marks: list[str], n: int,
                   repeats: int, seed: int = 0) -> np.ndarray:  # fmt: skip
    """``(repeats, marks)``: r between the genes' trend (``x``: per-gene mean signal per mark,
    ``groups``: the steps) and the trend of ``n`` genes drawn per step."""
    rng = np.random.default_rng(seed)
    full = np.stack([x[g].mean(0) for g in groups])
    out = np.empty((repeats, len(marks)))
    for r in range(repeats):
        drawn = np.stack([x[rng.choice(np.flatnonzero(g), n)].mean(0) for g in groups])
        out[r] = list(trend_r(full, drawn, marks).values())
    return out


def seed_spread(trend: np.ndarray, walk, seeds: int, marks: list[str]) -> dict:
    """Per mark the r of ``walk(seed)`` (``(steps, marks, bins)``, averaged over the bins)
    against ``trend`` (``(steps, marks)``) at each seed below ``seeds``, and their mean, sd
    (n - 1), smallest and largest."""
    rs = np.array([list(trend_r(trend, walk(s).mean(axis=2), marks).values())
                   for s in range(seeds)])  # fmt: skip
    return {
        m: {"r": [round(float(v), 4) for v in rs[:, i]],
            "mean": round(float(rs[:, i].mean()), 4),
            "sd": round(float(rs[:, i].std(ddof=1)), 4) if seeds > 1 else None,
            "min": round(float(rs[:, i].min()), 4), "max": round(float(rs[:, i].max()), 4)}
        for i, m in enumerate(marks)
    }  # fmt: skip


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--draws", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--network", type=int, metavar="K", help="the run's own walk at K seeds")
    args = ap.parse_args(argv)
    gan = _model(args.run)
    splits = run_splits(args.run)
    train = splits["train"]
    if args.network:
        valid = splits["valid"]
        spread = seed_spread(
            training_trends(gan, train, valid),
            lambda s: training_walk(gan, train, valid, seed=s),
            args.network,
            list(gan.marks),
        )
        print(json.dumps({"run": args.run, "cell": train.cell, "walk_seeds": spread}, indent=1))
        return
    groups = level_matched_groups(splits["valid"], train)
    # per gene its mean over the bins: averaged per group, the measure's expression_trends
    x = gan.transformed(train).mean(axis=2)
    marks = list(gan.marks)
    report = {}
    for n in args.draws:
        rs = perfect_walk_r(x, groups, marks, n, args.repeats)
        report[n] = {
            m: {"median_r": round(float(np.median(rs[:, i])), 3),
                "p05_r": round(float(np.quantile(rs[:, i], 0.05)), 3),
                "below_line": round(float((rs[:, i] < LINE).mean()), 3)}
            for i, m in enumerate(marks)
        }  # fmt: skip
    print(json.dumps({"run": args.run, "cell": train.cell, "draws": report}, indent=1))


if __name__ == "__main__":
    main()
