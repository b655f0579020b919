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


def _clear_and_faint(*, seed: int, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of genes over 50 bins, noise sd 1 per bin, two marks: a clear bump at the
    middle and the same bump at 6% of its size (its class mean's noise about its size)."""
    rng = np.random.default_rng(seed)
    bump = np.exp(-((np.arange(50) - 25) ** 2) / 20.0)
    shape = np.stack([bump, 0.06 * bump])  # clear, faint
    y = np.repeat([0, 1], per_class)
    return shape[None] + rng.normal(size=(len(y), 2, 50)), y


def test_at_the_measure_sizes_a_small_draw_against_a_large_ceiling_misses_more_often():
    """A and B drawn apart from one pool: with A four times B (the ceiling's training genes
    against a generated sample the size of a small test class) a faint shape, its mean noise
    about its size, is missed more often than with A and B alike (R as large in both), and a
    clear one never."""
    tool = load_tool("profile_chance")
    x, y = _clear_and_faint(seed=1, per_class=4000)
    marks = ["clear", "faint"]
    alike = tool.chance_at_sizes(x, y, {0: (1250, 1250), 1: (1250, 1250)}, marks, splits=100)
    apart = tool.chance_at_sizes(x, y, {0: (2000, 500), 1: (2000, 500)}, marks, splits=100)
    for cls in ("low", "high"):
        assert alike[f"{cls} clear"]["miss"] == apart[f"{cls} clear"]["miss"] == 0.0
        assert apart[f"{cls} faint"]["miss"] > alike[f"{cls} faint"]["miss"] + 0.1
        assert apart[f"{cls} faint"]["under_95"] > alike[f"{cls} faint"]["under_95"]
    try:
        tool.chance_at_sizes(x, y, {0: (3000, 1000)}, marks, splits=2)
    except ValueError as e:
        assert "cannot hold" in str(e)
    else:
        raise AssertionError("a pool too small for A, B and R was accepted")


def test_the_three_samples_share_no_gene():
    """A, B and R are drawn apart: every gene of the class in exactly one, A and B their
    sizes. A shared gene would tie two sample means together and hide chance misses."""
    tool = load_tool("profile_chance")
    idx = np.arange(10, 110)
    for seed in range(5):
        a, b, rest = tool.draw_apart(np.random.default_rng(seed), idx, 40, 25)
        assert len(a) == 40 and len(b) == 25 and len(rest) == 35
        assert np.array_equal(np.sort(np.concatenate([a, b, rest])), idx)


def test_more_draws_per_test_gene_take_a_perfect_generators_chance_misses_away():
    """The bootstrap of ``--sizes draws``: with A (the ceiling's side) four times R, one draw
    per test gene misses a faint shape (its mean noise well over its size) in most splits,
    sixteen in few, and a clear one is never missed.
    B resampled at R's size whatever the draws (a fault the sizes could plant) would not
    shrink the misses."""
    tool = load_tool("profile_chance")
    x, y = _clear_and_faint(seed=2, per_class=3000)
    marks, sizes = ["clear", "faint"], {0: (2000, 500), 1: (2000, 500)}
    one = tool.chance_at_draws(x, y, sizes, marks, 1, splits=100)
    many = tool.chance_at_draws(x, y, sizes, marks, 16, splits=100)
    for cls in ("low", "high"):
        assert one[f"{cls} clear"]["miss"] == many[f"{cls} clear"]["miss"] == 0.0
        assert one[f"{cls} faint"]["miss"] > 0.5 > 0.2 > many[f"{cls} faint"]["miss"]
        assert many[f"{cls} faint"]["under_95"] < one[f"{cls} faint"]["under_95"] - 0.2
    assert many["any"] < one["any"] - 0.5
