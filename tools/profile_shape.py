"""Whether a generator's mean profiles have the real shapes, apart from sampling noise, from
training and validation genes only (issue 39's profile line, for choosing a design).

The profile line compares one generated gene per test gene with the test genes, so for a nearly
flat mean profile (H3K9me3; E100's low-class H3K36me3) the generated side's sampling noise alone
can put it under its line (`tools/profile_chance.py`). Here each validation gene gets ``--draws``
generated genes under its own condition, so the generated mean profile carries little noise, and
its r with the validation genes' mean profile is set against the ceiling's (the training genes'
r with them). A generator with the real shapes reaches about the ceiling whatever the draw; one
whose shapes are off stays under it. ``sd_ratio``: the generated profile's spread over the bins
over the training genes' (under 1: flatter; the training side's noise adds to its spread).

    python tools/profile_shape.py runs/arlb-e100-s0 [--draws 8]

Prints JSON per run: per class and mark ``r`` (generated against validation), ``ceiling``
(training against validation) and ``sd_ratio``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import classes


def profile_shapes(
    fake: np.ndarray, y_fake: np.ndarray, valid: np.ndarray, y_valid: np.ndarray,
    train: np.ndarray, y_train: np.ndarray, marks: list[str],
) -> dict:  # fmt: skip
    """Per ``"class mark"``: r of ``fake``'s class mean profile with ``valid``'s, the ceiling
    (``train``'s with ``valid``'s) and the spread ratio; arrays ``(genes, marks, bins)``."""
    out = {}
    for k in np.unique(y_valid):
        f, v, t = (a[ya == k].mean(0) for a, ya in
                   ((fake, y_fake), (valid, y_valid), (train, y_train)))  # fmt: skip
        name = {0: "low", 1: "high"}.get(int(k), str(k))
        for i, m in enumerate(marks):
            out[f"{name} {m}"] = {
                "r": round(float(np.corrcoef(f[i], v[i])[0, 1]), 3),
                "ceiling": round(float(np.corrcoef(t[i], v[i])[0, 1]), 3),
                "sd_ratio": round(float(f[i].std() / t[i].std()), 3),
            }
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--draws", type=int, default=8, help="generated genes per validation gene")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    report = {}
    for run in args.runs:
        gan, splits = _model(run), run_splits(run)
        train, valid = splits["train"], splits["valid"]
        y_valid = classes(valid)
        fake = gan.generate(np.repeat(np.asarray(valid.y), args.draws), seed=args.seed)
        report[run] = {"cell": train.cell, "draws": args.draws, **profile_shapes(
            fake, np.repeat(y_valid, args.draws), gan.transformed(valid), y_valid,
            gan.transformed(train), classes(train), list(gan.marks))}  # fmt: skip
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
