"""The walk line's reference for runs measured before ``gan quality`` recorded it, and how often a
generator of the training genes' population would miss the line.

``walk_trend_r_train`` compares a generator's walk with the training genes' trend at the test
groups' levels. That trend carries the training genes' own sampling noise, which a generator of
their population (rather than of the genes themselves) does not follow; ``walk_reference_train``
(``interpret.gan.walk_reference``) is what such a generator reaches in expectation. New quality
files record it; this prints it for a run's cell (it depends on the cell's splits and transform,
not on the generator's weights):

    python tools/walk_reference.py runs/ar-e012-s0 runs/ar-e027-s0 runs/ar-e100-s0

``--chance``: a bootstrap of the same (training genes only; the test genes' levels place the
groups, as in the measure): the training genes resampled with repeats within each group stand
for another training sample, and the training genes' own trend for their population's. Per
mark the median r of the resampled trend with the genes' own (``median_r``, the bootstrap's
counterpart of the reference) and the share of resamples under issue 39's line of 0.9
(``miss``): how often a generator that drew the population's trend exactly would miss it,
over the training samples the data could have given.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import level_matched_groups, trend_r, walk_reference

LINE = 0.9  # issue 39's walk line


def walk_chance(
    x: np.ndarray, groups: list[np.ndarray], marks: list[str], *, draws: int = 200, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Per mark ``median_r`` and ``miss`` (module docstring) for per-gene mean signals ``x``
    ``(genes, marks)`` in ``groups`` (boolean masks)."""
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(g) for g in groups]
    trend = np.stack([x[i].mean(0) for i in members])
    rs = np.empty((draws, len(marks)))
    for b in range(draws):
        boot = np.stack([x[rng.choice(i, len(i))].mean(0) for i in members])
        rs[b] = list(trend_r(trend, boot, marks).values())
    return {
        m: {"median_r": round(float(np.median(rs[:, k])), 3),
            "miss": round(float((rs[:, k] < LINE).mean()), 3)}
        for k, m in enumerate(marks)
    }  # fmt: skip


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--chance", action="store_true", help="and a perfect generator's misses")
    ap.add_argument("--draws", type=int, default=200)
    args = ap.parse_args(argv)
    out = {}
    for run in args.runs:
        model, splits = _model(run), run_splits(run)
        ref = walk_reference(model, splits["train"], splits["test"])
        out[run] = {"cell": splits["train"].cell, **{m: round(r, 3) for m, r in ref.items()}}
        if args.chance:
            x = model.transformed(splits["train"]).mean(axis=2)
            groups = level_matched_groups(splits["test"], splits["train"])
            out[run]["chance"] = walk_chance(x, groups, list(model.marks), draws=args.draws)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
