"""The autoregressive generator: value tokens, the likelihood it learns, and its genes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from simplechrome import models
from simplechrome.config import TrainConfig
from simplechrome.interpret.gan import walks
from simplechrome.models.autoregressive import value_tokens
from simplechrome.train import TrainedModel, fit, resolve_config

SMALL = {"hidden": 16, "emb": 4, "vocab": 10, "pool": 4}
FAST = TrainConfig(max_epochs=3, patience=3, batch_size=64, progress=False, lr=5e-3,
                   lr_schedule="cosine")  # fmt: skip


def test_small_counts_get_a_token_each_and_a_tail_is_bucketed():
    """Integer reads 1..3 are common (each at least a ninth of the non-empty values) and each
    gets a token of its own whose pool holds only that count; the rarer values share buckets
    that hold only values from their range, none of a common count's."""
    rng = np.random.default_rng(0)
    values = np.concatenate([np.zeros(500), np.repeat([1, 2, 3, 4], [400, 200, 100, 50]),
                             rng.integers(5, 200, 50)]).astype(float)  # fmt: skip
    edges, table = value_tokens(values, vocab=10, pool=4)
    assert (table[0] == 0).all()
    finite = edges[np.isfinite(edges)]
    assert np.all(np.diff(finite) > 0) and finite[0] > 1
    token = 1 + np.searchsorted(finite, values[values > 0], side="right")
    for count in (1, 2, 3):
        k = token[values[values > 0] == count][0]
        assert (table[k] == count).all(), (count, table[k])
    for k in np.unique(token):  # every pool value lies in its own bucket
        lo = 0 if k == 1 else finite[k - 2]
        hi = finite[k - 1] if k - 1 < len(finite) else np.inf
        assert ((table[k] >= lo) & (table[k] < hi)).all()


def _scaled(n_marks=2, n_bins=6):
    m = models.create("autoregressive", n_marks=n_marks, n_bins=n_bins, n_outputs=2, **SMALL)
    m.set_scale(np.full(n_marks, 0.4), np.full(n_marks, 0.5), np.full(n_marks, 0.74))
    return m


def test_tokens_of_transformed_genes_are_the_tokens_of_their_values():
    """A gene mapped to the transformed space and back to tokens lands in the bucket its
    values were counted in (the transform's float error does not move a value on an edge)."""
    rng = np.random.default_rng(1)
    raw = rng.poisson(1.5, (200, 2, 6)) * 0.74
    m = _scaled()
    m.fit_grid(raw)
    g = m.generator
    tok = g.tokens(g.transformed(torch.tensor(raw, dtype=torch.float32))).numpy()
    for mark in range(2):
        edges = g.edges[mark].numpy().astype(np.float64)
        v = raw[:, mark]
        want = np.where(v == 0, 0, 1 + np.searchsorted(edges, v + 1e-6, side="right"))
        assert np.array_equal(tok[:, mark], want)
    assert (tok == 0).sum() == (raw == 0).sum()


def test_generation_follows_the_drawn_distribution_exactly():
    """With the network's logits replaced by fixed ones, the share of each token drawn is
    that distribution (inverse-CDF draws from the noise), and each value is its pool's."""
    m = _scaled(n_marks=1, n_bins=50)
    raw = np.tile(np.array([0.0, 0.74, 1.48, 2.22]), (20, 1, 13))[:, :, :50]
    m.fit_grid(raw)
    g = m.generator
    target = torch.tensor([0.5, 0.3, 0.2] + [0.0] * 7)

    def fixed(mark, h, drawn):
        return torch.log(target.clamp(min=1e-12)).expand(*h.shape[:-1], -1)

    g._logits = fixed
    with torch.inference_mode():
        out = g.signal(m(m.noise(400, torch.Generator().manual_seed(0)), torch.zeros(400)))
    values, counts = np.unique(np.round(out.numpy().astype(np.float64), 3), return_counts=True)
    assert values.tolist() == [0.0, 0.74, 1.48]
    np.testing.assert_allclose(counts / counts.sum(), [0.5, 0.3, 0.2], atol=0.01)


