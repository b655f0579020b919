"""tools/profile_chance.py: how often two real samples of one population miss the profile line."""

from __future__ import annotations

import numpy as np

from tests.tool_modules import load_tool


def test_a_flat_profile_misses_by_chance_and_a_shaped_one_does_not():
    """Two classes of 2,000 genes, 50 bins, noise sd 1 per bin: a mark with a clear peak is never
    missed; a flat one (its profile pure noise) often is. Half B compared with itself in place
    of an independent half (a fault a shared draw could plant) would never miss."""
    tool = load_tool("profile_chance")
    rng = np.random.default_rng(0)
    bins = np.arange(50)
    shape = np.stack([np.exp(-((bins - 25) ** 2) / 20.0), np.zeros(50)])  # peaked, flat
    y = np.repeat([0, 1], 2000)
    x = shape[None] + rng.normal(size=(len(y), 2, 50))
    y_ref = np.repeat([0, 1], 1500)
    x_ref = shape[None] + rng.normal(size=(len(y_ref), 2, 50))
    out = tool.chance_misses(x, y, x_ref, y_ref, ["peaked", "flat"], splits=100)
    for cls in ("low", "high"):
        assert out[f"{cls} peaked"]["miss"] == 0.0 and out[f"{cls} peaked"]["median_r"] > 0.9
        assert out[f"{cls} flat"]["miss"] > 0.2
        # a chance miss's size: a peaked mark stays above the line, a flat one falls under it
        assert out[f"{cls} peaked"]["under_95"] < 0 < out[f"{cls} flat"]["under_95"]
    assert out["any"] >= max(out[f"{c} flat"]["miss"] for c in ("low", "high"))
