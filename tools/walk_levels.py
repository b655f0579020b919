"""Where in its group a level generator's walk step is drawn (issue 39's walk line), from
training and validation genes only.

A real group's mean averages over its genes' levels. Until 2026-12-05 the generator's step was
drawn at the group's median level alone; now it is drawn over the group's levels
(``interpret.gan.level_walk``). This prints both walks' trend r against the training genes'
trend, at the groups of the validation genes, resampled to a class mix (``--high-share``; the
published test block is 35% high on E012, against 61% for the training block, so its lowest
group holds more genes with no reads):

    python tools/walk_levels.py runs/arlb-e012-s0 --high-share 0.35

Prints JSON: per mark, r at the median and over the levels.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import (
    WALK_DRAWS,
    classes,
    expression_groups,
    level_matched_groups,
    level_walk,
    levels,
    training_trends,
    trend_r,
)


def mixed(y: np.ndarray, high_share: float, seed: int = 0) -> np.ndarray:
    """Indices keeping every low gene (class 0) and as many high ones, drawn without repeats,
    as make ``high_share`` of the whole (all of them if too few)."""
    low, high = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    n = min(len(high), round(high_share / (1 - high_share) * len(low)))
    pick = np.random.default_rng(seed).choice(high, n, replace=False)
    return np.sort(np.concatenate([low, pick]))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--high-share", type=float, default=0.35)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    gan, splits = _model(args.run), run_splits(args.run)
    train, valid = splits["train"], splits["valid"]
    valid = valid.subset(mixed(classes(valid), args.high_share))
    trend = training_trends(gan, train, valid)
    at_median = [np.full(1, np.median(levels(valid)[g])) for g in expression_groups(valid)]
    level = levels(train)
    over = [level[g] for g in level_matched_groups(valid, train)]
    out = {}
    for name, sets in (("median", at_median), ("over_levels", over)):
        walk = level_walk(gan, sets, n=WALK_DRAWS, seed=0).mean(axis=2)
        out[name] = {m: round(r, 3) for m, r in trend_r(trend, walk, gan.marks).items()}
    print(json.dumps({"run": args.run, "high_share": args.high_share, **out}, indent=1))


if __name__ == "__main__":
    main()
