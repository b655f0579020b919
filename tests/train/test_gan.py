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
    PROFILE_DRAWS,
    _corr_gaps,
    class_matched_draw,
    classes,
    expression_groups,
    expression_trends,
    gan_quality,
    level_matched_groups,
    mark_correlations,
    population_trend_r,
    profile_correlations,
    real_reference,
    training_zero_fraction,
    two_sample_auroc,
    walk_ceiling,
    walks,
)
from simplechrome.train import TrainedModel, fit
from simplechrome.train.gan import GANTask
from simplechrome.train.generation_metrics import sliced_wasserstein

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
    # the walk's real-vs-real ceiling: each split's trends are the real walk's; the same genes
    # against themselves reach 1
    trends = expression_trends(gan, reg["test"])
    np.testing.assert_allclose(trends, real_walk.mean(axis=2), rtol=1e-5, atol=1e-6)
    same = walk_ceiling(gan, reg["test"], reg["test"])
    assert list(same) == list(gan.marks) and all(r == pytest.approx(1.0) for r in same.values())


def test_a_level_walk_step_averages_over_its_groups_levels():
    """A generator whose signal jumps at level 0 (as genes with no reads do): a step over the
    levels 0, 0, 0, 2, 2 reads the jump's share of the group (0.6), not its median's (1.0);
    a step without levels reads NaN, and each draw keeps its rank across the steps."""
    from types import SimpleNamespace

    from simplechrome.interpret.gan import level_walk

    class Module:
        def eval(self):
            return self

        def noise(self, n, generator):
            return torch.randn(n, 3, generator=generator)

        def generator(self, noise, c):
            return (c == 0).float()[:, None, None].expand(-1, 1, 2) + 0 * noise[:, :1, None]

    gan = SimpleNamespace(module=Module(), transform=SimpleNamespace(scale_y=lambda y: y))
    sets = [np.array([0.0, 0.0, 0.0, 2.0, 2.0]), np.array([]), np.array([2.0, 3.0])]
    walk = level_walk(gan, sets, n=1000, seed=0)
    assert walk.shape == (3, 1, 2)
    assert walk[0] == pytest.approx(0.6, abs=1e-3)
    assert np.isnan(walk[1]).all() and walk[2] == pytest.approx(0.0)


def test_population_trend_r_is_the_noiseless_trends_correlation_with_the_genes():
    """Genes drawn around a known shallow trend: the estimate from the genes alone matches the
    correlation of their trend with the known one (averaged over draws), for a flat mark the
    sampling noise dominates and for a steep one it does not."""
    rng = np.random.default_rng(0)
    steps, per_step = 9, 400
    truth = np.stack([np.sin(np.linspace(0, 3, steps)), np.linspace(0, 1, steps)], axis=1)
    truth *= [0.25, 1.0]  # a shallow trend beside a steep one, noise sd 1 per gene
    groups = [np.repeat(np.arange(steps), per_step) == k for k in range(steps)]
    estimated, actual = [], []
    for _ in range(30):
        x = np.repeat(truth, per_step, axis=0) + rng.normal(size=(steps * per_step, 2))
        trend = np.stack([x[g].mean(0) for g in groups])
        actual.append([np.corrcoef(truth[:, i], trend[:, i])[0, 1] for i in range(2)])
        estimated.append(list(population_trend_r(x, groups, ["flat", "steep"], halves=50,
                                                 seed=len(actual)).values()))  # fmt: skip
    actual, estimated = np.mean(actual, axis=0), np.mean(estimated, axis=0)
    assert 0.8 < actual[0] < 0.95 and actual[1] > 0.99
    np.testing.assert_allclose(estimated, actual, atol=0.03)


def _levels(rng, n: int, zero_share: float, name: str) -> HistoneData:
    """Regression genes whose levels are zero (tied) for ``zero_share`` of them."""
    y = np.where(rng.random(n) < zero_share, 0.0, rng.gamma(2.0, 2.0, n)).astype(np.float32)
    ids = np.array([f"{name}{i}" for i in range(n)])
    x = np.zeros((n, 1, 4), dtype=np.float32)
    return HistoneData(x=x, y=y, gene_ids=ids, marks=("a",), cell="toy", task="regression")


