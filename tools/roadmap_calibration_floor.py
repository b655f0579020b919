"""How far any recalibration could take the shipped recipe's probabilities (MODEL_CARD.md).

A diagnostic, not a method a user could run: for each held-out cell of the leave-one-cell-out
evaluation (``tools/roadmap_loco.py``'s per-gene tables), a map from the uncalibrated probability
is fitted on **that cell's own validation genes**, reading its labels (which no user predicting
a new cell type has), then applied to its test genes. If even this map leaves a cell's test ECE
above a line, no calibration learned without the cell's labels can bring it under: what is
left is the model's ranking of the test block, not its scale. Beside it, the finite-sample
floor: the ECE of a perfectly calibrated model with the same probabilities and gene count
(labels drawn from the probabilities, median of ``--draws``).

    python tools/roadmap_calibration_floor.py results/roadmap_loco \
        -o docs/model_card/calibration_floor.csv

Prints a JSON summary; writes the per-cell table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

from simplechrome.pretrained import expected_calibration_error as ece


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid_map(p: np.ndarray, y: np.ndarray):
    """Platt scaling on the logit (slope and intercept by maximum likelihood)."""
    z = _logit(p)

    def nll(ab):
        q = np.clip(1 / (1 + np.exp(-(ab[0] * z + ab[1]))), 1e-9, 1 - 1e-9)
        return -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))

    a, b = minimize(nll, [1.0, 0.0]).x
    return (lambda q: 1 / (1 + np.exp(-(a * _logit(q) + b)))), float(a)


def cell_row(cell: str, t: pd.DataFrame, draws: int, rng: np.random.Generator) -> dict:
    t = t[t["in_compendium"] == 1]
    valid, test = t[t["split"] == "valid"], t[t["split"] == "test"]
    pv, yv = valid["raw_probability"].to_numpy(), valid["label"].to_numpy(float)
    pt, yt = test["raw_probability"].to_numpy(), test["label"].to_numpy(float)
    platt, slope = _sigmoid_map(pv, yv)
    iso = IsotonicRegression(out_of_bounds="clip").fit(pv, yv)
    shipped = test["probability"].to_numpy()
    floor = [ece((rng.random(len(shipped)) < shipped).astype(float), shipped) for _ in range(draws)]
    return {
        "cell": cell,
        "test_ece_shipped": ece(yt, shipped),
        "test_ece_own_valid_platt": ece(yt, platt(pt)),
        "test_ece_own_valid_isotonic": ece(yt, iso.predict(pt)),
        "own_valid_platt_slope": slope,
        "test_ece_calibrated_floor": float(np.median(floor)),
        "test_positive_rate": float(yt.mean()),
        "valid_positive_rate": float(yv.mean()),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work", type=Path, help="tools/roadmap_loco.py's --work folder")
    ap.add_argument("-o", "--out", type=Path, required=True, help="per-cell CSV")
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--line", type=float, default=0.03)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    files = sorted(args.work.glob("*.predictions.tsv"))
    if not files:
        raise SystemExit(f"{args.work}: no <cell>.predictions.tsv (run tools/roadmap_loco.py)")
    rows = [
        cell_row(
            f.name.split(".")[0], pd.read_csv(f, sep="\t", dtype={"gene_id": str}), args.draws, rng
        )
        for f in files
    ]
    table = pd.DataFrame(rows)
    table.to_csv(args.out, index=False, float_format="%.4f")
    above = table[
        table["test_ece_own_valid_isotonic"].clip(upper=table["test_ece_own_valid_platt"])
        > args.line
    ]
    print(
        json.dumps(
            {
                "cells": len(table),
                "line": args.line,
                "above_line_even_with_own_labels": above["cell"].tolist(),
                "max_test_ece_own_valid": float(
                    np.minimum(
                        table["test_ece_own_valid_platt"], table["test_ece_own_valid_isotonic"]
                    ).max()
                ),
                "median_floor": float(table["test_ece_calibrated_floor"].median()),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
