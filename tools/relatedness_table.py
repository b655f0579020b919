"""The relatedness table (RESULTS section 1): per target cell and relatives ceiling, on a new
cell type (trained on the other cells), histone only (``logreg``, or any histone model),
compendium only (``prior``) and histone + compendium, test AUROC with its seed-and-gene 95%
interval, histone+compendium minus prior paired on the same genes, and the nearest relative
left in the compendium (Pearson r of log expression). Per ceiling: the mean over cells with a
bootstrap-over-cells interval, and on how many cells the paired interval lies above 0.

    python tools/relatedness_table.py results/relatedness [results/relatedness_mlp ...] \
        [--markdown] [--plot FIG.png]

Several results folders (e.g. another histone+compendium model run as its own study) are read
as one; every histone+compendium model gets its own columns.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from simplechrome.experiments import Results
from simplechrome.experiments.claims import over_cells_interval
from simplechrome.experiments.comparisons import paired_groups
from simplechrome.experiments.results import ResultsSet, summary


def rows(found: ResultsSet) -> pd.DataFrame:
    t = found.predictors
    t = t[t["source"] == "all_others"].copy()
    t["ceiling"] = t["relatives_above"].astype(float).fillna(np.inf)
    histone_only = t[t["compendium"].fillna("") == ""]
    out = []
    for (ceiling, cell), part in t.groupby(["ceiling", "test_cell"], sort=True):
        if np.isinf(ceiling) and part["compendium"].fillna("").eq("").all():
            continue
        every_both = part[part["model"].str.contains(r"\+compendium")]
        prior = part[part["model"] == "prior"]
        histone = histone_only[histone_only["test_cell"] == cell]
        row = {"ceiling": "none" if np.isinf(ceiling) else f"{ceiling:.2f}", "cell": cell,
               "nearest r": float(part["nearest_relative_r"].dropna().iloc[0])}  # fmt: skip
        for name, runs in (("histone", histone), ("prior", prior), ("", every_both)):
            for model, grp in runs.groupby("model", sort=False):
                s = summary(found, grp, ["model"], "test_auroc").iloc[0]
                key = name or model
                row[key] = f"{s['mean']:.4f} [{s['low']:.4f}, {s['high']:.4f}]"
                row[f"_{key}"] = s["mean"]
        for model, both in every_both.groupby("model", sort=False):
            if len(prior):
                d = paired_groups(found, both, prior)
                if d is None:
                    continue
                key = f"{model} - prior"
                row[key] = f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
                row[f"_gain {model}"], row[f"_above {model}"] = d["difference"], d["low"] > 0
        out.append(row)
    return pd.DataFrame(out)


def summaries(table: pd.DataFrame) -> pd.DataFrame:
    out = []
    for ceiling, part in table.groupby("ceiling", sort=False):
        row = {"ceiling": ceiling, "cells": len(part),
               "nearest r (median)": f"{part['nearest r'].median():.3f}"}  # fmt: skip
        for col in [c for c in part.columns if c.startswith("_") and not c.startswith("_above")]:
            values = part[col].dropna().to_numpy(dtype=float)
            if not len(values):
                row[col[1:]] = "-"  # not run at this ceiling
                continue
            lo, hi = over_cells_interval(values)
            sign = "+" if col.startswith("_gain") else ""
            row[col[1:]] = f"{values.mean():{sign}.4f} [{lo:{sign}.4f}, {hi:{sign}.4f}]"
        for col in [c for c in part.columns if c.startswith("_above")]:
            above = part[col].dropna()
            row[f"{col[7:]} above prior"] = (
                f"{int(above.sum())} of {len(above)}" if len(above) else "-"
            )
        out.append(row)
    return pd.DataFrame(out)


def plot(table: pd.DataFrame, path: str) -> None:
    """AUROC against the nearest relative's r: one line per cell and input, across ceilings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inputs = [c[1:] for c in table.columns
              if c.startswith("_") and not c.startswith(("_above", "_gain"))]  # fmt: skip
    fig, axes = plt.subplots(1, len(inputs), figsize=(4.2 * len(inputs), 4), sharey=True)
    for ax, name in zip(np.atleast_1d(axes), inputs, strict=True):
        for i, (cell, part) in enumerate(table.groupby("cell")):
            part = part.dropna(subset=[f"_{name}"]).sort_values("nearest r")
            ax.plot(part["nearest r"], part[f"_{name}"], marker="o", lw=1, label=cell,
                    color=plt.get_cmap("tab20")(i % 20))  # fmt: skip
        ax.set_title(name)
        ax.set_xlabel("nearest relative left in the compendium (r)")
    np.atleast_1d(axes)[0].set_ylabel("test AUROC (new cell type)")
    np.atleast_1d(axes)[-1].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in table.itertuples(index=False)]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    markdown = "--markdown" in argv
    folders = [a for i, a in enumerate(argv) if not a.startswith("--")
               and (i == 0 or argv[i - 1] != "--plot")]  # fmt: skip
    table = rows(ResultsSet([Results(f) for f in folders]))
    show = _markdown if markdown else (lambda t: t.to_string(index=False))
    print(show(summaries(table)))
    print()
    shown = table[[c for c in table.columns if not c.startswith("_")]]
    print(show(shown.assign(**{"nearest r": shown["nearest r"].map("{:.3f}".format)})))
    if "--plot" in argv:
        plot(table, argv[argv.index("--plot") + 1])


if __name__ == "__main__":
    main(sys.argv[1:])