def test_level_matched_groups_compare_two_class_mixes_at_the_same_expression():
    rng = np.random.default_rng(5)
    test, train = _levels(rng, 900, 0.5, "te"), _levels(rng, 2000, 0.2, "tr")
    # the test genes against themselves: their own rank groups, ties included
    same = level_matched_groups(test, test)
    assert all((a == b).all() for a, b in zip(same, expression_groups(test), strict=True))
    groups, ref = level_matched_groups(test, train), expression_groups(test)
    assert len(groups) == 9 and (np.sum(groups, axis=0) == 1).all()  # each gene in one group
    lt, ltr = test.y, train.y
    for k, g in enumerate(groups):  # between the neighbouring test groups' levels
        assert k == 0 or ltr[g].min() >= lt[ref[k - 1]].max()
        assert k == 8 or ltr[g].max() <= lt[ref[k + 1]].min()
    # half the test genes are at level 0 (groups 1-4 and part of 5): the training genes at 0
    # spread over the same groups in the same proportions
    zero = ltr == 0
    share = np.array([(g & zero).sum() for g in groups]) / zero.sum()
    want = np.array([(r & (lt == 0)).sum() for r in ref]) / (lt == 0).sum()
    np.testing.assert_allclose(share, want, atol=0.01)
    assert share[5] < share[0]


def _shifted_splits(rng, n: int = 1200, bins: int = 10):
    """Training and test genes of two marks whose class mix differs (test 70% low, training
    30%) and whose low class differs too: in the training genes the two marks share a per-gene
    level (correlated), in the test genes they do not. Low genes are mostly empty bins."""

    def split(name, low_share, shared):
        y = (rng.random(n) >= low_share).astype(np.int64)
        rate = np.where(y == 1, 5.0, 0.3)[:, None, None] * np.ones((n, 2, bins))
        level = rng.gamma(1.0, 1.0, size=(n, 1, 1))
        own = rng.gamma(1.0, 1.0, size=(n, 2, 1))
        rate[y == 0] *= np.where(shared, level, own)[y == 0]
        x = rng.poisson(rate).astype(np.float32)
        ids = np.array([f"{name}{i}" for i in range(n)])
        return HistoneData(x=x, y=y, gene_ids=ids, marks=("a", "b"), cell="toy")

    return split("tr", 0.3, True), split("te", 0.7, False)


def test_real_reference_compares_in_the_test_class_mix_and_shows_the_population_gap():
    rng = np.random.default_rng(3)
    y, y_train = np.repeat([0, 1], [70, 30]), np.repeat([0, 1], [20, 80])
    i, j = class_matched_draw(y, y_train, seed=0)
    assert len(set(i)) == len(i) and len(set(j)) == len(j)  # no gene twice
    assert [(y[i] == k).sum() for k in (0, 1)] == [(y_train[j] == k).sum() for k in (0, 1)]
    assert (y[i] == 0).sum() == 20 and (y[i] == 1).sum() == 8  # the test mix, 20 low at most

    train, test = _shifted_splits(rng)
    gan = fit("gan", train, test, config=FAST)
    ref = real_reference(gan, train, test)
    zeros = ref["zero_fraction"]
    # in the test genes' class mix, the training genes' empty bins match the test genes'
    assert all(abs(zeros["training"][m] - zeros["real"][m]) < 0.04 for m in "ab")
    mixed = training_zero_fraction(gan, train, test.y)
    real = (test.x == 0).mean(axis=(0, 2))
    assert np.allclose([mixed["a"], mixed["b"]], real, atol=0.04)
    assert abs(mixed["a"] - (train.x[:, 0] == 0).mean()) > 0.15  # the unweighted one is far
    # the low class's marks co-vary in the training genes only: real data's own gap
    assert ref["max_corr_gap"]["low"] > 0.4 > 0.2 > ref["max_corr_gap"]["high"]
    assert 0.5 <= ref["two_sample_auroc"] <= 1.0
    # with the test genes as their own training genes, each measure against the training genes
    # is the one against the test genes
    q = gan_quality(gan, test, test).numbers
    assert q["zero_fraction"]["training"] == pytest.approx(q["zero_fraction"]["real"])
    assert q["walk_trend_r_train"] == pytest.approx(q["walk_trend_r"])
    assert set(q["walk_reference_train"]) == set(gan.marks)
    assert all(0.0 <= r <= 1.0 for r in q["walk_reference_train"].values())
    assert q["reference"]["max_corr_gap"]["low"] == pytest.approx(0.0, abs=1e-9)
    # the gap to the training genes is measured on genes generated under their conditions
    # (train-on-synthetic's draw), not under the test genes'
    q = gan_quality(gan, train, test).numbers
    y_train = classes(train)
    fake_train = gan.generate(train.y, seed=1)
    assert q["max_corr_gap_train"] == pytest.approx(
        _corr_gaps(fake_train, y_train, gan.transformed(train), y_train)
    )
    fake_test = gan.generate(test.y, seed=0)
    assert q["max_corr_gap_train"] != pytest.approx(
        _corr_gaps(fake_test, classes(test), gan.transformed(train), y_train)
    )


