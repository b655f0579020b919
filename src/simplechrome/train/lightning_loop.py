"""The one training loop of every torch model: a Lightning ``Trainer`` with early stopping on
the task's validation score and the best epoch's weights restored.

Each family's task (``supervised``, ``vae``, ``generator``) is a ``HistoryTask``: it owns its loss,
optimiser and validation score (``val_score``, higher is better), and appends one history row
per epoch. The loop knows nothing else about it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import numpy as np
import pandas as pd
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from ..config import TrainConfig
from .batches import InMemoryBatches

log = logging.getLogger(__name__)


class HistoryTask(L.LightningModule):
    """Shared bookkeeping of the tasks: the per-epoch history (loss, timings, validation
    metrics, ``val_score``) and the wall time of each phase.

    Validation runs inside the training epoch, so the training part ends where validation
    starts. Losses are summed on the device and read once per epoch: per-step logging costs
    more than a small model's step.
    """

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module
        self.history: list[dict[str, float]] = []
        self._loss_sum = torch.zeros(())
        self._loss_n = 0
        self._clock: dict[str, float] = {}

    def on_train_epoch_start(self) -> None:
        self._clock = {"train_start": time.perf_counter()}

    def on_validation_epoch_start(self) -> None:
        now = time.perf_counter()
        if "train_start" in self._clock:
            self._clock["train_seconds"] = now - self._clock.pop("train_start")
        self._clock["valid_start"] = now

    def add_loss(self, loss: torch.Tensor, n: int) -> None:
        self._loss_sum = self._loss_sum.to(loss.device) + loss.detach() * n
        self._loss_n += n

    def finish(self) -> None:
        """Called once the best epoch's state is restored: a task whose scored weights are not
        its module's own (e.g. an average) puts them in the module here."""

    def end_epoch(self, score: float, validation: dict[str, float]) -> None:
        """Log ``score`` (what early stopping maximises) and append the epoch's history row."""
        self.log("val_score", score, prog_bar=True)
        if self.trainer.sanity_checking:
            return
        row: dict[str, float] = {"epoch": self.current_epoch}
        if self._loss_n:
            row["train_loss"] = float(self._loss_sum) / self._loss_n
        if "train_seconds" in self._clock:
            row["train_seconds"] = self._clock["train_seconds"]
        row["valid_seconds"] = time.perf_counter() - self._clock.get(
            "valid_start", time.perf_counter()
        )
        row.update(validation)
        row["val_score"] = score
        if self._trainer is not None and self.trainer.optimizers:
            row["lr"] = self.trainer.optimizers[0].param_groups[0]["lr"]
        self.history.append(row)
        self._loss_sum = torch.zeros(())
        self._loss_n = 0


# where the fits of the current run keep their checkpoints (``resumable``), and how many fits
# it has started (a latent model fits a VAE, then its head: each fit has its own folder)
_CHECKPOINTS: contextvars.ContextVar[tuple[Path, list[int]] | None] = contextvars.ContextVar(
    "checkpoints", default=None
)


@contextlib.contextmanager
def resumable(folder: str | Path | None) -> Iterator[None]:
    """Fits started inside keep a full checkpoint in ``folder/fitN/`` after every epoch, and
    continue from it when a killed process left one; a fit that completes removes its own."""
    token = _CHECKPOINTS.set((Path(folder), [0]) if folder is not None else None)
    try:
        yield
    finally:
        _CHECKPOINTS.reset(token)


def _plain(value: object) -> object:
    """A numpy or torch scalar as the Python number it holds."""
    return value.item() if isinstance(value, (np.generic, torch.Tensor)) else value


class _ResumeState(L.Callback):
    """What a checkpoint needs beyond Lightning's own for a resumed fit to continue exactly:
    the task's history, the global RNG (dropout) and the training batches' shuffling."""

    def __init__(self, task: HistoryTask, train: InMemoryBatches) -> None:
        self.task, self.train = task, train

    def state_dict(self) -> dict:
        return {
            # plain floats: the checkpoint loads with weights_only (no numpy scalars)
            "history": [{k: _plain(v) for k, v in r.items()} for r in self.task.history],
            "torch_rng": torch.get_rng_state(),
            "shuffle": self.train.generator.get_state(),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        self.task.history[:] = state_dict["history"]
        torch.set_rng_state(state_dict["torch_rng"])
        self.train.generator.set_state(state_dict["shuffle"])


def run_lightning(
    task: HistoryTask, train: InMemoryBatches, valid: InMemoryBatches, config: TrainConfig
) -> pd.DataFrame:
    """Train ``task`` with early stopping on ``val_score``; restore the best epoch's weights.

    Returns the history, one row per epoch, with ``best`` marking the restored epoch. The data
    go to the device once; the module comes back on the CPU in eval mode.
    """
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    # denormal floats cost a CPU a hundred times a normal one: a GAN's critic produced them
    # (an epoch of 13 steps took 18 s instead of 1 s); flushed to zero, as GPUs do
    torch.set_flush_denormal(True)
    keep = _CHECKPOINTS.get()
    if keep is not None:
        keep[1][0] += 1
        folder = keep[0] / f"fit{keep[1][0]}"
        folder.mkdir(parents=True, exist_ok=True)
    where = contextlib.nullcontext(str(folder)) if keep is not None else None
    with where or tempfile.TemporaryDirectory(prefix="simplechrome-ckpt-") as ckpt_dir:
        last = Path(ckpt_dir) / "last.ckpt"
        resume = str(last) if keep is not None and last.is_file() else None
        best = ModelCheckpoint(
            dirpath=ckpt_dir,
            monitor="val_score",
            mode="max",
            save_top_k=1,
            save_weights_only=keep is None,
            save_last=keep is not None,
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
                callbacks=[best, stop, *([_ResumeState(task, train)] if keep else [])],
                logger=False,
                enable_checkpointing=True,
                enable_progress_bar=config.progress,
                enable_model_summary=False,
                num_sanity_val_steps=0,
                deterministic=True,
                default_root_dir=ckpt_dir,
            )
            device = trainer.strategy.root_device
            if resume is not None:
                log.info("resuming an interrupted fit from %s", resume)
            trainer.fit(
                task,
                train_dataloaders=train.to(device),
                val_dataloaders=valid.to(device),
                ckpt_path=resume,
            )
        if trainer.interrupted:
            # Lightning turns Ctrl-C into a graceful return; a half-trained model must never be
            # saved as a finished run (an experiment's --resume would then skip it)
            raise KeyboardInterrupt
        if best.best_model_path:
            state = torch.load(best.best_model_path, map_location="cpu", weights_only=True)
            task.load_state_dict(state["state_dict"])
        task.finish()
    if keep is not None:  # complete: nothing to resume
        shutil.rmtree(folder, ignore_errors=True)
    task.module.cpu().eval()
    history = pd.DataFrame(task.history)
    if not history.empty and best.best_model_score is not None:
        best_epoch = history.loc[history["val_score"].astype(float).idxmax(), "epoch"]
        history["best"] = history["epoch"] == best_epoch
    return history


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
