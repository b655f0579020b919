"""tools/roadmap_calibration_floor.py: a map fitted on a cell's own validation genes removes a
pure scale error, and the finite-sample floor of a calibrated model is small."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.tool_modules import load_tool


def _tool():
    return load_tool("roadmap_calibration_floor")


def _cell(rng, n=6000, slope=2.0):
    """True probabilities from a logit; the model reports the logit divided by ``slope``
    (under-confident), as the shipped model is on cells with close relatives."""
    z = rng.normal(0, 2, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    raw = 1 / (1 + np.exp(-z / slope))
    split = np.array(["train", "valid", "test"])[rng.integers(0, 3, n)]
    return pd.DataFrame(
        {"label": y, "raw_probability": raw, "probability": raw, "split": split, "in_compendium": 1}
    )


def test_own_labels_remove_a_scale_error_and_the_floor_is_small():
    tool = _tool()
    rng = np.random.default_rng(1)
    row = tool.cell_row("EX", _cell(rng), draws=50, rng=rng)
    assert row["test_ece_shipped"] > 0.08
    assert row["test_ece_own_valid_platt"] < 0.03
    assert row["test_ece_own_valid_isotonic"] < 0.04
    assert 1.6 < row["own_valid_platt_slope"] < 2.4
    assert row["test_ece_calibrated_floor"] < 0.03


def test_it_writes_the_table(tmp_path):
    tool = _tool()
    rng = np.random.default_rng(2)
    for cell in ("E001", "E002"):
        _cell(rng, n=3000).to_csv(tmp_path / f"{cell}.predictions.tsv", sep="\t", index=False)
    tool.main([str(tmp_path), "-o", str(tmp_path / "floor.csv"), "--draws", "5"])
    table = pd.read_csv(tmp_path / "floor.csv")
    assert list(table["cell"]) == ["E001", "E002"]