def test_the_profile_line_reads_several_draws_per_test_gene():
    """``profile_r``'s generated side is ``PROFILE_DRAWS`` genes per test gene under its
    condition: its class mean profiles lie closer to the generator's own (64 draws per test
    gene, another seed) than one draw per gene does, and the one-draw r stays beside it. The
    same draw repeated (a fault a reused noise could plant) would be no closer."""
    train, test = _shifted_splits(np.random.default_rng(5))
    gan = fit("gan", train, test, config=FAST)
    out = gan_quality(gan, train, test)
    q, p = out.numbers, out.tables["mean_profiles"]
    assert q["profile_draws"] == PROFILE_DRAWS > 1
    assert q["profile_r_one_draw"].keys() == q["profile_r"].keys() == {"low", "high"}
    assert q["profile_r_one_draw"] != q["profile_r"]
    y = classes(test)
    own = gan.generate(np.repeat(test.y, 64, axis=0), seed=99)
    one = gan.generate(test.y, seed=0)  # the measure's one draw per test gene
    for k, name in ((0, "low"), (1, "high")):
        rows = p[(p["class"] == name) & (p["source"] == "generated")].sort_values(["mark", "bin"])
        many = rows["value"].to_numpy().reshape(2, -1)
        target = own[np.repeat(y, 64) == k].mean(0)
        assert ((many - target) ** 2).sum() < ((one[y == k].mean(0) - target) ** 2).sum() / 3


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
    from simplechrome.train.generation_metrics import _mean_gap

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


def test_condition_groups_split_classes_and_levels_in_order():
    from simplechrome.train.generation_metrics import condition_groups

    classes = condition_groups(torch.tensor([1, 0, 1, 0]))
    assert [g.tolist() for g in classes] == [[False, True, False, True], [True, False, True, False]]
    levels = torch.tensor([0.7, -1.0, 0.1, 2.0, -0.3, 1.5, -2.0, 0.4])
    groups = condition_groups(levels, n_levels=4)
    assert len(groups) == 4 and sum(int(g.sum()) for g in groups) == 8
    # each group's levels all lie below the next group's
    for lower, upper in zip(groups, groups[1:], strict=False):
        assert levels[lower].max() < levels[upper].min()


