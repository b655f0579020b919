"""A run's analyses: what the report shows beyond metrics, computed once when the run is made.

``analyse(trained, splits)`` picks the analyses by what the model's registry entry says it
outputs and returns named results, tables (``pd.DataFrame``) or numbers (dicts), which the run
directory stores under ``analysis/`` and the report draws without computing anything:

- ``attention`` models: mean bin attention per class (``attention_profiles``), each test gene's
  mark attention (``mark_attention``), the top-scoring gene's attention and input
  (``example_gene``), class-optimisation maps (``class_maps``), integrated-gradient
  attributions (``attributions``) and a summary (``interpretation``).
- models with a ``latent`` space: the VAE's test reconstructions (``reconstructions``), its
  latent means on two principal components (``latent_pca``) and its numbers (``vae``).
- ``neighbor_attention`` models: mean attention by neighbour rank (``neighbor_attention``).
- generators (``samples``): every quality measure and view of ``interpret.gan``
  (``gan_quality``, ``gan_profiles``, ``gan_mean_profiles``, ``gan_mark_correlations``,
  ``gan_examples``, ``gan_walk``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.histone import HistoneData
from ..train.gan import GANModel
from ..train.trained import TrainedModel
from .gan import gan_quality
from .saliency import class_optimisation_maps, integrated_gradients

GROUPS = {1: "high", 0: "low"}
Analysis = pd.DataFrame | dict[str, Any]


def analyse(
    trained: TrainedModel, splits: dict[str, HistoneData], *, seed: int = 0
) -> dict[str, Analysis]:
    """Every analysis the model's outputs call for, on its test split (and train for GANs)."""
    test = splits["test"]
    out: dict[str, Analysis] = {}
    labelled = test.y is not None and trained.task == "classification"
    if "attention" in trained.outputs and labelled:
        out.update(attention_analyses(trained, test, seed=seed))
    if "latent" in trained.outputs:
        vae = trained if "reconstruction" in trained.outputs else trained.pretrained
        if vae is not None:
            out.update(latent_analyses(vae, test))
    if "neighbor_attention" in trained.outputs:
        out["neighbor_attention"] = neighbor_attention_by_rank(trained, test)
    if "samples" in trained.outputs and trained.family == "generator" and test.y is not None:
        out.update(gan_analyses(trained, splits["train"], test, seed=seed))
    return out


