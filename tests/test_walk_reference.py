"""tools/walk_reference.py --chance: how often a perfect generator would miss the walk line."""

from __future__ import annotations

import numpy as np

from tests.tool_modules import load_tool


def test_a_shallow_trend_misses_the_walk_line_by_chance_and_a_steep_one_does_not():
    """Nine groups of 200 genes, noise sd 1 per gene: a mark that rises by 1 per group is never
    under the line; one that rises by 0.02 per group, its trend mostly noise, often is.
    A resample compared with itself in place of the genes' trend (a fault a shared draw could
    plant) would never miss."""
    tool = load_tool("walk_reference")
    rng = np.random.default_rng(0)
    step = np.repeat(np.arange(9), 200)
    x = np.stack([step * 1.0, step * 0.02], axis=1) + rng.normal(size=(len(step), 2))
    groups = [step == k for k in range(9)]
    out = tool.walk_chance(x, groups, ["steep", "shallow"], draws=100)
    assert out["steep"]["miss"] == 0.0 and out["steep"]["median_r"] > 0.99
    assert out["shallow"]["miss"] > 0.3 and out["shallow"]["median_r"] < 0.9