def test_structure_gap_sees_wrong_zero_shares_mark_correlations_and_values():
    from simplechrome.train.generation_metrics import _structure_gap

    gen = torch.Generator().manual_seed(0)
    c = torch.tensor([0] * 16 + [1] * 16)
    real = torch.randn(32, 3, 8, generator=gen)
    real_zero = (torch.rand(32, 3, 8, generator=gen) < 0.5).float()
    share = real_zero.clone()
    gaps = _structure_gap(real, share, real, real_zero, c)
    assert [float(g) for g in gaps] == [0.0, 0.0, 0.0]
    # probabilities that never give a zero: the gap is the real share squared
    never, _, _ = _structure_gap(real, torch.zeros_like(share), real, real_zero, c)
    expected = torch.stack([(real_zero[c == k].mean(0) ** 2).mean() for k in (0, 1)]).mean()
    assert float(never) == pytest.approx(float(expected))
    # marks made to move together: their correlation differs, the zero gap does not
    coupled = real.clone()
    coupled[:, 1] = coupled[:, 0]
    zero_gap, corr_gap, _ = _structure_gap(coupled, share, real, real_zero, c)
    assert float(zero_gap) == 0.0 and float(corr_gap) > 0.01
    # the same genes shuffled within each class: no value gap; a mark's values doubled: a gap
    within = torch.cat([torch.randperm(16, generator=gen), 16 + torch.randperm(16, generator=gen)])
    _, _, same = _structure_gap(real[within], share, real, real_zero, c)
    assert float(same) == pytest.approx(0.0, abs=1e-10)
    louder = real.clone()
    louder[:, 2] *= 2.0
    _, _, value_gap = _structure_gap(louder, share, real, real_zero, c)
    assert float(value_gap) > 0.05


def test_smoothed_zero_draws_stay_standard_normal_but_come_in_runs():
    from simplechrome.models.gan import Generator

    draws = torch.randn(20000, 2, 30, generator=torch.Generator().manual_seed(0))
    independent = Generator(2, 30, 2, 4, 8).smoothed(draws)
    assert independent is draws
    smooth = Generator(2, 30, 2, 4, 8, zero_smoothing=1.0).smoothed(draws)
    # every bin, edges included, keeps a standard normal draw: p keeps its meaning
    np.testing.assert_allclose(smooth.std(dim=(0, 1)).numpy(), 1.0, atol=0.03)
    np.testing.assert_allclose(smooth.mean(dim=(0, 1)).numpy(), 0.0, atol=0.03)
    # neighbouring bins' draws correlate, so zero decisions at p = 0.5 come in runs
    adjacent = float(torch.corrcoef(torch.stack([smooth[:, 0, 10], smooth[:, 0, 11]]))[0, 1])
    assert adjacent > 0.6
    zero = smooth < 0
    assert float((zero[..., 1:] & zero[..., :-1]).sum() / zero[..., :-1].sum()) > 0.7


def test_zero_matching_alone_moves_the_zero_probabilities_to_the_real_share():
    # the generator's zero logits, trained on the zero term only, reach the real share of zeros
    from simplechrome.train.generation_metrics import _structure_gap

    torch.manual_seed(0)  # (seeds 0-5 all pass; unseeded it followed the tests run before)
    m = models.create("gan", n_marks=2, n_bins=6, n_outputs=2, atoms=False)
    m.set_scale(np.zeros(2), np.ones(2), np.full(2, 0.5), log1p=True)
    c = torch.tensor([0] * 32 + [1] * 32)
    real = torch.randn(64, 2, 6)
    real_zero = torch.zeros(64, 2, 6)
    real_zero[c == 1, 0] = 1.0  # the high class's first mark is always empty, the rest never
    opt = torch.optim.Adam(m.generator.parameters(), lr=0.02)
    for _ in range(150):
        x, _, p = m.generator.with_zero_probabilities(m.noise(64), c)
        zero_gap, _, _ = _structure_gap(x, p, real, real_zero, c)
        opt.zero_grad()
        zero_gap.backward()
        opt.step()
    with torch.no_grad():
        _, zero, p = m.generator.with_zero_probabilities(m.noise(64), c)
    assert float(p[c == 1, 0].mean()) > 0.9 and float(p[c == 0, 0].mean()) < 0.1
    assert float(zero[c == 1, 0].mean()) > 0.85 and float(zero[:, 1].mean()) < 0.1


def test_gan_with_structure_matching_trains_on_levels(synthetic):
    s = synthetic.splits
    params = {
        "mean_matching": 1.0,
        "zero_matching": 10.0,
        "corr_matching": 10.0,
        "value_matching": 10.0,
        "zero_smoothing": 1.0,
        "matching_batch": 48,
        "matching_groups": 3,
    }
    reg = {
        k: dataclasses.replace(v, task="regression", y=np.linspace(0, 8, v.n_genes))
        for k, v in s.items()
    }
    config = dataclasses.replace(FAST, task="regression")
    gan = fit("gan", reg["train"], reg["valid"], config=config, model_params=params)
    assert gan.hparams["zero_matching"] == 10.0 and gan.hparams["corr_matching"] == 10.0
    assert gan.module.generator.zero_smoothing == 1.0
    assert len(gan.history) == 3 and np.isfinite(gan.history["val_sliced_wasserstein"]).all()


