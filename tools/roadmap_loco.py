"""Leave-one-cell-out evaluation of a shipped model's recipe (MODEL_CARD.md).

For each cell of the recipe: the model is rebuilt without it (``pretrained.build(...,
leave_out=cell)``: its genes and its expression column out of every compendium, so it is a new
cell type to the model), then predicts every gene of that cell; scores are on its test genes.
Calibration choices are judged on its validation genes (``--choose``), never its test genes.

    python tools/roadmap_loco.py configs/roadmap_model.yaml -o docs/model_card \
        --work results/roadmap_loco

Writes ``loco.csv`` (per held-out cell: nearest relative's r, test AUROC / AUPRC / ECE, Pearson
r of log2(RPKM + 1); validation ECE), ``reliability.png`` and prints a JSON summary. The models
and per-gene predictions stay in ``--work`` (``--resume`` reuses finished ones).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from simplechrome import pretrained as P
from simplechrome.data import compendium as comp
from simplechrome.data.annotation import read_expression
from simplechrome.experiments.claims import over_cells_interval
from simplechrome.train.metrics import classification_metrics


def held_out_predictions(recipe: P.Recipe, cell: str, work: Path, resume: bool) -> pd.DataFrame:
    folder = work / cell
    table_file = work / f"{cell}.predictions.tsv"
    if resume and table_file.exists():
        return pd.read_csv(table_file, sep="\t", dtype={"gene_id": str})
    if not (resume and (folder / "manifest.json").exists()):
        P.build(recipe, folder, leave_out=cell)
    model = P.ShippedModel(folder)
    table, meta = model.predict(recipe.cells[cell], cell=cell)
    # the uncalibrated probability beside the shipped (calibrated) one, and what the
    # histone-only pair (used for genes the compendium lacks) says of every gene
    x, _ = model.inputs(model.read(recipe.cells[cell], cell=cell), cell=cell)
    table["raw_probability"] = model.networks["classifier"].predict_scores(x)
    alone = x.select_marks(model.marks)
    table["histone_probability"], table["histone_log2_rpkm"] = model.outputs(
        alone, histone_only=True
    )
    table["nearest_weight"] = meta["nearest_weight"]
    table.to_csv(table_file, sep="\t", index=False)
    return table


def summary_row(cell: str, t: pd.DataFrame, levels: pd.Series, r_nearest: float) -> dict:
    test, valid = t[t["split"] == "test"], t[t["split"] == "valid"]
    m = classification_metrics(test["label"].to_numpy(), test["probability"].to_numpy())
    y_level = levels.reindex(test["gene_id"]).to_numpy()
    ok = ~np.isnan(y_level)
    return {
        "cell": cell,
        "nearest_relative_r": round(r_nearest, 4),
        "test_auroc": m["auroc"],
        "test_auprc": m["auprc"],
        "test_ece": P.expected_calibration_error(test["label"], test["probability"]),
        "test_ece_uncalibrated": P.expected_calibration_error(
            test["label"], test["raw_probability"]
        ),
        "valid_ece": P.expected_calibration_error(valid["label"], valid["probability"]),
        "valid_ece_uncalibrated": P.expected_calibration_error(
            valid["label"], valid["raw_probability"]
        ),
        "test_pearson_log2_rpkm": float(np.corrcoef(y_level[ok], test["log2_rpkm"][ok])[0, 1]),
        "test_auroc_histone_only": classification_metrics(
            test["label"].to_numpy(), test["histone_probability"].to_numpy()
        )["auroc"],
        "test_ece_histone_only": P.expected_calibration_error(
            test["label"], test["histone_probability"]
        ),
        "test_pearson_histone_only": float(
            np.corrcoef(y_level[ok], test["histone_log2_rpkm"][ok])[0, 1]
        ),
        "n_test": len(test),
    }


def reliability_plot(tables: dict[str, pd.DataFrame], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    edges = np.linspace(0, 1, 11)
    for cell, t in tables.items():
        test = t[t["split"] == "test"]
        which = np.minimum((test["probability"] * 10).astype(int), 9)
        g = test.groupby(which).agg(p=("probability", "mean"), y=("label", "mean"))
        ax.plot(g["p"], g["y"], marker="o", ms=3, lw=1, alpha=0.7, label=cell)
    ax.plot(edges, edges, color="black", lw=1, ls="--", label="perfect")
    ax.set_xlabel("predicted probability (10 bins)")
    ax.set_ylabel("observed share above the median")
    ax.set_title("roadmap model, each cell left out (test genes)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def card_block(table: pd.DataFrame) -> str:
    """The leave-one-cell-out section of MODEL_CARD.md, from ``loco.csv``."""
    lo, hi = over_cells_interval(table["test_auroc"].to_numpy())
    hlo, hhi = over_cells_interval(table["test_auroc_histone_only"].to_numpy())
    ok = int((table["test_ece"] <= 0.03).sum())
    lines = [
        "## Leave-one-cell-out scores",
        "",
        "Each of the 11 cells left out in turn: the recipe retrained without it (its genes out "
        "of training, its expression column out of the stored compendium, so it is a new cell "
        "type to the model), then scored on its test genes (5,442). `nearest r`: Pearson r of "
        "log expression between the cell and its closest Roadmap relative left in the "
        "compendium (read from its RNA-seq only to describe it). ECE: expected calibration "
        "error, 10 equal-width bins. `histone only`: the shipped histone-only pair, which "
        "predicts genes the compendium lacks, scored on the same genes.",
        "",
        "| cell | nearest r | AUROC | AUPRC | ECE | Pearson r (log2 RPKM) "
        "| AUROC, histone only | Pearson r, histone only |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.sort_values("nearest_relative_r", ascending=False).itertuples():
        lines.append(
            f"| {r.cell} | {r.nearest_relative_r:.3f} | {r.test_auroc:.4f} | "
            f"{r.test_auprc:.4f} | {r.test_ece:.4f} | {r.test_pearson_log2_rpkm:.4f} | "
            f"{r.test_auroc_histone_only:.4f} | {r.test_pearson_histone_only:.4f} |"
        )
    lines += [
        f"| **mean** | | **{table['test_auroc'].mean():.4f}** [{lo:.4f}, {hi:.4f}] | "
        f"{table['test_auprc'].mean():.4f} | {table['test_ece'].mean():.4f} | "
        f"{table['test_pearson_log2_rpkm'].mean():.4f} | "
        f"{table['test_auroc_histone_only'].mean():.4f} [{hlo:.4f}, {hhi:.4f}] | "
        f"{table['test_pearson_histone_only'].mean():.4f} |",
        "",
        "Intervals: 95% bootstrap over the 11 cells. Expected calibration error is at most "
        f"0.03 on {ok} of {len(table)} cells (largest {table['test_ece'].max():.4f}, "
        f"{table.loc[table['test_ece'].idxmax(), 'cell']}); the reliability curves are in "
        "`docs/model_card/reliability.png`.",
        "",
        "    python tools/roadmap_loco.py configs/roadmap_model.yaml -o docs/model_card "
        "--work results/roadmap_loco",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe", type=Path)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("results/roadmap_loco"))
    ap.add_argument("--cells", nargs="*", help="default: every cell of the recipe")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--card-only", action="store_true", help="only render loco.md from loco.csv")
    args = ap.parse_args()
    if args.card_only:
        table = pd.read_csv(args.output / "loco.csv")
        (args.output / "loco.md").write_text(card_block(pd.read_csv(args.output / "loco.csv")))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    recipe = P.load_recipe(args.recipe)
    args.work.mkdir(parents=True, exist_ok=True)
    args.output.mkdir(parents=True, exist_ok=True)
    expression = read_expression(recipe.expression)
    tables, rows = {}, []
    for cell in args.cells or list(recipe.cells):
        t = held_out_predictions(recipe, cell, args.work, args.resume)
        tables[cell] = t
        r = comp.relative_correlations(expression, cell).iloc[0]
        levels = np.log2(expression[cell] + 1.0)
        rows.append(summary_row(cell, t, levels, float(r)))
        logging.info("%s", rows[-1])
    table = pd.DataFrame(rows)
    table.to_csv(args.output / "loco.csv", index=False, float_format="%.6f")
    reliability_plot(tables, args.output / "reliability.png")
    (args.output / "loco.md").write_text(card_block(pd.read_csv(args.output / "loco.csv")))
    lo, hi = over_cells_interval(table["test_auroc"].to_numpy())
    print(
        json.dumps(
            {
                "cells": len(table),
                "mean_test_auroc": float(table["test_auroc"].mean()),
                "auroc_interval_over_cells": [lo, hi],
                "mean_pearson": float(table["test_pearson_log2_rpkm"].mean()),
                "max_test_ece": float(table["test_ece"].max()),
                "max_test_ece_uncalibrated": float(table["test_ece_uncalibrated"].max()),
                "max_valid_ece": float(table["valid_ece"].max()),
                "cells_with_test_ece_at_most_0.03": int((table["test_ece"] <= 0.03).sum()),
                "mean_test_auroc_histone_only": float(table["test_auroc_histone_only"].mean()),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