def test_the_autoregressive_generator_trains_saves_and_generates_deterministically(
    tmp_path, synthetic
):
    s = synthetic.splits
    model = fit("autoregressive", s["train"], s["valid"], config=FAST, model_params=SMALL)
    h = model.history
    assert "val_log_likelihood" in h and h["best"].sum() == 1
    assert h["val_log_likelihood"].iloc[-1] > h["val_log_likelihood"].iloc[0]
    y = np.array([0, 1, 1, 0])
    a = model.generate(y, seed=3)
    assert a.shape == (4, 5, 100) and np.array_equal(a, model.generate(y, seed=3))
    assert not np.array_equal(a, model.generate(y, seed=4))
    counts = model.transform.inverse(a)  # values real bins hold (integer reads here)
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-3)
    assert set(np.unique(np.round(counts))) <= set(np.unique(s["train"].x))
    model.save(tmp_path / "a.pt")
    back = TrainedModel.load(tmp_path / "a.pt")
    assert np.array_equal(back.generate(y, seed=3), a)
    ll = back.per_gene(s["test"])["log_likelihood"]
    assert ll.shape == (s["test"].n_genes,) and np.isfinite(ll).all() and (ll < 0).all()
    real_walk, walk = walks(back, s["test"], n=8)
    assert walk.shape == real_walk.shape


def test_level_buckets_put_the_genes_with_no_reads_apart():
    """The lowest training level (a point mass: genes with no reads) is a bucket of its own:
    its vector jumps between it and a level just above it, which a line through the level
    cannot do; the other buckets split the rest by quantile."""
    from simplechrome.models.autoregressive import BinSampler

    torch.manual_seed(0)
    g = BinSampler(n_marks=2, n_bins=6, n_outputs=1, hidden=8, layers=1, emb=4, vocab=5,
                   pool=2, level_buckets=4)  # fmt: skip
    levels = np.concatenate([np.full(30, -1.0), np.linspace(-0.9, 2.0, 90)]).astype(np.float32)
    g.fit_levels(levels)
    edges = g.level_edges.numpy()
    assert -1.0 < edges[0] < -0.9 and np.all(np.diff(edges) > 0) and len(edges) == 3
    bucket = np.searchsorted(edges, levels)
    assert set(bucket[:30]) == {0} and np.bincount(bucket[30:]).tolist() == [0, 30, 30, 30]
    with torch.no_grad():
        e = g.embed(torch.tensor([-1.0, -0.95, -0.9, -0.85]))
        line = g.condition(torch.tensor([-1.0, -0.95, -0.9, -0.85]))
    jump, step = (e[1] - e[0]).norm(), (e[3] - e[2]).norm()
    assert jump > 5 * step  # the bucket's vector, not the line's slope
    assert torch.allclose(e[2] - line[2], e[3] - line[3])  # one bucket: only the line moves


def _level_splits(synthetic):
    """The synthetic splits with levels: 20 genes at 0, the rest from 0.5 to 8."""
    return {
        k: dataclasses.replace(
            v, task="regression", y=np.r_[np.zeros(20), np.linspace(0.5, 8, v.n_genes - 20)]
        )
        for k, v in synthetic.splits.items()
    }


def test_a_level_generator_with_buckets_learns_its_edges_from_the_training_levels(synthetic):
    """Trained on levels, the model's bucket edges come from the training genes' scaled levels
    (the lowest, those at level 0, apart), and it generates at any level."""
    reg = _level_splits(synthetic)
    config = dataclasses.replace(FAST, task="regression", max_epochs=1)
    model = fit("autoregressive", reg["train"], reg["valid"], config=config,
                model_params={**SMALL, "level_buckets": 3})  # fmt: skip
    edges = model.module.generator.level_edges.numpy()
    zero, above = model.transform.scale_y(np.array([0.0, 0.5]))
    assert zero < edges[0] < above and len(edges) == 2
    out = model.generate(np.array([0.0, 0.0, 4.0]), seed=1)
    assert out.shape == (3, 5, 100) and np.isfinite(out).all()


