"""How much of a class's mean profile is reproducible, from the training genes alone (issue 39).

The profile line compares a generated class's mean profile with the real test genes' as well as
the training genes' mean profile does (the ceiling). Where the training genes' mean profile is
mostly their sampling noise, that ceiling is the correlation of two noise patterns, and no
generator of the training genes' population can be held to it. Per class and mark: the median r
between the mean profiles of two random halves of the training genes (``split_half``, over
``--halves`` splits), and by Spearman-Brown the reliability of all of them (``reliability``: the
share of their mean profile's spread over the bins that another sample of the same population
would repeat; 0 where the halves do not agree at all).

    python tools/profile_reliability.py runs/dtilt-e012-s0 runs/dtilt-e027-s0 runs/dtilt-e100-s0
    python tools/profile_reliability.py --copied runs/dtilt-e100-s0

Prints JSON per run: per ``"class mark"`` the number of training genes, ``split_half`` and
``reliability``; with ``--copied`` also ``copied``: the r of the generator's class mean profile
(``--draws`` generated genes under each training gene's level) with the training genes' own.
Where the reliability is near 0, a ``copied`` well above 0 is the generator repeating the
training genes' noise pattern.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import classes

NAMES = {0: "low", 1: "high"}


def split_half(x: np.ndarray, *, halves: int = 200, seed: int = 0) -> float:
    """The median r between two random halves' mean profiles of ``x`` ``(genes, bins)``."""
    rng = np.random.default_rng(seed)
    rs = []
    for _ in range(halves):
        p = rng.permutation(len(x))
        a, b = x[p[: len(x) // 2]].mean(0), x[p[len(x) // 2 :]].mean(0)
        rs.append(np.corrcoef(a, b)[0, 1])
    return float(np.median(rs))


def reliability(r_half: float) -> float:
    """Spearman-Brown: the reliability of the whole from a half's (0 below no agreement)."""
    r = max(r_half, 0.0)
    return 2 * r / (1 + r)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--halves", type=int, default=200)
    ap.add_argument("--copied", action="store_true", help="and the generator's r with them")
    ap.add_argument("--draws", type=int, default=8)
    args = ap.parse_args(argv)
    out = {}
    for run in args.runs:
        model, train = _model(run), run_splits(run)["train"]
        x, y = np.asarray(model.transformed(train)), classes(train)
        if args.copied:
            fake = model.generate(np.repeat(np.asarray(train.y), args.draws, axis=0), seed=0)
            y_fake = np.repeat(y, args.draws)
        rows: dict = {"cell": train.cell}
        for k in np.unique(y):
            for m, mark in enumerate(model.marks):
                r = split_half(x[y == k, m], halves=args.halves)
                rows[f"{NAMES.get(int(k), k)} {mark}"] = {
                    "genes": int((y == k).sum()),
                    "split_half": round(r, 3),
                    "reliability": round(reliability(r), 3),
                }
                if args.copied:
                    gen, real = fake[y_fake == k, m].mean(0), x[y == k, m].mean(0)
                    rows[f"{NAMES.get(int(k), k)} {mark}"]["copied"] = round(
                        float(np.corrcoef(gen, real)[0, 1]), 3
                    )
        out[run] = rows
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
