from __future__ import annotations

import numpy as np
import torch

from simplechrome import models
from simplechrome.config import TrainConfig
from simplechrome.interpret.gan import walks
from simplechrome.models.diffusion import alpha_sigma
from simplechrome.train import TrainedModel, fit

SMALL = {"width": 64, "blocks": 1, "sample_steps": 4}
FAST = TrainConfig(max_epochs=3, patience=3, batch_size=64, progress=False, lr=1e-3,
                   lr_schedule="cosine", average=0.9)  # fmt: skip


def test_the_sampler_returns_the_one_gene_a_perfect_denoiser_knows():
    """Where every training gene is the same ``x*``, the ideal velocity at ``(x_t, t)`` is
    ``alpha eps - sigma x*`` with ``eps = (x_t - alpha x*) / sigma``: DDIM from any noise must
    then land on ``x*``, which decodes to the signal ``x*`` was made from, empty bins exactly
    zero."""
    m = models.create("diffusion", n_marks=2, n_bins=6, n_outputs=2, **SMALL)
    m.set_scale(np.array([0.3, 0.5]), np.array([0.4, 0.6]), np.array([0.02, 0.02]),
                unit=np.array([0.74, 0.0]))  # fmt: skip
    g = m.generator
    signal = torch.tensor([[[0.0, 0.02, 0.74, 1.48, 0.0, 0.3], [2.2, 0.0, 0.0, 0.06, 0.9, 0.0]]])
    target = g.encoded(g.transformed(signal)).flatten(1)  # what the model learns

    def ideal(x, t, e):
        a, s = (w[:, None] for w in alpha_sigma(t))
        eps = (x - a * target) / s
        return a * eps - s * target

    g.velocity = ideal
    noise = m.noise(5, torch.Generator().manual_seed(0))
    out = m(noise, torch.tensor([0, 1, 0, 1, 1]))
    back = g.signal(out)
    assert out.shape == (5, 2, 6)
    torch.testing.assert_close(back, signal.expand(5, -1, -1), atol=1e-5, rtol=0)
    assert (back[:, 0, 0] == 0).all() and (back[:, 1, 1] == 0).all()  # exact zeros
    # the training loss is zero for that velocity, and positive for a wrong one
    x = signal.expand(5, -1, -1)
    t, eps = torch.rand(5), torch.randn(5, g.noise_size)
    assert float(g.loss(g.transformed(x), torch.zeros(5), t, eps).max()) < 1e-8
    g.velocity = lambda x, t, e: ideal(x, t, e) + 0.1
    assert float(g.loss(g.transformed(x), torch.zeros(5), t, eps).min()) > 1e-3


def test_whole_reads_have_their_own_channel_and_decide_the_rounding():
    """With ``atoms`` each mark's whole-read bins (non-zero multiples of its unit) are marked
    +1 in a channel beside the signal; a generated bin whose indicator ends above zero is put
    on the nearest whole number of reads (at least one), any other on the grid; a mark with no
    unit has no whole reads."""
    m = models.create("diffusion", n_marks=2, n_bins=5, n_outputs=2, **SMALL)
    m.set_scale(np.array([0.3, 0.5]), np.array([0.4, 0.6]), np.array([0.02, 0.02]),
                unit=np.array([0.74, 0.0]))  # fmt: skip
    g = m.generator
    real = torch.tensor([[[0.0, 0.74, 0.72, 1.48, 2.2], [0.0, 0.74, 0.72, 1.48, 2.2]]])
    enc = g.encoded(g.transformed(real))
    assert enc.shape == (1, 4, 5) and g.noise_size == 20
    assert enc[0, 2].tolist() == [-1, 1, -1, 1, -1] and enc[0, 3].tolist() == [-1] * 5
    # the model's output: signals near whole reads, the indicator on and off
    out = torch.tensor([[[0.755, 0.755, 1.455, 0.3, 0.0], [0.755, 0.755, 1.455, 0.3, 0.0]]])
    indicator = torch.tensor([[[1.0, -1.0, 0.5, 2.0, 1.0], [1.0, -1.0, 0.5, 2.0, 1.0]]])
    v = torch.cat([g.transformed(out), indicator], dim=1)
    v[:, :2, 4] = g.zero_level()[:, :, 0] - g.zero_gap  # an empty bin stays empty
    back = g.signal(g.decoded(v))
    torch.testing.assert_close(back[0, 0], torch.tensor([0.74, 0.76, 1.48, 0.74, 0.0]))
    torch.testing.assert_close(back[0, 1], torch.tensor([0.76, 0.76, 1.46, 0.3, 0.0]))
    # without atoms the indicator channel is not there
    plain = models.create("diffusion", n_marks=2, n_bins=5, n_outputs=2, atoms=False, **SMALL)
    assert plain.generator.noise_size == 10


