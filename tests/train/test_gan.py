from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from simplechrome import models
from simplechrome.config import TrainConfig
from simplechrome.data import HistoneData
from simplechrome.errors import ModelMismatchError
from simplechrome.interpret.gan import (
    expression_groups,
    gan_quality,
    mark_correlations,
    profile_correlations,
    two_sample_auroc,
    walks,
)
from simplechrome.train import TrainedModel, fit
from simplechrome.train.gan import GANTask, sliced_wasserstein

FAST = TrainConfig(max_epochs=3, patience=3, batch_size=64, progress=False)


@pytest.mark.parametrize(("marks", "bins", "outputs"), [(5, 100, 2), (3, 37, 2), (2, 10, 1)])
def test_generator_and_critic_shapes(marks, bins, outputs):
    m = models.create("gan", n_marks=marks, n_bins=bins, n_outputs=outputs)
    c = torch.tensor([0, 1, 1]) if outputs == 2 else torch.randn(3)
    x = m(m.noise(3), c)
    assert x.shape == (3, marks, bins)
    assert m.score(x, c).shape == (3,)
    gp = GANTask(m, lr=1e-3, seed=0).gradient_penalty(torch.randn(3, marks, bins), x.detach(), c)
    assert gp.ndim == 0 and torch.isfinite(gp) and gp >= 0


def test_sliced_wasserstein_is_zero_for_equal_sets_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 2, 10))
    b = rng.standard_normal((400, 2, 10))
    assert sliced_wasserstein(a, a) == pytest.approx(0.0, abs=1e-12)
    near = sliced_wasserstein(a, b)
    far = sliced_wasserstein(a, b + 1.0)
    assert near < 0.15 < far
    # one gene repeated (mode collapse) is far from the real spread even with the right mean
    collapsed = np.repeat(a.mean(0, keepdims=True), 500, axis=0)
    assert sliced_wasserstein(a, collapsed) > 3 * near


def test_quality_measures_on_known_sets():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((400, 3, 20))
    y = np.repeat([0, 1], 200)
    real[y == 1, 0, 8:12] += 2.0  # a peak in mark 0 for the high class
    same = real + 0.01 * rng.standard_normal(real.shape)
    table = profile_correlations(real, same, y, ("a", "b", "c"), "classification")
    assert list(table["class"]) == ["low"] * 3 + ["high"] * 3
    assert table["pearson_r"].min() > 0.95
    flipped = profile_correlations(real, -real, y, ("a", "b", "c"), "classification")
    assert flipped["pearson_r"].max() < -0.95
    corr = mark_correlations(real)
    assert corr.shape == (3, 3) and np.allclose(np.diag(corr), 1.0)
    twin = rng.standard_normal((400, 3, 20))
    twin[y == 1, 0, 8:12] += 2.0
    assert 0.4 < two_sample_auroc(real, twin) < 0.6  # same distribution
    assert two_sample_auroc(real, twin + 0.5) > 0.95  # shifted


def test_gan_trains_through_fit_saves_and_generates_deterministically(tmp_path, synthetic):
    s = synthetic.splits
    gan = fit("gan", s["train"], s["valid"], config=FAST)
    h = gan.history
    assert {"train_wasserstein", "val_sliced_wasserstein"} <= set(h.columns)
    assert h["best"].sum() == 1
    best = h.loc[h["best"], "val_sliced_wasserstein"].iloc[0]
    assert best == h["val_sliced_wasserstein"].min()
    y = np.array([0, 1, 1, 0])
    a, b = gan.generate(y, seed=3), gan.generate(y, seed=3)
    assert a.shape == (4, 5, 100) and np.array_equal(a, b)
    assert not np.array_equal(a, gan.generate(y, seed=4))
    gan.save(tmp_path / "gan.pt")
    back = TrainedModel.load(tmp_path / "gan.pt")
    assert np.array_equal(back.generate(y, seed=3), a)
    assert np.array_equal(back.critic_scores(s["test"]), gan.critic_scores(s["test"]))
    metrics = gan.evaluate(s["test"])
    assert {"sliced_wasserstein", "profile_r_min", "mark_corr_max_diff"} <= set(metrics)
    with pytest.raises(ModelMismatchError):
        gan.predict_scores(s["test"])
    with pytest.raises(ModelMismatchError):
        gan.generate(np.array([2]))


