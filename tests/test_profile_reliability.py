"""tools/profile_reliability.py: how much of a class mean profile two halves of its genes share."""

from __future__ import annotations

import numpy as np

from tests.tool_modules import load_tool


def test_a_shaped_profile_is_reliable_and_a_flat_one_is_not():
    """2,000 genes, 50 bins, noise sd 1 per bin: a mark with a clear peak has halves that agree
    (reliability near 1); a flat one, pure noise, has none (near 0). Halves that shared genes (a
    fault a reused permutation could plant) would agree on noise too."""
    tool = load_tool("profile_reliability")
    rng = np.random.default_rng(0)
    bins = np.arange(50)
    peaked = np.exp(-((bins - 25) ** 2) / 20.0) + rng.normal(size=(2000, 50))
    flat = rng.normal(size=(2000, 50))
    r_peaked, r_flat = tool.split_half(peaked, halves=50), tool.split_half(flat, halves=50)
    assert r_peaked > 0.9 and tool.reliability(r_peaked) > 0.95
    assert abs(r_flat) < 0.15 and tool.reliability(r_flat) < 0.25
    assert tool.reliability(-0.2) == 0.0 and tool.reliability(1.0) == 1.0