def test_a_file_from_before_level_buckets_loads_as_it_was_made(synthetic, tmp_path):
    """Level buckets are the default since 2026-12-05; a level generator saved before they
    existed (no ``level_buckets`` in its file) loads without them and draws the same genes."""

    reg = {
        k: dataclasses.replace(v, task="regression", y=np.linspace(0.0, 8, v.n_genes))
        for k, v in synthetic.splits.items()
    }
    config = dataclasses.replace(FAST, task="regression", max_epochs=1)
    model = fit("autoregressive", reg["train"], reg["valid"], config=config,
                model_params={**SMALL, "level_buckets": 0})  # fmt: skip
    model.save(tmp_path / "old.pt")
    payload = torch.load(tmp_path / "old.pt", weights_only=True)
    del payload["hparams"]["level_buckets"]
    torch.save(payload, tmp_path / "old.pt")
    back = TrainedModel.load(tmp_path / "old.pt")
    assert back.module.generator.level_buckets == 0
    y = np.array([0.0, 2.0, 6.0])
    assert np.array_equal(back.generate(y, seed=2), model.generate(y, seed=2))


def test_a_file_from_before_the_summary_and_feedback_loads_as_it_was_made(synthetic, tmp_path):
    """The summary and feedback are the default since 2026-12-05; a generator saved before
    they existed (neither in its file) loads without them and draws the same genes."""
    model = fit("autoregressive", synthetic.splits["train"], synthetic.splits["valid"],
                config=dataclasses.replace(FAST, max_epochs=1),
                model_params={**SMALL, "summary": 0, "feedback": False})  # fmt: skip
    model.save(tmp_path / "old.pt")
    payload = torch.load(tmp_path / "old.pt", weights_only=True)
    del payload["hparams"]["summary"], payload["hparams"]["feedback"]
    torch.save(payload, tmp_path / "old.pt")
    back = TrainedModel.load(tmp_path / "old.pt")
    g = back.module.generator
    assert g.summary == 0 and not g.feedback
    y = np.array([0, 1, 1])
    assert np.array_equal(back.generate(y, seed=2), model.generate(y, seed=2))
    fresh = models.create("autoregressive", n_marks=5, n_bins=100, n_outputs=2, **SMALL)
    assert fresh.generator.summary == 16 and fresh.generator.feedback  # today's default


def test_summary_tokens_put_genes_with_no_reads_apart_and_bucket_the_rest():
    """A gene whose bins hold no reads has summary token 0; the others fall in quantile
    buckets of their mean reads, fitted on the training genes (80 genes with reads, 5
    buckets: 16 each, in the order of their means)."""
    m = models.create("autoregressive", n_marks=1, n_bins=10, n_outputs=2, summary=6, **SMALL)
    m.set_scale(np.full(1, 0.4), np.full(1, 0.5), np.full(1, 0.74))
    rng = np.random.default_rng(2)
    raw = np.zeros((100, 1, 10))
    raw[20:] = rng.poisson(rng.uniform(0.2, 5.0, (80, 1, 1)), (80, 1, 10)) * 0.74
    raw[20:, 0, 0] += 0.74  # every one of them holds reads
    m.fit_grid(raw)
    g = m.generator
    x = g.transformed(torch.tensor(raw, dtype=torch.float32))
    s = g.summary_tokens(x, g.tokens(x))[:, 0].numpy()
    assert (s[:20] == 0).all() and (s[20:] > 0).all()
    order = np.argsort(raw[20:, 0].mean(1), kind="stable")
    assert (np.diff(s[20:][order]) >= 0).all()
    assert np.bincount(s[20:], minlength=6)[1:].tolist() == [16, 16, 16, 16, 16]


@pytest.mark.parametrize("tss", [0, 5])
def test_a_generator_with_summaries_trains_and_draws_the_same_genes_from_the_same_noise(
    tmp_path, synthetic, tss
):
    """With ``summary`` the model draws each mark's summary token (with ``summary_tss``, and
    its TSS token) from the noise's own uniforms, then the bins: same noise, same genes;
    saved and loaded, the same again; the likelihood (summary and bins) is finite and below
    0."""
    s = synthetic.splits
    model = fit("autoregressive", s["train"], s["valid"], config=FAST,
                model_params={**SMALL, "summary": 6, "summary_tss": tss})  # fmt: skip
    g = model.module.generator
    n_sum = 5 * (2 if tss else 1)
    assert g.noise_size == 2 * 5 * 100 + n_sum and torch.isfinite(g.summary_edges).all()
    y = np.array([0, 1, 1, 0])
    a = model.generate(y, seed=3)
    assert a.shape == (4, 5, 100) and np.array_equal(a, model.generate(y, seed=3))
    model.save(tmp_path / "s.pt")
    back = TrainedModel.load(tmp_path / "s.pt")
    assert np.array_equal(back.generate(y, seed=3), a)
    ll = back.per_gene(s["test"])["log_likelihood"]
    assert np.isfinite(ll).all() and (ll < 0).all()


