"""``fit()``: the one training path for every registered model.

The registry entry of the model names its family; the family's ``TrainedModel`` subclass
prepares (pretraining, input bounds), trains (its task under the one Lightning loop, or one
scikit-learn call) and later predicts. ``fit`` only checks the data, resolves the training
settings against the model's own defaults, fits the input transform and seeds.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import lightning as L
import numpy as np

from .. import models
from ..config import TrainConfig
from ..data import compendium
from ..data.histone import HistoneData
from ..errors import InputError
from .trained import TrainedModel
from .transform import InputTransform

log = logging.getLogger(__name__)


def resolve_config(config: TrainConfig, model: str) -> TrainConfig:
    """``config`` with every setting left open (``None``) taken from the model's registry
    defaults: what a run records and trains with."""
    defaults = dataclasses.asdict(models.get(model).defaults)
    return dataclasses.replace(
        config,
        **{k: v for k, v in defaults.items() if getattr(config, k) is None},
    )


def fit(
    model: str,
    train: HistoneData,
    valid: HistoneData,
    *,
    config: TrainConfig | None = None,
    model_params: dict[str, Any] | None = None,
    unlabelled: HistoneData | None = None,
    unlabelled_valid: HistoneData | None = None,
) -> TrainedModel:
    """Train model ``model`` (a registry name) on ``train``, early-stopping on ``valid``.

    Neural models: Adam, early stopping on the family's validation score (AUROC, Pearson for
    regression; ELBO for a VAE; sliced Wasserstein distance for a GAN), the best epoch's
    weights restored. Classical models: fitted on ``train`` once. All see the same input
    transform (log1p + per-mark standardisation, fitted on ``train`` only; for latent models on
    the unlabelled signals their VAE is fitted on).

    Models on a VAE latent first fit a VAE, without labels, on the signals of ``unlabelled``
    (default: ``train``), early-stopped on the signals of ``unlabelled_valid`` (default:
    ``valid``); its encoder then initialises theirs. Only ``train``'s labels are ever read
    for fitting, and ``valid``'s for early stopping.
    """
    entry = models.get(model)
    cls = TrainedModel.family_class(entry.family)
    config = resolve_config(config or TrainConfig(), model)
    _check_pair(train, valid, config, labels=cls.reads_labels)
    if entry.inputs == "compendium":  # the compendium profile only: no histone mark
        missing = [c for c in compendium.PROFILE if c not in train.marks]
        if missing:
            raise InputError(
                f"model {model} reads the compendium, which {train.cell} lacks: load it with "
                "the compendium (train --compendium, or compendium: self in a spec)"
            )
        train = train.select_marks(compendium.PROFILE)
        unlabelled = unlabelled_valid = None
    valid = valid.select_marks(train.marks)
    hparams = models.hyper_parameters(model, model_params)
    signals = train if unlabelled is None or entry.family != "latent" else unlabelled
    transform = InputTransform(log1p=config.log1p, standardize=config.standardize)
    transform.fit(
        signals.with_marks(train.marks).x, train.y, regression=config.task == "regression"
    )
    # seeded before the module is built: its initial weights are part of the run
    L.seed_everything(config.seed, workers=False, verbose=False)
    module = models.create(
        model,
        n_marks=train.n_marks,
        n_bins=train.n_bins,
        n_outputs=1 if config.task == "regression" else 2,
        **hparams,
    )
    trained = cls(
        name=model,
        module=module,
        transform=transform,
        marks=train.marks,
        n_bins=train.n_bins,
        bin_size=train.bin_size,
        task=config.task,
        hparams=hparams,
    )
    start = time.perf_counter()
    trained.prepare(train, valid, config, unlabelled, unlabelled_valid)
    trained.history = trained.train_on(train, valid, config)
    log.info("%s trained in %.1f s", model, time.perf_counter() - start)
    return trained


def _check_pair(
    train: HistoneData, valid: HistoneData, config: TrainConfig, *, labels: bool = True
) -> None:
    for name, data in (("train", train), ("valid", valid)):
        if labels and data.y is None:
            raise InputError(f"the {name} split of {data.cell} has no labels")
        if data.n_genes == 0:
            raise InputError(f"the {name} split of {data.cell} has no genes")
        if labels and data.task != config.task:
            raise InputError(
                f"the {name} split of {data.cell} holds {data.task} labels, "
                f"but training asks for {config.task}"
            )
    if sorted(train.marks) != sorted(valid.marks) or train.n_bins != valid.n_bins:
        raise InputError(
            f"train has marks {list(train.marks)} x {train.n_bins} bins, valid has "
            f"{list(valid.marks)} x {valid.n_bins} bins"
        )
    if labels and config.task == "classification" and len(np.unique(train.y)) < 2:
        raise InputError(f"the train split of {train.cell} holds one class only")
