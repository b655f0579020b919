"""``fit()``: the one training path for every registered model."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import tempfile
import time
import warnings
from collections.abc import Iterator
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from .. import models
from .._io import atomic_write, home
from ..config import TrainConfig
from ..data.histone import HistoneData
from ..errors import InputError
from .task import InMemoryBatches
from .trained import TrainedModel
from .transform import InputTransform
from .vae_task import make_task

log = logging.getLogger(__name__)


def fit(
    model: str,
    train: HistoneData,
    valid: HistoneData,
    *,
    config: TrainConfig | None = None,
    model_params: dict[str, Any] | None = None,
    unlabelled: HistoneData | None = None,
) -> TrainedModel:
    """Train model ``model`` (a registry name) on ``train``, early-stopping on ``valid``.

    Neural models: Adam, early stopping on validation AUROC (Pearson for regression), the best
    epoch's weights restored. Classical models: fitted on ``train`` once. Both see the same input
    transform (log1p + per-mark standardisation, fitted on ``train`` only).

    Models on a VAE latent (``pretrain = "vae"``) first fit a VAE, without labels, on the
    signals of ``unlabelled`` (default: ``train``), early-stopped on ``valid``'s signals; its
    encoder then initialises theirs. Only ``train``'s labels are ever read for fitting.
    """
    config = config or TrainConfig()
    params = dict(model_params or {})
    entry = models.get(model)
    kind = getattr(entry.cls, "task_kind", "supervised")
    _check_pair(train, valid, config, labels=kind != "vae")
    valid = valid.with_marks(train.marks)
    regression = config.task == "regression"
    pretrain = getattr(entry.cls, "pretrain", None)
    signals = (
        train if unlabelled is None or pretrain is None else unlabelled.with_marks(train.marks)
    )
    transform = InputTransform(log1p=config.log1p, standardize=config.standardize)
    transform.fit(signals.x, train.y, regression=regression)
    # seeded before the module is built: its initial weights are part of the run
    L.seed_everything(config.seed, workers=False, verbose=False)
    module = models.create(
        model,
        n_marks=train.n_marks,
        n_bins=train.n_bins,
        n_outputs=1 if regression else 2,
        **params,
    )
    if hasattr(module, "configure_inputs"):  # modules that need the input scale (the GAN)
        module.configure_inputs(transform)
    trained = TrainedModel(
        name=model,
        module=module,
        transform=transform,
        marks=train.marks,
        n_bins=train.n_bins,
        bin_size=train.bin_size,
        task=config.task,
        hparams=models.hyper_parameters(module),
    )
    start = time.perf_counter()
    if pretrain == "vae":
        vae = pretrained_vae(signals, valid, config, params.get("vae") or {})
        module.load_encoder(vae.module)
        trained.pretrained = vae
    if entry.kind == "sklearn":
        module.fit(transform(train.x), train.y)
        trained.history = pd.DataFrame([{"epoch": 0, **_prefixed(trained.evaluate(valid))}])
    else:
        trained.history = _fit_torch(trained, train, valid, config)
    log.info("%s trained in %.1f s", model, time.perf_counter() - start)
    return trained


def pretrained_vae(
    signals: HistoneData, valid: HistoneData, config: TrainConfig, vae_params: dict[str, Any]
) -> TrainedModel:
    """``fit("vae", ...)`` memoised on disk: a study fits many heads on one unlabelled set.

    The key holds everything the fit depends on (the signals, the validation signals, the VAE
    parameters, the training settings including seed and threads), so a cached VAE is the one a
    new fit would produce.
    """
    h = hashlib.sha256()
    for arr in (signals.x, valid.x):
        h.update(np.ascontiguousarray(arr).data)
    settings = dataclasses.asdict(
        dataclasses.replace(config, progress=False, task="classification")
    )
    h.update(
        json.dumps(
            [
                sorted(vae_params.items()),
                settings,
                list(signals.marks),
                torch.get_num_threads() if config.threads == 0 else config.threads,
            ],
            sort_keys=True,
            default=str,
        ).encode()
    )
    path = home() / "cache" / f"vae-{h.hexdigest()[:32]}.pt"
    if path.exists():
        try:
            cached = TrainedModel.load(path)
            history = path.with_suffix(".history.csv")
            cached.history = pd.read_csv(history) if history.exists() else pd.DataFrame()
            return cached
        except Exception as exc:  # a damaged entry is refitted, never trusted
            log.warning("ignoring cached VAE %s (%s)", path, exc)
    vae = fit("vae", signals, valid, config=config, model_params=vae_params)
    vae.save(path)
    with atomic_write(path.with_suffix(".history.csv")) as fh:
        vae.history.to_csv(fh, index=False)
    return vae


def _prefixed(metrics: dict[str, Any]) -> dict[str, Any]:
    return {f"val_{k}": v for k, v in metrics.items() if k != "n_genes"}


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


def _fit_torch(
    trained: TrainedModel, train: HistoneData, valid: HistoneData, config: TrainConfig
) -> pd.DataFrame:
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    t = trained.transform
    y_dtype = torch.long if config.task == "classification" else torch.float32

    def tensors(data: HistoneData) -> tuple[torch.Tensor, torch.Tensor]:
        if data.y is None or getattr(trained.module, "task_kind", "") == "vae":
            y = np.zeros(data.n_genes, dtype=np.int64)  # a VAE reads no labels
        else:
            y = data.y if config.task == "classification" else t.scale_y(data.y)
        # copies: cached splits are read-only arrays, and training must never write into them
        return torch.from_numpy(np.array(trained.inputs(data))), torch.tensor(y, dtype=y_dtype)

    train_tensors, valid_tensors = tensors(train), tensors(valid)
    trained.module.train()  # building inputs (embedding neighbours) puts it in eval mode
    train_batches = InMemoryBatches(
        *train_tensors, config.batch_size, shuffle=True, seed=config.seed
    )
    valid_batches = InMemoryBatches(*valid_tensors, 4096, shuffle=False)
    lr = config.lr if config.lr is not None else getattr(trained.module, "default_lr", 1e-3)
    task = make_task(trained.module, config, lr)
    with tempfile.TemporaryDirectory(prefix="simplechrome-ckpt-") as ckpt_dir:
        best = ModelCheckpoint(
            dirpath=ckpt_dir, monitor="val_score", mode="max", save_top_k=1, save_weights_only=True
        )
        stop = EarlyStopping(monitor="val_score", mode="max", patience=config.patience)
        with warnings.catch_warnings(), _quiet_lightning():
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            warnings.filterwarnings("ignore", ".*number of training batches.*")
            warnings.filterwarnings("ignore", ".*LeafSpec.*")
            trainer = L.Trainer(
                max_epochs=config.max_epochs,
                accelerator=config.accelerator,
                devices=1,
                callbacks=[best, stop],
                logger=False,
                enable_checkpointing=True,
                enable_progress_bar=config.progress,
                enable_model_summary=False,
                num_sanity_val_steps=0,
                deterministic=True,
                default_root_dir=ckpt_dir,
            )
            trainer.fit(task, train_dataloaders=train_batches, val_dataloaders=valid_batches)
        if trainer.interrupted:
            # Lightning turns Ctrl-C into a graceful return; a half-trained model must never be
            # saved as a finished run (an experiment's --resume would then skip it)
            raise KeyboardInterrupt
        if best.best_model_path:
            state = torch.load(best.best_model_path, map_location="cpu", weights_only=True)
            task.load_state_dict(state["state_dict"])
    trained.module = task.module.cpu().eval()
    history = pd.DataFrame(task.history)
    if not history.empty and best.best_model_score is not None:
        history["best"] = history["epoch"] == _best_epoch(history, config.task)
    return history


def _best_epoch(history: pd.DataFrame, task: str) -> int:
    if "val_sliced_wasserstein" in history:  # a GAN: the closest to the validation genes
        return int(history.loc[history["val_sliced_wasserstein"].astype(float).idxmin(), "epoch"])
    col = next(c for c in ("val_elbo", "val_auroc", "val_pearson") if c in history)
    return int(history.loc[history[col].astype(float).idxmax(), "epoch"])


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Lightning announces devices and tips through its loggers; the library stays quiet."""
    names = ("lightning.pytorch", "lightning.fabric")  # their children inherit the level
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