def test_summary_tokens_are_drawn_from_their_own_uniforms_by_their_distribution():
    """With the summary logits replaced by fixed ones, the share of each summary token drawn
    is that distribution, and the bins' noise is untouched: the same bin noise with other
    summary uniforms gives the bins the same uniforms."""
    m = models.create("autoregressive", n_marks=2, n_bins=4, n_outputs=2, summary=4, **SMALL)
    m.set_scale(np.full(2, 0.4), np.full(2, 0.5), np.full(2, 0.74))
    m.fit_grid(np.random.default_rng(0).poisson(1.0, (50, 2, 4)) * 0.74)
    g = m.generator
    target = torch.tensor([0.1, 0.6, 0.3, 0.0])
    g._summary_logits = lambda mark, e, drawn: torch.log(target.clamp(min=1e-12)).expand(len(e), -1)
    seen = []
    g._with_summary = lambda e, s: (seen.append(s.clone()), e)[1]
    noise = m.noise(3000, torch.Generator().manual_seed(1))
    with torch.inference_mode():
        a = m(noise, torch.zeros(3000))
        other = noise.clone()
        other[:, g.noise_size - 2 :] = -other[:, g.noise_size - 2 :]
        b = m(other, torch.zeros(3000))
    s = seen[0].numpy()
    for mark in range(2):
        share = np.bincount(s[:, mark], minlength=4) / len(s)
        np.testing.assert_allclose(share, target.numpy(), atol=0.02)
    assert torch.equal(a, b)  # _with_summary ignores s here: the bins saw the same noise
    assert not np.array_equal(seen[1].numpy(), s)


def test_feedback_reads_the_same_reads_so_far_in_training_as_in_drawing():
    """With ``feedback`` the GRU reads each mark's mean reads over the bins before: the
    sampler's running sums of what it drew and the likelihood's sums over a gene's own bins
    must be one input, or the model learns from one and draws with another. Genes drawn by
    an untrained model, then scored: every step's feedback input the same in both."""
    m = models.create("autoregressive", n_marks=2, n_bins=12, n_outputs=2, feedback=True,
                      **SMALL)  # fmt: skip
    m.set_scale(np.full(2, 0.4), np.full(2, 0.5), np.full(2, 0.74))
    m.fit_grid(np.random.default_rng(0).poisson(1.5, (80, 2, 12)) * 0.74)
    g = m.generator
    seen = []
    inputs = g._inputs
    g._inputs = lambda before, e, bins, so_far=None: (
        seen.append(so_far),
        inputs(before, e, bins, so_far),
    )[1]
    with torch.inference_mode():
        x = m(m.noise(6, torch.Generator().manual_seed(2)), torch.zeros(6))
        drawing = torch.cat(seen, dim=1)  # (genes, bins, marks), one step at a time
        seen.clear()
        g.log_likelihood(x, torch.zeros(6))
    (scoring,) = seen
    assert drawing.shape == scoring.shape == (6, 12, 2)
    assert (drawing[:, 1:] > 0).any()  # reads were drawn, so the check has something to see
    torch.testing.assert_close(drawing, scoring, atol=1e-5, rtol=1e-5)


def test_the_generator_keeps_the_best_epochs_weight_average_by_default(synthetic):
    """The autoregressive entry trains with weight averaging unless told otherwise (issue 39,
    RESULTS.md section 4): the finished generator is the best epoch's average, so its validation
    genes' mean log-likelihood is the history's best score; the raw weights give another."""
    s = synthetic.splits
    assert resolve_config(FAST, "autoregressive").average == 0.995
    model = fit("autoregressive", s["train"], s["valid"], config=FAST, model_params=SMALL)
    best = model.history.loc[model.history["best"], "val_log_likelihood"].item()
    ll = model.per_gene(s["valid"])["log_likelihood"]
    assert ll.mean() == pytest.approx(best, abs=1e-5)
    raw = fit("autoregressive", s["train"], s["valid"], model_params=SMALL,
              config=dataclasses.replace(FAST, average=0.0))  # fmt: skip
    assert abs(raw.per_gene(s["valid"])["log_likelihood"].mean() - ll.mean()) > 1e-4


