"""Whether the autoregressive generator's genes drift along the window as it draws them, from
training genes only (issue 39: a diagnostic, it chooses nothing).

A network trained with teacher forcing reads real bins before each bin; when it draws a gene
it reads the bins it drew itself, and an error can grow along the window. Under the training
genes' own levels this compares, per class and mark, three mean profiles along the window:

- ``real``: the training genes' (each bin's token read as its pool's mean value, so the three
  are on one footing);
- ``teacher_forced``: the network's expected value at each bin having read the gene's real
  bins before it (no drawing);
- ``drawn``: ``--draws`` genes drawn under each training gene's level.

It prints JSON per run, per ``"class mark"``: the drawn and teacher-forced profiles minus the
real one by tenths of the window (each tenth's mean), the drawn-minus-real slope over the whole
window (in the transformed space's SD), and the drawn profile's r with the real one.

    python tools/sampler_drift.py runs/arlbsf-e027-s1 [--draws 4]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import classes


def token_values(g) -> torch.Tensor:
    """Each token's mean transformed value over its pool, ``(marks, vocab)``."""
    return g.token_values()


def teacher_forced(g, x: torch.Tensor, c: torch.Tensor) -> np.ndarray:
    """The network's expected transformed value at each bin of genes ``x`` ``(genes, marks,
    bins)`` under conditions ``c``, having read each gene's own bins (and its own summary)
    before it: the same inputs as ``log_likelihood``."""
    tv = token_values(g)
    with torch.inference_mode():
        probs = g.token_probabilities(x, c)
    return torch.stack([(p * tv[m]).sum(-1) for m, p in enumerate(probs)], dim=1).numpy()


def as_token_values(g, x: torch.Tensor) -> np.ndarray:
    """Genes ``x`` with each bin replaced by its token's mean value."""
    tv = token_values(g)
    with torch.inference_mode():
        tok = g.tokens(x)
    return torch.stack([tv[m][tok[:, m]] for m in range(g.n_marks)], dim=1).numpy()


def drift_report(
    real: np.ndarray, y_real: np.ndarray, forced: np.ndarray, drawn: np.ndarray,
    y_drawn: np.ndarray, marks: list[str],
) -> dict:  # fmt: skip
    """Per ``"class mark"``: drawn and teacher-forced minus real by tenths of the window, the
    drawn-minus-real slope over the window and the drawn profile's r with the real one. Arrays
    ``(genes, marks, bins)``; ``forced`` has ``real``'s genes."""
    out = {}
    n_bins = real.shape[2]
    tenths = np.array_split(np.arange(n_bins), 10)
    for k in np.unique(y_real):
        name = {0: "low", 1: "high"}.get(int(k), str(k))
        r, f, d = (
            real[y_real == k].mean(0),
            forced[y_real == k].mean(0),
            drawn[y_drawn == k].mean(0),
        )
        for i, m in enumerate(marks):
            gap, tf_gap = d[i] - r[i], f[i] - r[i]
            out[f"{name} {m}"] = {
                "drawn_minus_real": [round(float(gap[t].mean()), 3) for t in tenths],
                "teacher_forced_minus_real": [round(float(tf_gap[t].mean()), 3) for t in tenths],
                "slope_per_window": round(
                    float(np.polyfit(np.arange(n_bins), gap, 1)[0]) * n_bins, 3
                ),
                "r_drawn_real": round(float(np.corrcoef(d[i], r[i])[0, 1]), 3),
            }
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--draws", type=int, default=4, help="drawn genes per training gene")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    report = {}
    for run in args.runs:
        gan, train = _model(run), run_splits(run)["train"]
        g = gan.module.generator
        g.eval()
        x = torch.from_numpy(np.asarray(gan.transformed(train)))
        y = classes(train)
        c = gan._conditions(np.asarray(train.y))
        drawn = gan.generate(np.repeat(np.asarray(train.y), args.draws), seed=args.seed)
        report[run] = {"cell": train.cell, "draws": args.draws, **drift_report(
            as_token_values(g, x), y, teacher_forced(g, x, c),
            as_token_values(g, torch.from_numpy(drawn)), np.repeat(y, args.draws),
            list(gan.marks))}  # fmt: skip
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