def _tidy_maps(maps: dict[int, np.ndarray], marks: tuple[str, ...]) -> pd.DataFrame:
    """``{class: (marks, bins)}`` -> rows ``class, mark, bin, value`` (bins from 1)."""
    frames = []
    for c, arr in maps.items():
        n_bins = arr.shape[1]
        frames.append(
            pd.DataFrame(
                {
                    "class": GROUPS.get(int(c), str(c)),
                    "mark": np.repeat(list(marks), n_bins),
                    "bin": np.tile(np.arange(1, n_bins + 1), len(marks)),
                    "value": arr.reshape(-1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _tss_gap(arrays: dict[int, np.ndarray], marks: tuple[str, ...], mark: str) -> float:
    """High minus low class mean of ``mark`` over the central fifth of the bins (the TSS)."""
    k = marks.index(mark)
    n = arrays[1].shape[1]
    centre = slice(2 * n // 5, 3 * n // 5)
    return float(arrays[1][k, centre].mean() - arrays[0][k, centre].mean())


def attention_analyses(
    model: TrainedModel, test: HistoneData, *, seed: int = 0
) -> dict[str, Analysis]:
    """What an attention model attends to and what it responds to, on its test genes.

    Class-optimisation maps: inputs optimised for each class's logit margin under an L2
    penalty (4 starts, 150 steps, averaged). Attributions: integrated gradients from the
    average gene (zero in the standardised space), 200 genes per class.
    """
    bins, marks_att = model.attention(test)
    marks = model.marks
    y = np.asarray(test.y)
    profiles = _tidy_maps({c: bins[y == c].mean(axis=0) for c in (1, 0) if (y == c).any()}, marks)
    per_gene = pd.DataFrame(
        {
            "gene_id": np.repeat(test.gene_ids, len(marks)),
            "class": np.repeat([GROUPS[int(v)] for v in y], len(marks)),
            "mark": np.tile(list(marks), test.n_genes),
            "attention": marks_att.reshape(-1),
        }
    )
    scores = model.predict_scores(test)
    top = int(np.argmax(scores))
    x = model.transformed(test.subset(slice(top, top + 1)))[0]
    example = pd.DataFrame(
        {
            "gene_id": test.gene_ids[top],
            "label": int(y[top]),
            "score": float(scores[top]),
            "mark": np.repeat(list(marks), model.n_bins),
            "bin": np.tile(np.arange(1, model.n_bins + 1), len(marks)),
            "attention": bins[top].reshape(-1),
            "input": x.reshape(-1),
        }
    )
    maps = class_optimisation_maps(model, steps=150, starts=4, seed=seed)
    attributions = integrated_gradients(model, test, max_genes=200, steps=16, seed=seed)
    summary: dict[str, Any] = {
        "test_genes": int(test.n_genes),
        "mean_mark_attention": {
            GROUPS[c]: dict(zip(marks, map(float, marks_att[y == c].mean(0)), strict=True))
            for c in (1, 0)
            if (y == c).any()
        },
    }
    if "H3K4me3" in marks:
        summary["h3k4me3_tss_map_high_minus_low"] = _tss_gap(maps, marks, "H3K4me3")
        summary["h3k4me3_tss_attribution_high_minus_low"] = _tss_gap(attributions, marks, "H3K4me3")
    return {
        "attention_profiles": profiles,
        "mark_attention": per_gene,
        "example_gene": example,
        "class_maps": _tidy_maps(maps, marks),
        "attributions": _tidy_maps(attributions, marks),
        "interpretation": summary,
    }


def latent_analyses(vae: TrainedModel, test: HistoneData) -> dict[str, Analysis]:
    """A VAE's reconstructions of three test genes (the strongest-signal gene of each class and
    one of median strength), its latent means on two principal components (with each gene's
    label and, where the cell's expression is known, ``log2(RPKM + 1)``), and its numbers."""
    from sklearn.decomposition import PCA

    x, recon = vae.reconstruct(test)
    strength = x.reshape(len(x), -1).std(axis=1)
    picks = []
    if test.y is not None:
        for label in (1, 0):
            idx = np.flatnonzero(test.y == label)
            if idx.size:
                picks.append(int(idx[np.argmax(strength[idx])]))
    picks.append(int(np.argsort(strength)[len(strength) // 2]))
    marks, n_bins = vae.marks, vae.n_bins
    examples = pd.concat(
        [
            pd.DataFrame(
                {
                    "gene_id": test.gene_ids[i],
                    "label": -1 if test.y is None else int(test.y[i]),
                    "mark": np.repeat(list(marks), n_bins),
                    "bin": np.tile(np.arange(1, n_bins + 1), len(marks)),
                    "input": x[i].reshape(-1),
                    "reconstruction": recon[i].reshape(-1),
                }
            )
            for i in dict.fromkeys(picks)
        ],
        ignore_index=True,
    )
    xy = PCA(n_components=2, random_state=0).fit_transform(vae.embed(test))
    coords = pd.DataFrame({"gene_id": test.gene_ids, "x": xy[:, 0], "y": xy[:, 1]})
    if test.y is not None:
        coords["label"] = test.y
    column = test.eid or test.cell
    if test.expression is not None and column in test.expression.columns:
        level = test.expression[column].reindex(test.gene_ids).to_numpy(dtype=np.float64)
        coords["log2_rpkm"] = np.log2(level + 1.0)
    metrics = vae.evaluate(test)
    history = vae.history
    numbers = {
        "test_genes": metrics["n_genes"],
        "recon_r2": metrics["recon_r2"],
        "recon_mse": metrics["recon_mse"],
        "epochs": int(len(history)),
        "best_val_elbo": float(history["val_elbo"].max()) if "val_elbo" in history else None,
    }
    return {"reconstructions": examples, "latent_pca": coords, "vae": numbers}


def neighbor_attention_by_rank(model: TrainedModel, test: HistoneData) -> pd.DataFrame:
    """Mean attention over the test genes at each neighbour rank (1 = nearest)."""
    attention = model.neighbor_attention(test)
    return pd.DataFrame(
        {"rank": np.arange(1, attention.shape[1] + 1), "attention": attention.mean(axis=0)}
    )


def gan_analyses(
    gan: GANModel, train: HistoneData, test: HistoneData, *, seed: int = 0
) -> dict[str, Analysis]:
    """Every GAN quality measure and view (``interpret.gan.gan_quality``) as tables."""
    q = gan_quality(gan, train, test, seed=seed)
    return {
        "gan_quality": q.numbers,
        "gan_profiles": q.tables["profiles"],
        "gan_mean_profiles": q.tables["mean_profiles"],
        "gan_mark_correlations": q.tables["mark_correlations"],
        "gan_examples": q.tables["examples"],
        "gan_walk": q.tables["walk"],
    }