def test_self_fed_training_reads_the_networks_one_step_draws_and_scoring_does_not():
    """With ``self_fed`` a share of the bins a training step reads before each bin are the
    network's own one-step draws (tokens and feedback reads), the rest the gene's; scoring
    outside training reads only the gene's own, the exact likelihood. Heads fixed to draw token
    2 (no real bin holds it), so each swapped bin is seen."""
    m = models.create("autoregressive", n_marks=2, n_bins=40, n_outputs=2, feedback=True,
                      self_fed=0.3, **SMALL)  # fmt: skip
    m.set_scale(np.full(2, 0.4), np.full(2, 0.5), np.full(2, 0.74))
    rng = np.random.default_rng(0)
    raw = rng.choice([0.0, 0.74, 1.48, 2.22], size=(300, 2, 40), p=[0.4, 0.3, 0.2, 0.1])
    m.fit_grid(raw)
    g = m.generator
    for head in g.heads:
        last = head[-1]
        torch.nn.init.zeros_(last.weight)
        last.bias.data.fill_(-50.0)
        last.bias.data[2] = 0.0  # the 1.48 bucket
    x = g.transformed(torch.tensor(raw[:, :, :40] * (raw < 1.4), dtype=torch.float32))
    c = torch.zeros(len(x))
    seen = []
    inputs = g._inputs
    g._inputs = lambda before, e, bins, so_far=None: (
        seen.append((before, so_far)),
        inputs(before, e, bins, so_far),
    )[1]
    m.train()
    torch.manual_seed(0)
    trained = g.log_likelihood(x, c)
    (_, tf_feedback), (before, feedback) = seen  # the teacher-forced pass, then the mixed one
    swapped = before[:, :, 1:] == 2
    assert (before[:, :, 1:][~swapped] <= 1).all()  # the rest are the genes' own tokens
    assert torch.equal(swapped[:, 0], swapped[:, 1])  # a bin's marks swap together
    assert swapped[:, 0].float().mean().item() == pytest.approx(0.3, abs=0.02)
    # a swapped bin's reads (1.48 each) enter the next bins' feedback
    assert (feedback[:, 1:][swapped.permute(0, 2, 1).cumsum(1) > 0] > 0).all()
    assert not torch.allclose(feedback, tf_feedback)
    seen.clear()
    m.eval()
    with torch.no_grad():
        scored = g.log_likelihood(x, c)
    ((before, _),) = seen  # one pass, the genes' own tokens only
    assert (before[:, :, 1:] <= 1).all() and scored.shape == trained.shape


def test_a_tss_summary_reads_only_the_bins_around_the_tss():
    """With ``summary_tss`` each mark gets a second summary token, after the window's: that
    of its mean reads over the bins within ``summary_tss`` of the window's middle. A gene
    whose reads all lie outside them has TSS token 0 and window token above 0; one with reads
    there has both above 0, ordered by its TSS reads; the noise holds one uniform per token."""
    m = models.create("autoregressive", n_marks=1, n_bins=20, n_outputs=2, summary=6,
                      summary_tss=2, **SMALL)  # fmt: skip
    m.set_scale(np.full(1, 0.4), np.full(1, 0.5), np.full(1, 0.74))
    g = m.generator
    assert g.regions == [(0, 20), (8, 12)] and g.noise_size == 2 * 20 + 2
    rng = np.random.default_rng(3)
    raw = np.zeros((100, 1, 20))
    raw[:, 0, :5] = rng.poisson(2.0, (100, 5)) * 0.74 + 0.74  # reads away from the TSS
    raw[50:, 0, 8:12] = rng.poisson(rng.uniform(0.5, 5.0, (50, 1)), (50, 4)) * 0.74
    raw[50:, 0, 9] += 0.74  # every one of the last 50 holds reads at the TSS
    m.fit_grid(raw)
    x = g.transformed(torch.tensor(raw, dtype=torch.float32))
    s = g.summary_tokens(x, g.tokens(x)).numpy()
    assert s.shape == (100, 2) and (s[:, 0] > 0).all()
    assert (s[:50, 1] == 0).all() and (s[50:, 1] > 0).all()
    mean, t = raw[50:, 0, 8:12].mean(1), s[50:, 1]
    further = mean[:, None] > mean[None, :] + 0.01  # (equal means may fall either side of
    assert (t[:, None] >= t[None, :])[further].all()  # an edge by the transform's float error)