def test_a_generated_zero_reads_back_as_exactly_zero_counts():
    """The generator writes an empty bin as the float32 transformed zero, ``-mean / std``;
    inverting it must give 0 reads, not a rounding residue (the zero fractions count exact
    zeros, and without this three of E012's marks read 0% zeros)."""
    from simplechrome.models.gan import ConditionalGAN
    from simplechrome.train.transform import InputTransform

    rng = np.random.default_rng(0)
    counts = rng.poisson(rng.uniform(0.2, 3.0, size=(200, 5, 1)), size=(200, 5, 20))
    counts = counts.astype(np.float32) * 0.37  # a non-integer quantum, as real tracks have
    transform = InputTransform().fit(counts)
    gan = ConditionalGAN(n_marks=5, n_bins=20, n_outputs=2)
    gan.set_scale(transform.mean, transform.std, np.full(5, 0.37), log1p=True)
    floor = gan.generator.zero_level().expand(3, 5, 20).detach().numpy()
    assert (transform.inverse(floor) == 0).all()
    # and a real positive count of one quantum survives the round trip
    one = transform(np.full((1, 5, 20), 0.37, np.float32))
    np.testing.assert_allclose(transform.inverse(one), 0.37, rtol=1e-5)


def test_a_generator_step_can_compare_with_a_larger_sample_of_training_genes():
    from simplechrome.train.gan import GANTask

    m = models.create("gan", n_marks=2, n_bins=6, n_outputs=1)
    x, c = torch.randn(8, 2, 6), torch.randn(8)
    ref_x, ref_c = torch.randn(500, 2, 6), torch.randn(500)
    plain = GANTask(m, lr=1e-3, seed=0)
    plain.reference = (ref_x, ref_c)
    same = plain._generator_batch(x, c, torch.zeros_like(x))
    assert same[0] is x and same[1] is c  # matching_batch 0: the critic's batch
    picks = []
    for _ in range(2):
        task = GANTask(m, lr=1e-3, seed=3, matching_batch=64)
        task.reference = (ref_x, ref_c)
        rx, rc, _ = task._generator_batch(x, c, torch.zeros_like(x))
        assert rx.shape == (64, 2, 6) and rc.shape == (64,)
        # every drawn gene is a reference gene with its own condition
        rows = [int(torch.nonzero((ref_x == g).all(dim=(1, 2)))[0]) for g in rx]
        assert torch.equal(ref_c[rows], rc)
        picks.append(rows)
    assert picks[0] == picks[1]  # seeded: the same draws for the same seed


def test_read_units_find_the_whole_read_pile_up_and_none_in_integer_counts():
    from simplechrome.train.gan import read_units

    rng = np.random.default_rng(0)
    # coverage-like: 0, partial reads anywhere on the 0.02 grid below 0.74, whole reads 0.74 k
    partial = rng.integers(1, 37, size=(300, 1, 100)) * 0.02
    whole = rng.integers(1, 3, size=(300, 1, 100)) * 0.74
    kind = rng.random((300, 1, 100))
    coverage = np.where(kind < 0.5, 0.0, np.where(kind < 0.7, partial, whole))
    counts = rng.poisson(2.0, size=(300, 1, 100)).astype(float)  # integer reads
    x = np.concatenate([coverage, counts], axis=1)
    units = read_units(x, np.array([0.02, 1.0]))
    assert units[0] == pytest.approx(0.74) and units[1] == 0.0