def test_regression_gan_conditions_on_the_level(synthetic):
    s = synthetic.splits
    reg = {
        k: dataclasses.replace(v, task="regression", y=np.linspace(0, 8, v.n_genes))
        for k, v in s.items()
    }
    gan = fit(
        "gan", reg["train"], reg["valid"], config=dataclasses.replace(FAST, task="regression")
    )
    x = gan.generate(np.array([0.5, 7.5]))
    assert x.shape == (2, 5, 100)
    groups = expression_groups(reg["test"])
    assert len(groups) == 9 and sum(g.sum() for g in groups) == reg["test"].n_genes
    level = reg["test"].y
    assert all(level[a].max() <= level[b].min() for a, b in zip(groups, groups[1:], strict=False))
    real_walk, walk = walks(gan, reg["test"], n=16)
    assert walk.shape == real_walk.shape == (9, 5, 100)


@pytest.mark.slow
def test_gan_learns_class_profiles():
    """A GAN trained on two clearly different classes generates each class's mean profile."""
    rng = np.random.default_rng(0)
    n, bins = 1200, 20
    y = np.repeat([0, 1], n // 2)
    x = rng.poisson(2.0, size=(n, 2, bins)).astype(np.float32)
    bump = np.exp(-0.5 * ((np.arange(bins) - 10) / 2.0) ** 2)
    x[y == 1, 0] += rng.poisson(20 * bump, size=(n // 2, bins))  # mark a peaks at the TSS
    x[y == 0, 1] += rng.poisson(6.0, size=(n // 2, bins))  # mark b is higher everywhere
    ids = np.array([f"G{i}" for i in range(n)])

    def split(sel):
        return HistoneData(x=x[sel], y=y[sel], gene_ids=ids[sel], marks=("a", "b"), cell="toy")

    order = rng.permutation(n)
    train, valid, test = (split(np.sort(order[i::3])) for i in range(3))
    torch.manual_seed(0)
    gan = fit(
        "gan",
        train,
        valid,
        config=TrainConfig(max_epochs=60, patience=60, batch_size=32, progress=False, lr=5e-4),
        model_params={"channels": 32, "latent": 8},
    )
    q = gan_quality(gan, train, test)
    p = q.tables["mean_profiles"]
    peak = p[(p["mark"] == "a") & (p["source"] == "generated") & p["bin"].between(9, 12)]
    mean_a = peak.groupby("class")["value"].mean()
    assert mean_a["high"] > mean_a["low"] + 1.0
    assert q.numbers["profile_r"]["high"]["a"] > 0.9
    assert q.numbers["tstr_auroc"] > 0.9
    # generated genes sit on the real grid: integer reads, exact zeros among them
    counts = gan.transform.inverse(gan.generate(test.y))
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-3)
    assert (
        abs(q.numbers["zero_fraction"]["generated"]["a"] - q.numbers["zero_fraction"]["real"]["a"])
        < 0.2
    )


def test_mean_matching_term_vanishes_when_class_means_agree():
    from simplechrome.train.gan import _mean_gap

    x = torch.randn(8, 2, 5)
    c = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    assert float(_mean_gap(x, x.flip(0).flip(0), c)) == 0.0
    shuffled = x[torch.tensor([3, 2, 1, 0, 7, 6, 5, 4])]  # same genes within each class
    assert float(_mean_gap(shuffled, x, c)) == pytest.approx(0.0, abs=1e-12)
    shifted = x.clone()
    shifted[c == 1] += 1.0
    assert float(_mean_gap(shifted, x, c)) == pytest.approx(0.5)  # class 1 off by 1: (0 + 1) / 2


def test_gan_with_mean_matching_trains(synthetic):
    s = synthetic.splits
    gan = fit("gan", s["train"], s["valid"], config=FAST, model_params={"mean_matching": 5.0})
    assert gan.hparams["mean_matching"] == 5.0 and len(gan.history) == 3