def _tilted(n_bins=6, levels=None, raw=None):
    rng = np.random.default_rng(0)
    levels = np.concatenate([np.full(40, -1.0), rng.uniform(-0.9, 2.0, 360)]) if levels is None \
        else levels  # fmt: skip
    if raw is None:
        raw = rng.choice([0.0, 0.74, 1.48, 2.22], size=(len(levels), 1, n_bins))
    m = models.create("autoregressive", n_marks=1, n_bins=n_bins, n_outputs=1, level_buckets=4,
                      summary=0, feedback=False, level_tilt=True, **SMALL)  # fmt: skip
    m.set_scale(np.full(1, 0.4), np.full(1, 0.5), np.full(1, 0.74))
    m.fit_grid(raw, levels)
    g = m.generator
    g.fit_tilt_values()
    uniform = torch.log(torch.tensor([0.25] * 4 + [1e-12] * 6))  # tokens 0..3: 0, 1, 2, 3 reads
    g._logits = lambda mark, h, drawn: uniform.expand(*h.shape[:-1], -1)
    return m, g, levels, raw


def test_the_level_tilt_moves_drawing_and_scoring_alike_at_its_bin():
    """With a tilt at one bin (the network's logits fixed and even), genes drawn at a high
    level take that bin's tokens with the tilted distribution, the likelihood scores them
    with the same one, and the other bins stay even."""
    m, g, _, _ = _tilted()
    g.tilt[3, 0] = 1.5
    c = torch.full((4000,), 2.0)  # the top bucket
    with torch.inference_mode():
        x = m(m.noise(4000, torch.Generator().manual_seed(0)), c)
        tok = g.tokens(x)[:, 0]
        probs = g.token_probabilities(x[:5], c[:5])[0]
    z = (3 - 1.5) / np.std([0, 1, 2, 3], ddof=1)
    want = torch.softmax(torch.log(torch.tensor([0.25] * 4)) + z * 1.5 * g.tilt_value[0, :4], 0)
    torch.testing.assert_close(probs[0, 3, :4], want)
    torch.testing.assert_close(probs[0, 2, :4], torch.full((4,), 0.25))
    drawn = torch.bincount(tok[:, 3], minlength=4)[:4] / 4000.0
    np.testing.assert_allclose(drawn.numpy(), want.numpy(), atol=0.025)
    even = torch.bincount(tok[:, 2], minlength=4)[:4] / 4000.0
    np.testing.assert_allclose(even.numpy(), 0.25, atol=0.025)


def _bin_two_follows_the_level() -> tuple[np.ndarray, np.ndarray]:
    """1,000 genes' levels (100 at the lowest) and reads over 6 bins of one mark, 0-3 reads at
    random but for bin 2, which holds 2 or 3 in the genes above level 0.5."""
    rng = np.random.default_rng(3)
    levels = np.concatenate([np.full(100, -1.0), rng.uniform(-0.9, 2.0, 900)])
    raw = rng.choice([0.0, 0.74, 1.48, 2.22], size=(1000, 1, 6))
    high = levels > 0.5
    raw[high, 0, 2] = rng.choice([1.48, 2.22], size=high.sum())
    return levels, raw


def test_the_level_tilt_is_fitted_where_the_level_moves_a_bin_and_kept_on_validation():
    """Genes whose bin 2 holds more reads the higher their level, scored by a network that
    does not see it (logits fixed and even): the fitted tilt is that bin's, upward, and the
    validation genes' likelihood rises with it; the other bins' stay small."""
    levels, raw = _bin_two_follows_the_level()
    m, g, _, _ = _tilted(levels=levels, raw=raw)
    x = g.transformed(torch.tensor(raw, dtype=torch.float32))
    c = torch.tensor(levels, dtype=torch.float32)
    fitted = g.fit_tilt(x[:600], c[:600], x[600:], c[600:])
    assert fitted["valid_after"] > fitted["valid_before"] and np.isfinite(fitted["ridge"])
    tilt = g.tilt[:, 0]
    assert tilt[2] > 0.2 and tilt.abs().argmax() == 2
    assert tilt[[0, 1, 3, 4, 5]].abs().max() < 0.5 * tilt[2]