def test_a_bin_is_empty_where_its_value_rounds_to_no_signal():
    """Decoding puts each bin on the nearest grid value, zero included: a value anywhere in
    the gap between the empty bins' training level and the first grid value, or above zero
    but under half a grid step, reads exactly zero, whatever the whole-read indicator says;
    from half a step up a bin takes at least one step. (The rule before read only values
    below half the gap as empty and gave every other one at least a grid step: a pile-up of
    one-step bins that real genes lack.)"""
    m = models.create("diffusion", n_marks=1, n_bins=6, n_outputs=2, **SMALL)
    m.set_scale(np.array([0.3]), np.array([0.4]), np.array([0.02]), unit=np.array([0.74]))
    g = m.generator
    zero = float(g.zero_level())
    signal = g.transformed(torch.tensor([[[0.0, 0.0, 0.009, 0.011, 0.0, 0.8]]]))
    v = signal.clone()
    v[0, 0, 0] = zero - g.zero_gap  # where empty bins are learnt
    v[0, 0, 1] = zero - 0.2 * g.zero_gap  # in the gap, above its middle
    v[0, 0, 4] = zero - 0.01  # just under the empty level
    indicator = torch.tensor([[[1.0, 1.0, 1.0, -1.0, 1.0, 1.0]]])
    back = g.signal(g.decoded(torch.cat([v, indicator], dim=1)))[0, 0]
    assert back[:3].tolist() == [0.0, 0.0, 0.0] and float(back[4]) == 0.0
    torch.testing.assert_close(back[3], torch.tensor(0.02))  # half a step up: one step
    torch.testing.assert_close(back[5], torch.tensor(0.74))  # whole reads where non-empty


def test_diffusion_trains_saves_and_generates_deterministically(tmp_path, synthetic):
    s = synthetic.splits
    model = fit("diffusion", s["train"], s["valid"], config=FAST, model_params=SMALL)
    h = model.history
    assert "val_denoising_loss" in h and h["best"].sum() == 1
    assert h.loc[h["best"], "val_denoising_loss"].iloc[0] == h["val_denoising_loss"].min()
    assert h["val_denoising_loss"].iloc[-1] < h["val_denoising_loss"].iloc[0]
    y = np.array([0, 1, 1, 0])
    a = model.generate(y, seed=3)
    assert a.shape == (4, 5, 100) and np.array_equal(a, model.generate(y, seed=3))
    assert not np.array_equal(a, model.generate(y, seed=4))
    counts = model.transform.inverse(a)  # on the training signals' grid (integer reads here)
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-3)
    model.save(tmp_path / "d.pt")
    back = TrainedModel.load(tmp_path / "d.pt")
    assert np.array_equal(back.generate(y, seed=3), a)
    fit_scores = back.per_gene(s["test"])["denoising_fit"]
    assert fit_scores.shape == (s["test"].n_genes,) and np.isfinite(fit_scores).all()
    real_walk, walk = walks(back, s["test"], n=8)
    assert walk.shape == real_walk.shape
