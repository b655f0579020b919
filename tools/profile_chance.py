"""How often a perfect generator would miss issue 39's profile line by chance, from training
and validation genes only.

The line asks a generated class's mean profile to correlate with the real test genes' at
least as well as the real training genes' does, less 0.05. Both sides are sample means, and for
a mark whose mean profile is nearly flat (H3K9me3, E100's H3K36me3 in the low class) the
sampling noise is most of the profile, so the two r's differ by chance. Two real samples of one
population stand in for the ceiling's training genes (A) and for a perfect generator's draw
(B); a third for the test genes (R). A split misses when r(B, R) < r(A, R) - 0.05.

- ``--sizes halves`` (the default): A and B are two random halves of a class's training
  genes, R the validation genes. A half holds about as many genes as the measure's generated
  sample holds for the scarcer class of the test genes, but twice the noise of the ceiling's
  whole training set: the rates understate chance.
- ``--sizes measure``: A, B and R are drawn apart from the class's training and validation
  genes pooled, A as many as the class's training genes (the ceiling's side) and B as many as
  the class's test genes (the measure draws one generated gene per test gene; only the test
  block's class counts are read, none of its signal). R is the rest, fewer genes than the test
  class holds, which makes both r's noisier and their difference smaller: these rates too
  understate chance, by less. A class whose pool cannot hold the three (where the generated
  sample outnumbers the ceiling's training genes, as the low class does on these cells) is
  listed under ``not_drawn``, and ``any`` covers the others only.
- ``--sizes draws``: what the measure would show with ``--draws`` generated genes per test
  gene (each ``K`` in turn). A bootstrap, as the pool cannot hold that many genes apart: the
  pool's class mean stands for the population's, and A (the ceiling's training genes), R (the
  test genes) and B (``K`` times R) are means of that many pooled genes drawn with repeats.
- ``--sizes block``: the same at ``--draws``, but with the validation genes, a block of
  their own, as the fixed stand-in for the test genes, and the training genes' class mean for
  their population: A (the ceiling) and B (a perfect generator) are that mean plus the noise of
  as many training genes, drawn with repeats, as each side holds. It keeps what the pooled
  bootstrap loses: a block whose mean profile shares little with the training genes' (E100's
  low class on the test genes: ceilings of -0.22 for H3K9me3).

    python tools/profile_chance.py runs/ar-e012-s0 runs/ar-e027-s0 runs/ar-e100-s0
    python tools/profile_chance.py --sizes measure runs/ar-e100-s0
    python tools/profile_chance.py --sizes draws --draws 1,8 runs/ar-e100-s0

Prints JSON per run: per class and mark the median r of A against R, the share of splits that
miss and the 95th percentile of how far under the line a split falls (the size a chance miss
reaches); and the share of splits in which any pair misses.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import classes

MARGIN = 0.05  # issue 39's profile line: r >= ceiling - 0.05
NAMES = {0: "low", 1: "high"}


def _r(a: np.ndarray, ref: np.ndarray) -> list[float]:
    """Per mark, r of two mean profiles ``(marks, bins)``."""
    return [np.corrcoef(a[i], ref[i])[0, 1] for i in range(len(a))]


def _summary(out: dict, name: str, marks: list[str], r_a: np.ndarray, r_b: np.ndarray):
    """Adds per mark the median r of A, the share of splits that miss and ``under_95`` (the
    95th percentile of how far under the line B falls; negative: above it in 95% of splits);
    returns which splits miss on some mark."""
    miss = r_b < r_a - MARGIN
    for i, m in enumerate(marks):
        under = r_a[:, i] - MARGIN - r_b[:, i]  # how far B falls under the line
        out[f"{name} {m}"] = {
            "median_r": round(float(np.median(r_a[:, i])), 3),
            "miss": round(float(miss[:, i].mean()), 3),
            "under_95": round(float(np.quantile(under, 0.95)), 3),
        }
    return miss.any(axis=1)


def chance_misses(
    x: np.ndarray, y: np.ndarray, x_ref: np.ndarray, y_ref: np.ndarray, marks: list[str], *,
    splits: int = 200, seed: int = 0,
) -> dict:  # fmt: skip
    """``x``, ``y``: the training genes ``(genes, marks, bins)`` and classes; ``x_ref``,
    ``y_ref``: the genes standing in for the test genes. A and B are random halves of a class's
    training genes. Per ``"class mark"`` the figures of ``_summary``; ``"any"``: the share of
    splits in which some pair misses."""
    rng = np.random.default_rng(seed)
    out, anywhere = {}, np.zeros(splits, dtype=bool)
    for k in np.unique(y_ref):
        idx, ref = np.flatnonzero(y == k), x_ref[y_ref == k].mean(0)
        r_a, r_b = np.empty((splits, len(marks))), np.empty((splits, len(marks)))
        for s in range(splits):
            a, b, _ = draw_apart(rng, idx, len(idx) // 2, len(idx) - len(idx) // 2)
            r_a[s], r_b[s] = _r(x[a].mean(0), ref), _r(x[b].mean(0), ref)
        anywhere |= _summary(out, NAMES.get(int(k), str(k)), marks, r_a, r_b)
    out["any"] = round(float(anywhere.mean()), 3)
    return out


def draw_apart(rng: np.random.Generator, idx: np.ndarray, n_a: int, n_b: int):
    """``idx`` split at random into A (``n_a`` genes), B (``n_b``) and R (the rest), no gene
    in two of them."""
    p = rng.permutation(idx)
    return p[:n_a], p[n_a : n_a + n_b], p[n_a + n_b :]


def chance_at_sizes(
    x: np.ndarray, y: np.ndarray, sizes: dict[int, tuple[int, int]], marks: list[str], *,
    splits: int = 200, seed: int = 0,
) -> dict:  # fmt: skip
    """``x``, ``y``: the pooled genes ``(genes, marks, bins)`` and classes; ``sizes``: per
    class, how many genes A and B hold. Each split draws A, B and R (the rest) apart from the
    class's genes. Per ``"class mark"`` the figures of ``_summary``; ``"any"`` as above."""
    rng = np.random.default_rng(seed)
    out, anywhere = {}, np.zeros(splits, dtype=bool)
    for k, (n_a, n_b) in sorted(sizes.items()):
        idx = np.flatnonzero(y == k)
        if n_a + n_b >= len(idx):
            raise ValueError(f"class {k}: {len(idx)} genes cannot hold A ({n_a}), B ({n_b}) and R")
        r_a, r_b = np.empty((splits, len(marks))), np.empty((splits, len(marks)))
        for s in range(splits):
            a, b, rest = draw_apart(rng, idx, n_a, n_b)
            ref = x[rest].mean(0)
            r_a[s], r_b[s] = _r(x[a].mean(0), ref), _r(x[b].mean(0), ref)
        anywhere |= _summary(out, NAMES.get(int(k), str(k)), marks, r_a, r_b)
    out["any"] = round(float(anywhere.mean()), 3)
    return out


