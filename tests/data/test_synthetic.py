from __future__ import annotations

import numpy as np

from simplechrome.data import make_synthetic


def test_planted_marks_have_their_direction_and_position():
    cell = make_synthetic(1500, seed=2)
    data = cell.splits["train"]
    hi, lo = data.x[data.y == 1], data.x[data.y == 0]
    m = {name: i for i, name in enumerate(data.marks)}
    centre = slice(45, 55)
    # H3K4me3: more at the TSS in expressed genes; H3K27me3: less everywhere
    assert hi[:, m["H3K4me3"], centre].mean() > 2 * lo[:, m["H3K4me3"], centre].mean()
    assert hi[:, m["H3K27me3"]].mean() < lo[:, m["H3K27me3"]].mean()
    assert hi[:, m["H3K36me3"]].mean() > lo[:, m["H3K36me3"]].mean()
    # labels split at the median, so the classes are balanced
    assert abs(data.y.mean() - 0.5) < 0.1


def test_seeded():
    a, b = make_synthetic(200, seed=4), make_synthetic(200, seed=4)
    np.testing.assert_array_equal(a.splits["test"].x, b.splits["test"].x)
    assert not np.array_equal(a.splits["test"].x, make_synthetic(200, seed=5).splits["test"].x)


def test_regression_targets():
    cell = make_synthetic(300, task="regression", seed=0)
    y = cell.splits["train"].y
    assert y.dtype == np.float32 and cell.splits["train"].task == "regression"
    assert y.min() >= 0
