"""A run's analysis tables hold what their definitions say (recomputed here from the model)."""

from __future__ import annotations

import numpy as np
import pytest

from simplechrome.config import TrainConfig
from simplechrome.interpret import analyse
from simplechrome.train import fit

FAST = TrainConfig(max_epochs=2, patience=2, progress=False)


def test_attention_tables(synthetic):
    s = synthetic.splits
    model = fit("attentivechrome", s["train"], s["valid"], config=FAST)
    out = analyse(model, s)
    assert {"attention_profiles", "mark_attention", "example_gene", "class_maps",
            "attributions", "interpretation"} <= set(out)  # fmt: skip
    bins, marks = model.attention(s["test"])
    high = bins[s["test"].y == 1].mean(axis=0)  # (marks, bins)
    p = out["attention_profiles"]
    row = p[(p["class"] == "high") & (p["mark"] == "H3K4me3") & (p["bin"] == 51)]
    assert row["value"].iloc[0] == pytest.approx(high[model.marks.index("H3K4me3"), 50], rel=1e-6)
    summary = out["interpretation"]["mean_mark_attention"]["low"]
    assert summary["H3K27me3"] == pytest.approx(marks[s["test"].y == 0, 0].mean(), rel=1e-6)
    example = out["example_gene"]
    top = int(np.argmax(model.predict_scores(s["test"])))
    assert example["gene_id"].iloc[0] == s["test"].gene_ids[top]
    assert len(out["mark_attention"]) == s["test"].n_genes * 5


def test_latent_tables(synthetic):
    from sklearn.decomposition import PCA

    s = synthetic.splits
    model = fit("vae_logreg", s["train"], s["valid"], config=FAST, unlabelled=s["train"])
    out = analyse(model, s)
    xy = PCA(n_components=2, random_state=0).fit_transform(model.pretrained.embed(s["test"]))
    np.testing.assert_allclose(out["latent_pca"][["x", "y"]].to_numpy(), xy, rtol=1e-5, atol=1e-6)
    assert out["vae"]["recon_r2"] == pytest.approx(model.pretrained.evaluate(s["test"])["recon_r2"])
    rec = out["reconstructions"]
    gene = rec["gene_id"].iloc[0]
    x, recon = model.pretrained.reconstruct(s["test"].subset([s["test"].index_of(gene)]))
    np.testing.assert_allclose(
        rec[rec["gene_id"] == gene]["reconstruction"].to_numpy(), recon[0].ravel(), atol=1e-5
    )


def test_gan_tables(synthetic):
    from simplechrome.interpret.gan import two_sample_auroc

    s = synthetic.splits
    gan = fit("gan", s["train"], s["valid"], config=FAST)
    out = analyse(gan, s)
    real, fake, _ = gan.real_and_generated(s["test"])
    assert out["gan_quality"]["two_sample_auroc"] == pytest.approx(two_sample_auroc(real, fake))
    corr = out["gan_mark_correlations"]
    pick = (corr["class"] == "high") & (corr["source"] == "real")
    r = corr[pick & (corr["mark_a"] == "H3K4me3") & (corr["mark_b"] == "H3K36me3")]["r"].iloc[0]
    per_gene = real[s["test"].y == 1].mean(axis=2)
    expected = np.corrcoef(per_gene[:, 3], per_gene[:, 1])[0, 1]
    assert r == pytest.approx(expected, rel=1e-6)
    assert {"gan_profiles", "gan_mean_profiles", "gan_examples", "gan_walk"} <= set(out)
