from __future__ import annotations

import numpy as np
import pytest

from simplechrome.config import TrainConfig
from simplechrome.errors import ModelMismatchError
from simplechrome.train import TrainedModel, fit

FAST = TrainConfig(max_epochs=2, patience=2, progress=False)


def test_save_reload_predict_gives_identical_scores_and_attention(tmp_path, synthetic):
    s = synthetic.splits
    trained = fit("attentivechrome", s["train"], s["valid"], config=FAST)
    bins, marks = trained.attention(s["test"])
    assert bins.shape == (s["test"].n_genes, 5, 100) and marks.shape == (s["test"].n_genes, 5)
    np.testing.assert_allclose(bins.sum(axis=2), 1, rtol=1e-5)
    trained.save(tmp_path / "m.pt")
    back = TrainedModel.load(tmp_path / "m.pt")
    np.testing.assert_array_equal(back.predict_scores(s["test"]), trained.predict_scores(s["test"]))
    b2, m2 = back.attention(s["test"])
    np.testing.assert_array_equal(b2, bins)
    np.testing.assert_array_equal(m2, marks)


def test_attention_of_a_model_without_it(synthetic):
    s = synthetic.splits
    trained = fit("lstm", s["train"], s["valid"], config=FAST)
    assert trained.evaluate(s["test"])["auroc"] > 0.6
    with pytest.raises(ModelMismatchError, match="no bin/mark attention"):
        trained.attention(s["test"])
