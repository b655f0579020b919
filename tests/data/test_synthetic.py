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


def test_histone_data_arrays_are_read_only():
    """``HistoneData`` is frozen all the way down; the arrays it was given stay writable."""
    import numpy as np
    import pytest

    from simplechrome.data import HistoneData

    x = np.ones((2, 1, 4), np.float32)
    d = HistoneData(x=x, y=np.array([0, 1]), gene_ids=np.array(["a", "b"]), marks=("m",))
    for arr in (d.x, d.y, d.gene_ids):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = arr[1]
    x[0] = 5.0  # the caller's array is untouched by the view's flag
    assert d.x[0, 0, 0] == 5.0
