"""tools/walk_levels.py: validation genes resampled to a class mix."""

from __future__ import annotations

import numpy as np

from tests.tool_modules import load_tool


def test_the_resample_keeps_every_low_gene_and_reaches_the_share():
    tool = load_tool("walk_levels")
    y = np.r_[np.zeros(650, int), np.ones(1000, int)]
    idx = tool.mixed(y, 0.35)
    assert len(set(idx)) == len(idx) and set(np.flatnonzero(y == 0)) <= set(idx)
    assert abs(y[idx].mean() - 0.35) < 0.002
    assert len(tool.mixed(y, 0.9)) == len(y)  # too few high genes: all of them
