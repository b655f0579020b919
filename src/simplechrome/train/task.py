"""Lightning task for supervised prediction (classification or regression) of any registered module.

The module holds the network; the task owns the loss, the optimiser and the validation metric.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import lightning as L
import numpy as np
import torch
from torch import nn

from .metrics import compute, score_for_monitor


class InMemoryBatches:
    """Batches as index slices of one in-memory tensor; reshuffled (seeded) every epoch.

    No per-gene ``__getitem__`` and no worker processes: a batch is one ``index_select``.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int = 0,
    ) -> None:
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return (len(self.x) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.x)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator)
            for lo in range(0, n, self.batch_size):
                idx = order[lo : lo + self.batch_size]
                yield self.x.index_select(0, idx), self.y.index_select(0, idx)
        else:
            for lo in range(0, n, self.batch_size):
                yield self.x[lo : lo + self.batch_size], self.y[lo : lo + self.batch_size]


def scores_from_outputs(outputs: torch.Tensor, task: str) -> torch.Tensor:
    """Model outputs -> one score per gene: P(class 1), or the (scaled) regression prediction."""
    if task == "classification":
        return torch.softmax(outputs, dim=1)[:, 1]
    return outputs.squeeze(1)


class SupervisedTask(L.LightningModule):
    """Cross-entropy (classification) or MSE (regression) with Adam; validation AUROC/Pearson."""

    def __init__(
        self,
        module: nn.Module,
        *,
        task: str,
        lr: float,
        weight_decay: float,
        lr_decay: float = 1.0,
        lr_patience: int = 2,
    ) -> None:
        super().__init__()
        self.module = module
        self.task = task
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_decay = lr_decay
        self.lr_patience = lr_patience
        self.history: list[dict[str, float]] = []
        self._loss_sum = torch.zeros(())
        self._loss_n = 0
        self._val_scores: list[torch.Tensor] = []
        self._val_y: list[torch.Tensor] = []
        self._clock: dict[str, float] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.module(x)
        return out[0] if isinstance(out, tuple) else out

    def loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.task == "classification":
            return nn.functional.cross_entropy(outputs, y)
        return nn.functional.mse_loss(outputs.squeeze(1), y)

    # Wall time of each phase, kept in the history: validation runs inside the training epoch,
    # so the training part ends where validation starts.
    def on_train_epoch_start(self) -> None:
        self._clock = {"train_start": time.perf_counter()}

    def on_validation_epoch_start(self) -> None:
        now = time.perf_counter()
        if "train_start" in self._clock:
            self._clock["train_seconds"] = now - self._clock.pop("train_start")
        self._clock["valid_start"] = now

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        x, y = batch
        loss = self.loss(self(x), y)
        # summed here, logged once per epoch: per-step logging costs more than a small model's step
        self._loss_sum = self._loss_sum.to(loss.device) + loss.detach() * len(y)
        self._loss_n += len(y)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self._val_scores.append(scores_from_outputs(self(x), self.task).float().cpu())
        self._val_y.append(y.cpu())

    def on_validation_epoch_end(self) -> None:
        scores = torch.cat(self._val_scores).numpy()
        y = torch.cat(self._val_y).numpy()
        self._val_scores.clear()
        self._val_y.clear()
        metrics = compute(self.task, y, scores)
        monitor = score_for_monitor(metrics, self.task)
        self.log("val_score", monitor, prog_bar=True)
        if not self.trainer.sanity_checking:
            self.end_epoch({f"val_{k}": v for k, v in metrics.items() if k != "n_genes"})

    def end_epoch(self, validation: dict[str, float]) -> None:
        """Append the epoch's history row (loss, timings, ``validation``) and reset the sums."""
        row: dict[str, float] = {"epoch": self.current_epoch}
        if self._loss_n:
            row["train_loss"] = float(self._loss_sum) / self._loss_n
        if "train_seconds" in self._clock:
            row["train_seconds"] = self._clock["train_seconds"]
        row["valid_seconds"] = time.perf_counter() - self._clock.get(
            "valid_start", time.perf_counter()
        )
        row.update(validation)
        if self._trainer is not None and self.trainer.optimizers:
            row["lr"] = self.trainer.optimizers[0].param_groups[0]["lr"]
        self.history.append(row)
        self._loss_sum = torch.zeros(())
        self._loss_n = 0

    def configure_optimizers(self):
        optimiser = torch.optim.Adam(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        if self.lr_decay >= 1.0:
            return optimiser
        # multiply the learning rate by lr_decay after lr_patience epochs without a better
        # validation score (checked after each validation, before early stopping's own patience)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimiser, mode="max", factor=self.lr_decay, patience=self.lr_patience
        )
        return {
            "optimizer": optimiser,
            "lr_scheduler": {"scheduler": plateau, "monitor": "val_score", "interval": "epoch"},
        }


def predict_scores(
    module: nn.Module, x: np.ndarray, task: str, *, batch_size: int = 512
) -> np.ndarray:
    """Scores of transformed inputs ``x`` (no gradients, eval mode, on the module's device).

    Batches of 512 keep a CNN's activations in cache: on 2 CPU threads DeepChrome scores about
    70,000 genes/s at 256-1024 and 37,000 at 4096.
    """
    device = next(module.parameters()).device
    module.eval()
    out = []
    with torch.inference_mode():
        for lo in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[lo : lo + batch_size]).to(device)
            raw = module(xb)
            raw = raw[0] if isinstance(raw, tuple) else raw
            out.append(scores_from_outputs(raw, task).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)