def _resampled_means(rng: np.random.Generator, resid: np.ndarray, n: int) -> np.ndarray:
    """The mean of ``n`` rows of ``resid`` ``(genes, features)`` drawn with repeats."""
    counts = rng.multinomial(n, np.full(len(resid), 1.0 / len(resid)))
    return counts @ resid / n


def chance_at_draws(
    x: np.ndarray, y: np.ndarray, sizes: dict[int, tuple[int, int]], marks: list[str],
    draws: int, *, splits: int = 200, seed: int = 0,
) -> dict:  # fmt: skip
    """A bootstrap of a perfect generator drawing ``draws`` genes per test gene. ``x``, ``y``:
    the pooled genes ``(genes, marks, bins)`` and classes; ``sizes``: per class the training
    genes (A, the ceiling's side) and the test genes (R) it holds. The pool's class mean
    stands for the population's; A, R and B (``draws`` times R's size) are means of that many
    of the pool's genes drawn with repeats, apart. Per ``"class mark"`` the figures of
    ``_summary``; ``"any"`` as above. The pool's mean carries its own noise (about half A's
    variance), shared by the three, which lifts every r a little for a flat mark."""
    rng = np.random.default_rng(seed)
    out, anywhere = {}, np.zeros(splits, dtype=bool)
    for k, (n_a, n_r) in sorted(sizes.items()):
        pool = x[y == k]
        mu = pool.mean(0)
        resid = (pool - mu).reshape(len(pool), -1)
        r_a, r_b = np.empty((splits, len(marks))), np.empty((splits, len(marks)))
        for s in range(splits):
            a, r, b = (mu + _resampled_means(rng, resid, n).reshape(mu.shape)
                       for n in (n_a, n_r, draws * n_r))  # fmt: skip
            r_a[s], r_b[s] = _r(a, r), _r(b, r)
        anywhere |= _summary(out, NAMES.get(int(k), str(k)), marks, r_a, r_b)
    out["any"] = round(float(anywhere.mean()), 3)
    return out


