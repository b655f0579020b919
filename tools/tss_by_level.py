"""How the autoregressive generator's TSS feature follows the expression level, from training
genes only (issue 39: a diagnostic, it chooses nothing).

Each mark's TSS feature is its mean over the bins at the TSS (``--tss``, default the middle
four of 100) minus its mean over two flanks (``--flanks``: bins 30-39 and 60-69 of 100). Per
tenth of the training genes' levels it prints the feature three ways: the training genes'
own, the network's teacher-forced expectation at each bin (having read each gene's real bins
before it, as ``tools/sampler_drift.py`` computes it) and genes drawn under each training
gene's level (``--draws`` per gene). A network that has the feature's dependence on the level
gives about the real values in every tenth; one that carries a population-average feature
into every level gives a flatter row.

    python tools/tss_by_level.py runs/arlbsfe-e100-s0 [--draws 2]

Prints JSON per run: per mark, per tenth (its lowest level), ``real``, ``teacher_forced`` and
``drawn``.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from sampler_drift import teacher_forced

from simplechrome.api import _model, run_splits


def tss_feature(x: np.ndarray, tss: slice, flanks: tuple[slice, slice]) -> np.ndarray:
    """Per gene and mark: the mean over ``tss`` minus the mean over the two ``flanks``;
    ``x`` ``(genes, marks, bins)``."""
    flank = np.concatenate([x[:, :, flanks[0]], x[:, :, flanks[1]]], axis=2)
    return x[:, :, tss].mean(2) - flank.mean(2)


def by_tenth(levels: np.ndarray, values: dict[str, np.ndarray], marks: list[str]) -> dict:
    """Each array in ``values`` ``(genes, marks)`` averaged over the genes in each tenth of
    ``levels`` (ties broken by rank, so a tenth is a tenth even where many genes share a level)."""
    order = np.argsort(levels, kind="stable")
    out = {m: [] for m in marks}
    for part in np.array_split(order, 10):
        for i, m in enumerate(marks):
            row = {"lowest_level": round(float(levels[part].min()), 3)}
            row.update({k: round(float(v[part, i].mean()), 3) for k, v in values.items()})
            out[m].append(row)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--draws", type=int, default=2, help="drawn genes per training gene")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tss", default="48:52", help="the TSS bins, start:stop")
    ap.add_argument("--flanks", default="30:40,60:70", help="two flank ranges, start:stop")
    args = ap.parse_args(argv)
    tss = slice(*map(int, args.tss.split(":")))
    flanks = tuple(slice(*map(int, f.split(":"))) for f in args.flanks.split(","))
    report = {}
    for run in args.runs:
        gan, train = _model(run), run_splits(run)["train"]
        g = gan.module.generator
        g.eval()
        x = np.asarray(gan.transformed(train))
        levels = np.asarray(train.y, dtype=float)
        forced = teacher_forced(g, torch.from_numpy(x), gan._conditions(levels))
        drawn = gan.generate(np.repeat(levels, args.draws), seed=args.seed)
        drawn = drawn.reshape(len(levels), args.draws, *drawn.shape[1:]).mean(1)
        named = (("real", x), ("teacher_forced", forced), ("drawn", drawn))
        values = {k: tss_feature(v, tss, flanks) for k, v in named}
        report[run] = {"cell": train.cell, "draws": args.draws,
                       **by_tenth(levels, values, list(gan.marks))}  # fmt: skip
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
