"""tools/walk_draws.py: the walk measure's own noise, from a perfect generator's draws."""

from __future__ import annotations

import numpy as np

from tests.tool_modules import load_tool


def test_a_shallow_trend_needs_more_draws_than_a_steep_one():
    """Nine steps of 2,000 genes: a steep trend is met at 0.9 with 64 draws per step; a
    shallow one (a tenth of the genes' spread) is not, and is with 16,384. A drawn trend
    compared with itself (the fault a cache could plant) would give 1 at every count."""
    tool = load_tool("walk_draws")
    rng = np.random.default_rng(0)
    steps = np.repeat(np.arange(9), 2000)
    x = np.stack([steps * 0.5, 0.1 * np.sin(steps)], axis=1) + rng.normal(size=(len(steps), 2))
    groups = [steps == k for k in range(9)]
    few = tool.perfect_walk_r(x, groups, ["steep", "shallow"], 64, 50)
    many = tool.perfect_walk_r(x, groups, ["steep", "shallow"], 16384, 50)
    assert (few[:, 0] > 0.9).all() and (many[:, 0] > 0.99).all()
    assert np.median(few[:, 1]) < 0.9 < np.quantile(many[:, 1], 0.05)
    assert (few < 1 - 1e-9).all()
