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


def test_seed_spread_reads_each_seed_walk_against_the_trend():
    """A walk that is the trend plus noise drawn per seed: r below 1 and a spread above 0; the
    same walk at every seed: one r and sd 0. A walk compared with itself (the fault of reading
    the walk for the trend) would give 1 everywhere."""
    tool = load_tool("walk_draws")
    trend = np.stack([np.linspace(0, 1, 9), 0.05 * np.sin(np.arange(9))], axis=1)

    def noisy(seed):
        noise = np.random.default_rng(seed).normal(scale=0.02, size=(9, 2, 4))
        return trend[:, :, None] + noise

    out = tool.seed_spread(trend, noisy, 5, ["steep", "shallow"])
    assert out["steep"]["min"] > 0.99 and out["shallow"]["max"] < 0.999
    assert out["shallow"]["sd"] > 0 and len(out["shallow"]["r"]) == 5
    assert out["shallow"]["min"] <= out["shallow"]["mean"] <= out["shallow"]["max"]
    fixed = tool.seed_spread(trend, lambda s: noisy(0), 3, ["steep", "shallow"])
    assert fixed["shallow"]["sd"] == 0 and fixed["shallow"]["r"][0] == out["shallow"]["r"][0]
