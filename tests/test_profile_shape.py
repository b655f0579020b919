"""tools/profile_shape.py: a generator's mean-profile shapes against the ceiling, noise apart."""

from __future__ import annotations

import numpy as np

from tests.tool_modules import load_tool


def test_the_right_shape_reaches_the_ceiling_and_a_shifted_one_does_not():
    """A flat-ish mark (a small peak under noise sd 0.3): many draws of the right shape reach
    about the ceiling, many draws of a peak moved by 8 bins stay far under it, and the
    spread ratio reads a halved peak as flatter."""
    tool = load_tool("profile_shape")
    rng = np.random.default_rng(0)
    bins = np.arange(60)
    peak = lambda at, h: h * np.exp(-((bins - at) ** 2) / 30.0)  # noqa: E731

    def genes(shape, n_per_class):
        yy = np.repeat([0, 1], n_per_class)
        return shape[None, None] + 0.3 * rng.normal(size=(len(yy), 1, 60)), yy

    valid, y_valid = genes(peak(30, 0.1), 1500)
    train, y_train = genes(peak(30, 0.1), 2000)
    right, y_right = genes(peak(30, 0.1), 12000)
    moved, y_moved = genes(peak(38, 0.1), 12000)
    flat, y_flat = genes(peak(30, 0.05), 12000)
    ok = tool.profile_shapes(right, y_right, valid, y_valid, train, y_train, ["m"])
    off = tool.profile_shapes(moved, y_moved, valid, y_valid, train, y_train, ["m"])
    half = tool.profile_shapes(flat, y_flat, valid, y_valid, train, y_train, ["m"])
    for c in ("low", "high"):
        assert ok[f"{c} m"]["r"] > ok[f"{c} m"]["ceiling"] - 0.05
        assert off[f"{c} m"]["r"] < off[f"{c} m"]["ceiling"] - 0.2
        assert half[f"{c} m"]["sd_ratio"] < 0.8 * ok[f"{c} m"]["sd_ratio"]