def test_the_drawn_moments_are_the_distribution_each_bin_is_drawn_from():
    """``drawn_moments`` (the drawn tilt's fit): with a tilt at one bin, the mean and variance
    of the token values there are the tilted distribution's, the other bins the even one's;
    and the sums it returns are the genes' values minus those means, times the index."""
    m, g, levels, raw = _tilted()
    g.tilt[3, 0] = 1.5
    c = torch.full((50,), 2.0)  # the top bucket
    with torch.inference_mode():
        _, mean, var = g._draw(m.noise(50, torch.Generator().manual_seed(0)), c, moments=True)
    z = (3 - 1.5) / np.std([0, 1, 2, 3], ddof=1)
    v = g.tilt_value[0, :4]
    p = torch.softmax(torch.log(torch.tensor([0.25] * 4)) + z * 1.5 * v, 0)
    torch.testing.assert_close(mean[:, 0, 3], (p @ v).expand(50))
    torch.testing.assert_close(var[:, 0, 3], (p @ v**2 - (p @ v) ** 2).expand(50))
    torch.testing.assert_close(mean[:, 0, 2], v.mean().expand(50))
    x = g.transformed(torch.tensor(raw[:50], dtype=torch.float32))
    grad, curv = g.drawn_moments(x, c, draws=3, seed=0)
    real = v[g.tokens(x)[:, 0]]  # (genes, bins)
    torch.testing.assert_close(grad[3, 0], (z * (real[:, 3] - p @ v)).sum())
    torch.testing.assert_close(curv[:, 0], torch.full((6,), 50 * z**2) * var[0, 0])


def test_the_drawn_tilt_finds_a_level_effect_the_draws_miss_and_keeps_it_on_validation():
    """Genes whose bin 2 holds more reads the higher their level, a network that does not
    see it (logits even), no tilt yet: the drawn tilt's step puts the slope at that bin,
    upward, and the validation genes' drawn error along the level falls with it."""
    levels, raw = _bin_two_follows_the_level()
    m, g, _, _ = _tilted(levels=levels, raw=raw)
    g.drawn_tilt = True
    x = g.transformed(torch.tensor(raw, dtype=torch.float32))
    c = torch.tensor(levels, dtype=torch.float32)
    fitted = g.fit_drawn_tilt(x[:600], c[:600], x[600:], c[600:], draws=4)
    assert fitted["drawn_valid_after"] < 0.5 * fitted["drawn_valid_before"]
    tilt = g.tilt[:, 0]
    assert tilt[2] > 0.2 and tilt.abs().argmax() == 2
    assert tilt[[0, 1, 3, 4, 5]].abs().max() < 0.5 * tilt[2]


def test_gan_training_fits_the_level_tilt_after_the_network_and_saves_it(synthetic, tmp_path):
    """With ``level_tilt`` the stage runs on the restored weights at the end of training
    (its values set, so it ran), and the file keeps it: the loaded model draws the same."""
    reg = _level_splits(synthetic)
    config = dataclasses.replace(FAST, task="regression", max_epochs=1)
    model = fit("autoregressive", reg["train"], reg["valid"], config=config,
                model_params={**SMALL, "level_buckets": 3, "level_tilt": True})  # fmt: skip
    g = model.module.generator
    assert g.level_tilt and g.tilt_value.abs().sum() > 0
    g.tilt[50, 0] = 0.7  # a tilt the file must carry, whatever the fit kept
    levels = np.array([0.0, 4.0, 8.0])
    model.save(tmp_path / "t.pt")
    back = TrainedModel.load(tmp_path / "t.pt")
    assert torch.equal(back.module.generator.tilt, g.tilt)
    assert np.array_equal(back.generate(levels, seed=2), model.generate(levels, seed=2))


