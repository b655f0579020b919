from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from simplechrome import models
from simplechrome.config import TrainConfig
from simplechrome.train import TrainedModel, fit, pretrained_vae

FAST = TrainConfig(max_epochs=4, patience=2, progress=False)


def test_vae_shapes_and_eval_determinism():
    m = models.create("vae", n_marks=5, n_bins=100, latent=7)
    x = torch.randn(4, 5, 100)
    out = m(x)
    assert out.recon.shape == x.shape and out.mu.shape == (4, 7) and out.logvar.shape == (4, 7)
    m.eval()
    assert torch.equal(m(x).recon, m(x).recon)  # the mean, not a sample


def test_vae_overfits_one_batch():
    torch.manual_seed(0)
    m = models.create("vae", n_marks=5, n_bins=100)
    x = torch.randn(8, 5, 100)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    first = None
    for _ in range(300):
        opt.zero_grad()
        out = m(x)
        loss = ((out.recon - x) ** 2).mean()
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss.detach())
    m.eval()
    with torch.no_grad():
        assert float(((m(x).recon - x) ** 2).mean()) < 0.3 * first


def test_vae_fits_without_labels_and_embeds_deterministically(tmp_path, synthetic):
    s = synthetic.splits
    unlabelled = dataclasses.replace(s["train"], y=None)
    vae = fit("vae", unlabelled, dataclasses.replace(s["valid"], y=None), config=FAST)
    assert {"val_recon", "val_kl", "val_elbo"} <= set(vae.history.columns)
    z1, z2 = vae.embed(s["test"]), vae.embed(s["test"])
    assert z1.shape == (s["test"].n_genes, 10) and np.array_equal(z1, z2)
    metrics = vae.evaluate(s["test"])
    assert 0 < metrics["recon_r2"] < 1
    vae.save(tmp_path / "vae.pt")
    back = TrainedModel.load(tmp_path / "vae.pt")
    assert np.array_equal(back.embed(s["test"]), z1)
    x, recon = back.reconstruct(s["test"])
    assert x.shape == recon.shape == s["test"].x.shape


@pytest.mark.parametrize("name", ["vae_logreg", "vae_mlp", "vae_finetune"])
def test_latent_models_use_the_pretrained_encoder(synthetic, name):
    s = synthetic.splits
    trained = fit(name, s["train"], s["valid"], config=FAST, unlabelled=s["train"])
    assert trained.pretrained is not None and len(trained.pretrained.history) > 0
    frozen = all(not p.requires_grad for p in trained.module.encoder.parameters())
    assert frozen == (name != "vae_finetune")
    assert trained.evaluate(s["test"])["auroc"] > 0.8


def test_pretrained_vae_is_cached(synthetic, _isolated_home):
    s = synthetic.splits
    a = pretrained_vae(s["train"], s["valid"], FAST, {})
    files = list((_isolated_home / "cache").glob("vae-*.pt"))
    assert len(files) == 1
    b = pretrained_vae(s["train"], s["valid"], FAST, {})
    assert np.array_equal(a.embed(s["test"]), b.embed(s["test"]))
    assert len(list((_isolated_home / "cache").glob("vae-*.pt"))) == 1
    pretrained_vae(s["train"], s["valid"], dataclasses.replace(FAST, seed=1), {})
    assert len(list((_isolated_home / "cache").glob("vae-*.pt"))) == 2


def test_training_never_reads_valid_or_test_labels(synthetic, monkeypatch):
    """Valid labels only score early stopping of supervised models; the VAE reads none at all.

    Shuffling the valid and test labels must leave the pretrained VAE unchanged: with the cache
    off, both VAEs are fitted (a cache keyed without labels would compare one with itself).
    """
    monkeypatch.setenv("SIMPLECHROME_CACHE", "off")
    s = synthetic.splits
    rng = np.random.default_rng(0)
    shuffled = {k: dataclasses.replace(v, y=rng.permutation(v.y)) for k, v in s.items()}
    a = pretrained_vae(s["train"], s["valid"], FAST, {})
    b = pretrained_vae(shuffled["train"], shuffled["valid"], FAST, {})
    assert np.array_equal(a.embed(s["test"]), b.embed(s["test"]))
    # a latent model fitted with unlabelled = train signals never touches test labels
    c = fit("vae_logreg", s["train"], s["valid"], config=FAST, unlabelled=s["train"])
    d = fit(
        "vae_logreg",
        s["train"],
        s["valid"],
        config=FAST,
        unlabelled=dataclasses.replace(s["train"], y=None),
    )
    assert np.array_equal(c.predict_scores(s["test"]), d.predict_scores(s["test"]))
