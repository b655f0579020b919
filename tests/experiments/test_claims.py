"""The verdict rules of ``experiments.claims`` at their edges, and issue 39's generator lines
on a fixed quality dictionary: the lines RESULTS.md's verdicts are read from."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from simplechrome.experiments import claims


def _diffs(*intervals: tuple[float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"cell": f"E{i:03d}", "difference": (lo + hi) / 2, "low": lo, "high": hi}
         for i, (lo, hi) in enumerate(intervals)]
    )  # fmt: skip


@pytest.mark.parametrize(
    "intervals, verdict",
    [
        ([(-0.01, 0.01), (-0.005, 0.002)], "holds"),  # on the edges: inside
        ([(-0.0101, 0.01), (-0.005, 0.002)], "holds partly"),  # just past one edge
        ([(-0.03, -0.0101), (-0.05, -0.02)], "does not hold"),  # every cell clearly worse
        ([(0.0101, 0.03), (0.02, 0.04)], "does not hold"),  # every cell clearly better
        ([(-0.03, -0.0101), (-0.005, 0.005)], "holds partly"),
        ([(-0.03, -0.01), (-0.05, -0.02)], "holds partly"),  # -0.01 itself is not beyond
    ],
)
def test_as_good_as_rule_at_its_edges(intervals, verdict):
    assert claims._equivalent(_diffs(*intervals)) == verdict


@pytest.mark.parametrize(
    "intervals, verdict",
    [
        ([(0.0001, 0.01), (0.002, 0.004)], "holds"),
        ([(0.0, 0.01), (0.002, 0.004)], "holds partly"),  # an interval touching 0 is no win
        ([(0.0, 0.01), (-0.002, 0.004)], "does not hold"),
    ],
)
def test_better_than_rule_at_its_edges(intervals, verdict):
    assert claims._better(_diffs(*intervals)) == verdict


@pytest.mark.parametrize(
    "lo, hi, verdict",
    [
        (-0.01, 0.01, "holds"),
        (-0.0101, 0.0, "holds partly"),
        (-0.03, -0.0101, "does not hold"),
        (-0.03, -0.01, "holds partly"),
        (0.0, 0.0101, "holds partly"),
    ],
)
def test_cross_cell_rule_over_cells_at_its_edges(lo, hi, verdict):
    assert claims._equivalent_over_cells(lo, hi) == verdict


def test_over_cells_interval_brackets_the_mean():
    lo, hi = claims.over_cells_interval([0.01, 0.02, 0.03, 0.04])
    assert 0.01 <= lo < 0.025 < hi <= 0.04


QUALITY = {
    "cell": "E012",
    "conditioned_on": "level",
    "two_sample_auroc": 0.80,
    "max_corr_gap": {"low": 0.30, "high": 0.25},  # against the test genes: no line reads it
    "max_corr_gap_train": {"low": 0.10, "high": 0.02},
    "profile_r": {"low": {"H3K4me3": 0.90}, "high": {"H3K4me3": 0.95}},
    "ceiling": {"low": {"H3K4me3": 0.95}, "high": {"H3K4me3": 0.96}},
    "tstr_auroc": 0.80,
    "trtr_auroc": 0.81,
    "zero_fraction": {
        "generated": {"H3K4me3": 0.6399},
        "real": {"H3K4me3": 0.50},  # 0.14 off the test genes': no line reads it
        "training": {"H3K4me3": 0.59},
    },
    "walk_trend_r": {"H3K4me3": 0.50},
    "walk_trend_r_train": {"H3K4me3": 0.90},
}


def test_generator_lines_every_line_met_on_its_edge():
    assert all(claims.generator_lines(QUALITY).values())
    assert claims.generator_verdict([QUALITY, QUALITY]) == "holds"
    assert claims.generator_verdict([]) == "does not hold"  # no run: nothing shown
    # fewer runs than the judged set: a miss already decides, all met does not
    assert claims.generator_verdict([QUALITY], complete=False) == "not yet judged"
    assert claims.generator_verdict([], complete=False) == "not yet judged"


@pytest.mark.parametrize(
    "path, value, line",
    [
        (("two_sample_auroc",), 0.8001, "two-sample AUROC <= 0.80"),
        (("max_corr_gap_train", "low"), 0.1001,
         "mark-mark correlation gap to the training genes <= 0.10 per class"),
        (("profile_r", "low", "H3K4me3"), 0.8999, "mean-profile r >= real-vs-real ceiling - 0.05"),
        (("tstr_auroc",), 0.7999, "train on synthetic >= train on real - 0.01"),
        (("zero_fraction", "generated", "H3K4me3"), 0.6401,
         "zero fraction within 0.05 of the training genes' per mark"),
        (("walk_trend_r_train", "H3K4me3"), 0.8999,
         "walk trend r to the training genes' >= 0.9 per mark (level-conditioned)"),
        (("conditioned_on",), "class",
         "walk trend r to the training genes' >= 0.9 per mark (level-conditioned)"),
    ],
)  # fmt: skip
def test_generator_lines_each_missed_just_past_its_edge(path, value, line):
    q = copy.deepcopy(QUALITY)
    node = q
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    met = claims.generator_lines(q)
    assert [name for name, ok in met.items() if not ok] == [line]
    # the margins say the same: under 0 on the missed line's part alone
    margins = claims.generator_margins(q)
    assert [n for n, parts in margins.items() if min(parts.values()) < 0] == [line]
    assert all(min(p.values()) >= 0 for p in claims.generator_margins(QUALITY).values())
    # one line missed on one run: the claim does not hold (the rule RESULTS.md states)
    assert claims.generator_verdict([QUALITY, q]) == "does not hold"
    assert claims.generator_verdict([QUALITY, q], complete=False) == "does not hold"


def test_tables_say_when_their_records_mix_code_versions():
    from simplechrome.experiments.results import code_versions_note

    one = pd.DataFrame({"code_version": ["0.2.0+gaaa", "0.2.0+gaaa"]})
    assert code_versions_note([one]) is None
    older = pd.DataFrame({"run_id": ["x"]})  # recorded before records carried it
    note = code_versions_note([one, older])
    assert note == "these records mix code versions: 0.2.0+gaaa (2 runs), unrecorded (1 run)"
    two = pd.DataFrame({"code_version": ["0.2.0+gbbb"]})
    assert "0.2.0+gbbb (1 run)" in code_versions_note([one, two])