def test_whole_read_bins_are_multiples_of_the_unit_and_the_critic_sees_them_alike():
    # the generator's whole-read decisions land exactly on k * unit, and the indicators the
    # critic gets for generated genes are the ones it would compute from their values, as for
    # real genes (else it could tell generated genes by the indicator channel alone)
    m = models.create("gan", n_marks=2, n_bins=20, n_outputs=2)
    m.set_scale(np.array([0.3, 0.2]), np.array([0.5, 0.4]), np.full(2, 0.02), log1p=True,
                unit=np.array([0.74, 0.0]))  # fmt: skip
    c = torch.tensor([0, 1] * 128)
    with torch.no_grad():
        x, ind, p = m.generator.with_zero_probabilities(m.noise(256), c)
    assert ind.shape == p.shape == (256, 4, 20)
    whole = ind[:, 2:].bool()
    assert whole[:, 0].float().mean() > 0.05 and not whole[:, 1].any()  # mark 1 has no unit
    assert not (whole & ind[:, :2].bool()).any()  # an empty bin is not whole reads
    raw = torch.expm1(x * m.generator.std[None, :, None] + m.generator.mean[None, :, None])
    reads = raw[:, 0][whole[:, 0]] / 0.74
    assert torch.allclose(reads, reads.round(), atol=1e-3) and (reads.round() >= 1).all()
    assert torch.equal(m.zeros_of(x), ind)


def test_a_gan_file_from_before_whole_reads_loads_as_made(tmp_path, synthetic):
    s = synthetic.splits
    gan = fit("gan", s["train"], s["valid"], config=dataclasses.replace(FAST, max_epochs=1),
              model_params={"atoms": False})  # fmt: skip
    path = gan.save(tmp_path / "model.pt")
    payload = torch.load(path, weights_only=True)
    hparams = payload["hparams"]
    del hparams["atoms"], hparams["reads"], payload["state"]["generator.unit"]  # the older file
    torch.save(payload, path)
    again = TrainedModel.load(path)
    assert again.hparams["atoms"] is False and again.hparams["reads"] is False
    assert np.array_equal(
        again.generate(np.array([0, 1]), seed=3), gan.generate(np.array([0, 1]), seed=3)
    )


def test_placed_reads_split_between_neighbours_and_the_critic_sees_them_alike():
    # with reads, a partly covered bin's neighbour holds the rest of its read, as on real
    # coverage tracks; values stay on the grid, empty bins are exactly the transformed zero,
    # the critic's indicators are the ones it computes from the values, and the decisions
    # (empty, on the edge) get gradients
    torch.manual_seed(0)
    m = models.create("gan", n_marks=2, n_bins=30, n_outputs=2, reads=True)
    m.set_scale(np.array([0.3, 0.2]), np.array([0.5, 0.4]), np.array([0.02, 1.0]), log1p=True,
                unit=np.array([0.74, 0.0]))  # fmt: skip
    c = torch.tensor([0, 1] * 128)
    x, ind, p = m.generator.with_zero_probabilities(m.noise(256), c)
    assert x.shape == (256, 2, 30) and ind.shape == p.shape == (256, 4, 30)
    assert torch.equal(m.zeros_of(x.detach()), ind.detach())
    floor = m.generator.zero_level().expand_as(x)
    empty = ind[:, :2].detach().bool()
    assert 0.05 < empty.float().mean() < 0.95 and torch.equal(x.detach()[empty], floor[empty])
    signal = m.generator.signal(x.detach())
    steps = (signal[:, 0] / 0.02).round()
    assert torch.allclose(signal[:, 0] / 0.02, steps, atol=1e-3)
    counts = signal[:, 1]  # no unit: integer reads, never split
    assert torch.allclose(counts, counts.round(), atol=1e-3) and not ind[:, 3].any()
    partial = (steps > 0) & (torch.remainder(steps, 37) != 0)
    pairs = partial[:, :-1] & partial[:, 1:]
    sums = (steps[:, :-1] + steps[:, 1:])[pairs]
    # a read split between two bins: their steps add up to whole reads (by chance: 1 in 37)
    assert pairs.sum() > 100 and (torch.remainder(sums, 37) == 0).float().mean() > 0.2
    (m.critic(x, c, ind).mean() + p.mean()).backward()
    heads = m.generator.out.weight.grad.view(3, 2, -1).abs().sum(dim=2)  # (head, mark)
    assert (heads[0] > 0).all() and (heads[1] > 0).all() and heads[2, 0] > 0
