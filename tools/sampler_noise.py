"""Whether the autoregressive generator's drawn genes are off its training genes by more than
the training genes' own sampling error (issue 39: a diagnostic, it chooses nothing; training
and validation genes only).

Under each training gene's level the sampler draws ``--draws`` genes; at each bin it reads its
own draws before, and the bin's expected token value (the drawn distribution's mean of the
tokens' pool means) is averaged over the draws. The training genes' bins are read as their
tokens' pool means, so both sides are on one footing. Then per group of genes the expected
mean minus the real mean, over the real mean's standard error (``z``):

- ``buckets``: per level bucket and mark, the bins averaged (what the walk reads);
- ``classes``: per class (above or below the cell's median level), mark and bin (what the
  mean-profile line reads).

Each reports ``chi2_per_df`` (the mean of ``z`` squared: about 1 for a generator that drew the
training genes' population exactly, less for one that follows the genes themselves, more for
one off them) and the largest ``|z|``. ``--newton`` also fits a constant offset per level
bucket and mark (one Newton step on the bins' summed errors, no ridge) and gives the
validation walk's trend r to the training genes' (the validation genes' levels placing the
groups) and the buckets' errors before and after.

    python tools/sampler_noise.py runs/dev-E012-s6 [--draws 4] [--newton]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from simplechrome import models
from simplechrome.api import _model, run_splits
from simplechrome.interpret.gan import classes, training_trends, training_walk, trend_r

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sampler_drift import as_token_values  # noqa: E402  (the training genes' bins as token values)


def z_scores(real: np.ndarray, drawn: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Per group ``(groups, ...)``: ``drawn``'s mean minus ``real``'s over ``real``'s standard
    error of the mean (arrays ``(genes, ...)``, the same genes in the same order)."""
    out = []
    for g in groups:
        se = real[g].std(0, ddof=1) / np.sqrt(g.sum())
        out.append((drawn[g].mean(0) - real[g].mean(0)) / np.where(se > 0, se, np.nan))
    return np.stack(out)


def summary(z: np.ndarray) -> dict[str, float]:
    return {
        "chi2_per_df": round(float(np.nanmean(z**2)), 3),
        "max_abs_z": round(float(np.nanmax(np.abs(z))), 2),
    }


def noise_report(
    real: np.ndarray, drawn: np.ndarray, bucket: np.ndarray, y: np.ndarray, marks: list[str]
) -> dict:
    """``buckets`` per mark and ``classes`` per ``"class mark"`` (module docstring), for real
    and expected drawn values ``(genes, marks, bins)``, level buckets and classes per gene."""
    buckets = [bucket == b for b in np.unique(bucket)]
    zb = z_scores(real.mean(axis=2), drawn.mean(axis=2), buckets)  # (buckets, marks)
    out = {"buckets": {m: summary(zb[:, i]) for i, m in enumerate(marks)}, "classes": {}}
    for k in np.unique(y):
        zc = z_scores(real, drawn, [y == k])[0]  # (marks, bins)
        name = {0: "low", 1: "high"}.get(int(k), str(k))
        for i, m in enumerate(marks):
            out["classes"][f"{name} {m}"] = summary(zc[i])
    return out


def expected_drawn(g, c: torch.Tensor, *, draws: int, seed: int, batch: int = 512) -> np.ndarray:
    """The sampler's expected token value at each bin of genes drawn under levels ``c``,
    averaged over ``draws`` draws ``(genes, marks, bins)``."""
    gen = torch.Generator().manual_seed(seed)
    parts = []
    with torch.inference_mode():
        for i in range(0, len(c), batch):
            cb = c[i : i + batch]
            total = 0.0
            for _ in range(draws):
                noise = torch.randn(len(cb), g.noise_size, generator=gen)
                total = total + g._draw(noise, cb, moments=True)[1]
            parts.append((total / draws).numpy())
    return np.concatenate(parts)


def newton_offsets(gan, splits, x: torch.Tensor, c: torch.Tensor, *, draws: int) -> dict:
    """The validation walk and the buckets' mean absolute error, before and after a constant
    offset per level bucket and mark (module docstring)."""
    train, valid = splits["train"], splits["valid"]
    marks = list(gan.marks)
    g = gan.module.generator

    def walk() -> dict[str, float]:
        w = training_walk(gan, train, valid).mean(axis=2)
        return trend_r(training_trends(gan, train, valid), w, marks)

    def bucket_error(gen) -> list[float]:
        err, _ = gen.drawn_errors(x, c, draws=draws, seed=1)
        count = torch.bincount(gen._bucket(c), minlength=gen.level_buckets).clamp(min=1)
        per = err.sum(1) / (count[:, None] * gen.n_bins)  # (buckets, marks)
        return [round(float(v), 4) for v in per.abs().mean(0)]

    before = {"walk_r": walk(), "bucket_abs_error": bucket_error(g)}
    hp = dict(gan.hparams, drawn_offset=True)
    module = models.create(gan.name, n_marks=len(marks), n_bins=gan.n_bins, n_outputs=1, **hp)
    module.load_state_dict(gan.module.state_dict(), strict=False)
    module.eval()
    with torch.no_grad():
        err, var = g.drawn_errors(x, c, draws=draws, seed=0)
        step = err.sum(1, keepdim=True) / var.sum(1, keepdim=True).clamp(min=1e-12)
        module.generator.offset.copy_(step.expand_as(module.generator.offset))
    gan.module, gan.hparams = module, hp
    after = {"walk_r": walk(), "bucket_abs_error": bucket_error(module.generator)}
    return {"before": before, "after": after}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--draws", type=int, default=4, help="drawn genes per training gene")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--newton", action="store_true", help="also the constant bucket offsets")
    args = ap.parse_args(argv)
    report = {}
    for run in args.runs:
        gan, splits = _model(run), run_splits(run)
        train = splits["train"]
        g = gan.module.generator
        g.eval()
        x = torch.as_tensor(np.asarray(gan.transformed(train)))
        c = gan._conditions(np.asarray(train.y))
        drawn = expected_drawn(g, c, draws=args.draws, seed=args.seed)
        bucket = g._bucket(c).numpy()
        report[run] = {"cell": train.cell, "draws": args.draws, **noise_report(
            as_token_values(g, x), drawn, bucket, classes(train), list(gan.marks))}  # fmt: skip
        if args.newton:
            report[run]["newton"] = newton_offsets(gan, splits, x, c, draws=args.draws)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
