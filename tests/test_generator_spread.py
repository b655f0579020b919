"""tools/generator_spread.py: the margins inside issue 39's lines over training seeds."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from tests.experiments.test_claims import QUALITY
from tests.tool_modules import load_tool


def test_chance_met_follows_the_runs_mean_and_spread():
    tool = load_tool("generator_spread")
    assert tool.chance_met(np.array([0.02, 0.03, 0.025, 0.028])) > 0.95
    assert tool.chance_met(np.array([-0.02, -0.03, -0.025, -0.028])) < 0.05
    # centred on the line: about even
    assert 0.4 < tool.chance_met(np.array([-0.01, 0.01, -0.02, 0.02])) < 0.6
    # wider spread, same mean: less sure
    narrow = tool.chance_met(np.array([0.01, 0.012, 0.008, 0.011]))
    wide = tool.chance_met(np.array([0.04, -0.02, 0.03, -0.01]))
    assert narrow > wide
    assert tool.chance_met(np.array([0.01])) == 1.0 and tool.chance_met(np.array([-0.01])) == 0.0


def test_spread_names_the_part_and_seed_that_missed(tmp_path, capsys):
    """Three runs of one cell: the walk's H3K4me3 part scatters across its line and seed 1
    misses it; every other part is far inside its line and left out."""
    tool = load_tool("generator_spread")
    base = copy.deepcopy(QUALITY)
    base |= {"two_sample_auroc": 0.6, "tstr_auroc": 0.9, "trtr_auroc": 0.85,
             "max_corr_gap_train": {"low": 0.01, "high": 0.01},
             "profile_r": {"low": {"H3K4me3": 0.99}, "high": {"H3K4me3": 0.99}},
             "walk_reference_train": {"H3K4me3": 0.93}}  # fmt: skip
    base["zero_fraction"]["generated"]["H3K4me3"] = 0.59
    for seed, walk in enumerate([0.95, 0.88, 0.93]):
        q = copy.deepcopy(base) | {"walk_trend_r_train": {"H3K4me3": walk}}
        (tmp_path / f"gen__E012__s{seed}.json").write_text(json.dumps(q))
    result = tool.spread(tool.read(tmp_path), "gen")
    [part] = result["E012"]["parts"]
    assert part["line"].startswith("walk") and part["part"] == "H3K4me3"
    assert part["missed_seeds"] == [1] and part["runs"] == 3
    assert part["min"] == pytest.approx(-0.02) and part["mean"] == pytest.approx(0.02)
    assert part["median"] == pytest.approx(0.03)
    assert part["population_reference_margin"] == pytest.approx(0.03)
    assert 0.5 < part["p_fresh_network"] < 1.0
    assert part["p_three_fresh"] == pytest.approx(part["p_fresh_network"] ** 3)
    tool.main([str(tmp_path), "--generator", "gen"])
    assert "| E012 | walk" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        tool.main([str(tmp_path), "--generator", "other"])
    assert e.value.code == 2 and "no quality file" in capsys.readouterr().err
