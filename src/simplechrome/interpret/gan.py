"""Is a GAN any good, and what does it show? Quality measures and visualisation tables.

Everything compares genes in the model's transformed space (log1p + per-mark
standardisation), real genes transformed with the GAN's own transform. The cheap measures
(sliced Wasserstein distance, mean-profile and mark-mark correlations) live with the GAN's
trained model in ``simplechrome.train.gan``; here are the costlier ones and the views:

- ``two_sample_auroc``: a gradient-boosted classifier trained to tell real from generated genes,
  scored by 2-fold cross-validation; 0.5 means it cannot tell them apart.
- ``synthetic_training``: logistic regression (the package's ``logreg``) trained on generated
  genes only, scored on real test genes, beside the same model trained on the real genes.
- ``condition_walk`` / ``expression_walk``: mean profiles along a walk from the low to the
  high class in the generator's condition space, and, for real genes, along expression quantiles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data.histone import HistoneData
from ..errors import ModelMismatchError
from ..train.gan import (
    GANModel,
    class_groups,
    generation_metrics,
    mark_correlations,
    profile_correlations,
)


def two_sample_auroc(real: np.ndarray, fake: np.ndarray, *, seed: int = 0) -> float:
    """Cross-validated AUROC (2 folds) of a classifier telling real from generated genes.

    Features: the flat signals plus each mark's mean; a histogram gradient-boosting classifier,
    which needs no scaling and finds non-linear differences a linear test would miss.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    x = np.concatenate([real, fake]).astype(np.float32)
    features = np.concatenate([x.reshape(len(x), -1), x.mean(axis=2)], axis=1)
    label = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    scores = np.zeros(len(x))
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=seed)
    for train, test in folds.split(features, label):
        clf = HistGradientBoostingClassifier(max_iter=200, random_state=seed)
        clf.fit(features[train], label[train])
        scores[test] = clf.predict_proba(features[test])[:, 1]
    return float(roc_auc_score(label, scores))


def synthetic_training(
    gan: GANModel, train: HistoneData, test: HistoneData, *, seed: int = 0
) -> dict[str, float]:
    """Train on synthetic, test on real: logistic regression on as many generated genes as
    ``train`` holds (its labels as conditions), scored on ``test``; beside the same model
    trained on ``train``'s real genes. Classification GANs only."""
    from .. import models
    from ..train.metrics import compute

    if gan.task != "classification":
        raise ModelMismatchError("train-on-synthetic needs a class-conditional GAN")
    real_train = gan.transformed(train)
    fake_train = gan.generate(train.y, seed=seed + 1)
    real_test = gan.transformed(test)
    out = {}
    for name, x in (("synthetic", fake_train), ("real", real_train)):
        clf = models.create("logreg", n_marks=len(gan.marks), n_bins=gan.n_bins)
        clf.fit(x, train.y)
        out[f"{name}_auroc"] = float(
            compute("classification", test.y, clf.decision(real_test))["auroc"]
        )
    return out


def condition_walk(gan: GANModel, *, steps: int = 9, n: int = 256, seed: int = 0):
    """Mean generated profiles along a walk from the low to the high condition.

    The noise is held fixed (``n`` draws) and the condition moves in ``steps`` equal steps: a
    class-conditional GAN's class embedding from low to high, a regression GAN's level from the
    training genes' 5th to 95th percentile. Returns ``(positions (steps,), profiles (steps,
    marks, bins))``; position 0 is low, 1 high.
    """
    if not isinstance(gan, GANModel):
        raise ModelMismatchError(f"model {gan.name} is not a generative model")
    m = gan.module.eval()
    noise = m.noise(n, torch.Generator().manual_seed(seed))
    t = np.linspace(0.0, 1.0, steps)
    profiles = []
    with torch.inference_mode():
        if gan.task == "classification":
            ends = m.generator.condition(torch.tensor([0, 1]))
            for a in t:
                e = (1 - a) * ends[0] + a * ends[1]
                profiles.append(m.generator(noise, embedded=e[None]).mean(0).numpy())
        else:
            lo, hi = -1.645, 1.645  # standardised level: the training genes' 5th-95th percentile
            for a in t:
                c = torch.full((n,), lo + a * (hi - lo))
                profiles.append(m.generator(noise, c).mean(0).numpy())
    return t, np.stack(profiles)


def expression_walk(
    gan: GANModel, data: HistoneData, *, steps: int = 9
) -> tuple[np.ndarray, np.ndarray]:
    """Real genes' mean profiles from low to high expression: ``steps`` quantile groups of
    ``log2(RPKM + 1)`` when ``data`` carries its cell's expression (or is a regression split),
    else the two classes. Returns ``(positions, profiles (groups, marks, bins))``."""
    x = gan.transformed(data)
    level = _levels(data)
    if level is None:
        if data.y is None:
            raise ModelMismatchError(f"{data.cell}: no labels or expression to order genes by")
        groups = [data.y == k for k in np.unique(data.y)]
    else:
        edges = np.quantile(level, np.linspace(0, 1, steps + 1))
        which = np.clip(np.searchsorted(edges, level, side="right") - 1, 0, steps - 1)
        groups = [which == g for g in range(steps)]
    profiles = np.stack([x[g].mean(0) for g in groups if g.any()])
    return np.linspace(0.0, 1.0, len(profiles)), profiles


def _levels(data: HistoneData) -> np.ndarray | None:
    if data.task == "regression" and data.y is not None:
        return np.asarray(data.y, dtype=np.float64)
    expr, column = data.expression, data.eid or data.cell
    if expr is None or column not in expr.columns:
        return None
    values = expr[column].reindex(data.gene_ids).to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        return None
    return np.log2(values + 1.0)


def gan_quality(
    gan: GANModel, train: HistoneData, test: HistoneData, *, seed: int = 0
) -> dict[str, Any]:
    """Every measure of the module docstring on ``test`` (and ``train`` for the
    train-on-synthetic comparison): a dict of numbers and the tables the plots draw."""
    real, fake, y = gan.real_and_generated(test, seed=seed)
    out: dict[str, Any] = generation_metrics(gan, test, seed=seed)
    out["two_sample_auroc"] = two_sample_auroc(real, fake, seed=seed)
    if gan.task == "classification":
        out.update(synthetic_training(gan, train, test, seed=seed))
    profiles = profile_correlations(real, fake, y, gan.marks, gan.task)
    # the ceiling: how well the real training genes' mean profiles match the test genes'
    # (sampling noise alone keeps a flat, weak mark's r well below 1)
    real_train = gan.transformed(train)
    ceiling = profile_correlations(real, real_train, y, gan.marks, gan.task, y_fake=train.y)
    profiles["real_train_r"] = ceiling["pearson_r"].to_numpy()
    out["profiles"] = profiles
    out["mark_correlations"] = {
        name: (mark_correlations(real[s]), mark_correlations(fake[s]))
        for name, s in class_groups(y, gan.task)
    }
    out["samples"] = (real, fake, y)  # the compared genes, for plots of single genes
    out["mean_profiles"] = {
        name: (real[s].mean(0), fake[s].mean(0)) for name, s in class_groups(y, gan.task)
    }
    return out