def test_a_level_generator_from_before_the_tilt_loads_without_it(synthetic, tmp_path):
    """The tilt is the default since 2026-12-06; a level generator saved before it existed
    (not in its file, no tilt in its state) loads without it and draws the same genes."""
    reg = _level_splits(synthetic)
    model = fit("autoregressive", reg["train"], reg["valid"],
                config=dataclasses.replace(FAST, task="regression", max_epochs=1),
                model_params={**SMALL, "level_buckets": 3, "level_tilt": False})  # fmt: skip
    model.save(tmp_path / "old.pt")
    payload = torch.load(tmp_path / "old.pt", weights_only=True)
    del payload["hparams"]["level_tilt"]
    torch.save(payload, tmp_path / "old.pt")
    back = TrainedModel.load(tmp_path / "old.pt")
    assert not back.module.generator.level_tilt
    levels = np.array([0.0, 2.0, 8.0])
    assert np.array_equal(back.generate(levels, seed=2), model.generate(levels, seed=2))
    fresh = models.create("autoregressive", n_marks=5, n_bins=100, n_outputs=1, **SMALL)
    assert fresh.generator.level_tilt and fresh.generator.drawn_tilt  # today's default


def test_a_level_generator_from_before_the_drawn_tilt_loads_without_it(synthetic, tmp_path):
    """The drawn tilt is the default since 2026-12-06 (twelfth session); a level generator
    saved before it existed (not in its file) loads with the likelihood's tilt alone: the
    stage is not run on loading, and the file's tilt is the one drawn with."""
    reg = _level_splits(synthetic)
    model = fit("autoregressive", reg["train"], reg["valid"],
                config=dataclasses.replace(FAST, task="regression", max_epochs=1),
                model_params={**SMALL, "level_buckets": 3, "drawn_tilt": False})  # fmt: skip
    model.module.generator.tilt[40, 0] = 0.6  # a tilt the file carries
    model.save(tmp_path / "old.pt")
    payload = torch.load(tmp_path / "old.pt", weights_only=True)
    del payload["hparams"]["drawn_tilt"]
    torch.save(payload, tmp_path / "old.pt")
    back = TrainedModel.load(tmp_path / "old.pt")
    assert back.module.generator.level_tilt and not back.module.generator.drawn_tilt
    assert torch.equal(back.module.generator.tilt, model.module.generator.tilt)
    levels = np.array([0.0, 2.0, 8.0])
    assert np.array_equal(back.generate(levels, seed=2), model.generate(levels, seed=2))


def test_the_drawn_offsets_find_an_effect_of_one_level_bucket_and_keep_it_on_validation():
    """Genes of one middle level bucket hold more reads over bins 1-4 (no line through the
    level draws that), a network that does not see it (logits even), no tilt: the offsets'
    step puts them at that bucket and those bins, upward, the other buckets' and the window's
    ends stay small, and the validation genes' drawn error falls with it."""
    rng = np.random.default_rng(5)
    levels = np.concatenate([np.full(100, -1.0), rng.uniform(-0.9, 2.0, 900)])
    _, g, _, _ = _tilted(levels=levels)
    bucket = g._bucket(torch.tensor(levels, dtype=torch.float32)).numpy()
    raw = rng.choice([0.0, 0.74, 1.48, 2.22], size=(1000, 1, 6))
    raw[bucket == 2, 0, 1:5] = rng.choice([1.48, 2.22], size=((bucket == 2).sum(), 4))
    _, g, _, _ = _tilted(levels=levels, raw=raw)
    g.drawn_tilt = g.drawn_offset = True
    g.register_buffer("offset", torch.zeros(4, 6, 1))
    x = g.transformed(torch.tensor(raw, dtype=torch.float32))
    c = torch.tensor(levels, dtype=torch.float32)
    fitted = g.fit_drawn_offset(x[:600], c[:600], x[600:], c[600:], draws=4)
    assert fitted["offset_valid_after"] < 0.5 * fitted["offset_valid_before"]
    offset = g.offset[..., 0]
    assert offset[2, 1:5].min() > 0.2
    assert offset[[0, 1, 3]].abs().max() < 0.5 * offset[2, 1:5].min()
    assert offset[2, [0, 5]].abs().max() < offset[2, 1:5].min()
