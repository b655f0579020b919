"""tools/tss_by_level.py: a TSS feature's dependence on the level, per tenth of the levels."""

from __future__ import annotations

import numpy as np

from tests.tool_modules import ROOT, load_tool


def test_a_feature_that_follows_the_level_reads_so_and_a_population_average_reads_flat(
    monkeypatch,
):
    """Genes whose dip at the TSS deepens with the level read a falling row over the tenths;
    genes given everyone's average dip read about the same value in every tenth, though their
    whole window rises with the level; a tenth is a tenth even where a fifth of the genes share
    the lowest level."""
    monkeypatch.syspath_prepend(str(ROOT / "tools"))  # the tool reads sampler_drift beside it
    tool = load_tool("tss_by_level")
    rng = np.random.default_rng(0)
    n = 5000
    levels = np.concatenate([np.zeros(1000), rng.uniform(0.1, 5.0, n - 1000)])
    bins = np.arange(100)
    at_tss = ((bins >= 48) & (bins < 52)).astype(float)
    dip = -0.1 * levels  # 0 to -0.5
    # each gene's level raises its whole window; the feature is the TSS against its flanks
    noise = rng.normal(scale=0.5, size=(n, 1, 100)) + 0.2 * levels[:, None, None]
    follows = noise + dip[:, None, None] * at_tss[None, None]
    average = noise + dip.mean() * at_tss[None, None]
    tss, flanks = slice(48, 52), (slice(30, 40), slice(60, 70))
    values = {"real": tool.tss_feature(follows, tss, flanks),
              "flat": tool.tss_feature(average, tss, flanks)}  # fmt: skip
    rows = tool.by_tenth(levels, values, ["m"])["m"]
    assert len(rows) == 10 and rows[0]["lowest_level"] == 0.0 and rows[2]["lowest_level"] > 0
    real = np.array([r["real"] for r in rows])
    flat = np.array([r["flat"] for r in rows])
    assert abs(real[0]) < 0.05 and real[-1] < -0.4 and (np.diff(real) < 0.05).all()
    assert np.ptp(flat) < 0.1 and abs(flat.mean() - dip.mean()) < 0.03