def chance_against_block(
    x: np.ndarray, y: np.ndarray, x_ref: np.ndarray, y_ref: np.ndarray,
    n_test: dict[int, int], marks: list[str], draws: int, *, splits: int = 200, seed: int = 0,
) -> dict:  # fmt: skip
    """A perfect generator against another block of genes. ``x``, ``y``: the training genes;
    ``x_ref``, ``y_ref``: the validation genes, a block of their own as the test genes are,
    whose class mean profile is R, fixed. The training genes' class mean stands for their
    population's: B is it plus the noise of ``draws`` x ``n_test[k]`` of them drawn with
    repeats (a perfect generator at the measure's sizes), A it plus the noise of as many as
    the class holds (the ceiling: a sample of that population). Where R shares little of
    the training genes' shape, A's noise alone moves r(A, R) either way, which a generator
    without that noise cannot follow. Per ``"class mark"`` the figures of ``_summary``;
    ``"any"`` as above."""
    rng = np.random.default_rng(seed)
    out, anywhere = {}, np.zeros(splits, dtype=bool)
    for k in sorted(n_test):
        pool = x[y == k]
        mu, ref = pool.mean(0), x_ref[y_ref == k].mean(0)
        resid = (pool - mu).reshape(len(pool), -1)
        r_a, r_b = np.empty((splits, len(marks))), np.empty((splits, len(marks)))
        for s in range(splits):
            a, b = (mu + _resampled_means(rng, resid, n).reshape(mu.shape)
                    for n in (len(pool), draws * n_test[k]))  # fmt: skip
            r_a[s], r_b[s] = _r(a, ref), _r(b, ref)
        anywhere |= _summary(out, NAMES.get(int(k), str(k)), marks, r_a, r_b)
    out["any"] = round(float(anywhere.mean()), 3)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--splits", type=int, default=200)
    ap.add_argument("--sizes", choices=("halves", "measure", "draws", "block"), default="halves")
    ap.add_argument(
        "--draws",
        default="1,2,4,8,16",
        help="with --sizes draws: generated genes per test gene, comma-separated",
    )
    args = ap.parse_args(argv)
    report = {}
    for run in args.runs:
        gan, splits = _model(run), run_splits(run)
        train, valid, marks = splits["train"], splits["valid"], list(gan.marks)
        y_train, y_valid = classes(train), classes(valid)
        if args.sizes == "halves":
            found = chance_misses(gan.transformed(train), y_train, gan.transformed(valid),
                                  y_valid, marks, splits=args.splits)  # fmt: skip
        elif args.sizes == "draws":
            n_test = np.bincount(classes(splits["test"]))  # the class counts only
            y = np.concatenate([y_train, y_valid])
            x = np.concatenate([gan.transformed(train), gan.transformed(valid)])
            sizes = {int(k): (int((y_train == k).sum()), int(n_test[k])) for k in np.unique(y)}
            found = {f"draws {d}": chance_at_draws(x, y, sizes, marks, d, splits=args.splits)
                     for d in map(int, args.draws.split(","))}  # fmt: skip
        elif args.sizes == "block":
            counts = np.bincount(classes(splits["test"]))  # the class counts only
            n_test = {int(k): int(counts[k]) for k in np.unique(y_train)}
            found = {f"draws {d}": chance_against_block(
                gan.transformed(train), y_train, gan.transformed(valid), y_valid, n_test, marks,
                d, splits=args.splits) for d in map(int, args.draws.split(","))}  # fmt: skip
        else:
            n_test = np.bincount(classes(splits["test"]))  # the class counts only
            y, sizes, skipped = np.concatenate([y_train, y_valid]), {}, {}
            for k in np.unique(y_train):
                n_a, n_b, pool = int((y_train == k).sum()), int(n_test[k]), int((y == k).sum())
                if n_a + n_b < pool:
                    sizes[int(k)] = (n_a, n_b)
                else:  # a generated sample larger than the ceiling's: no shortfall to size
                    skipped[NAMES.get(int(k), str(k))] = f"{pool} genes, A {n_a}, B {n_b}"
            x = np.concatenate([gan.transformed(train), gan.transformed(valid)])
            found = chance_at_sizes(x, y, sizes, marks, splits=args.splits)
            found["not_drawn"] = skipped  # "any" covers the drawn classes only
        report[run] = {"cell": train.cell, "sizes": args.sizes, **found}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
