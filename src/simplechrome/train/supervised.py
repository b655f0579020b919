"""Supervised prediction (classification or regression): the task, and the trained models of the
``supervised`` and ``classical`` families."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import models
from ..config import TrainConfig
from ..data.histone import HistoneData, concat
from .batches import InMemoryBatches
from .lightning_loop import HistoryTask, run_lightning
from .metrics import compute, score_for_monitor
from .trained import TrainedModel


def logits_of(outputs: torch.Tensor | tuple) -> torch.Tensor:
    """A module's logits: the output itself, or the first field of its NamedTuple."""
    return outputs[0] if isinstance(outputs, tuple) else outputs


def scores_from_outputs(outputs: torch.Tensor, task: str) -> torch.Tensor:
    """Logits -> one score per gene: P(class 1), or the (scaled) regression prediction."""
    if task == "classification":
        return torch.softmax(outputs, dim=1)[:, 1]
    return outputs.squeeze(1)


class SupervisedTask(HistoryTask):
    """Cross-entropy (classification) or MSE (regression) with Adam; validation AUROC/Pearson
    is the early-stopping score. Optional learning-rate decay on a validation plateau.

    Optional weight averaging (``average`` > 0): an exponential moving average of the weights,
    updated after every step, is what validation scores, what early stopping keeps and what
    the finished model holds (Polyak averaging; the raw weights only train). The averaging
    rate warms up as ``min(average, (1 + n) / (10 + n))`` after ``n`` steps, so the random
    initial weights do not linger in the average.
    """

    def __init__(
        self,
        module: nn.Module,
        *,
        task: str,
        lr: float,
        weight_decay: float,
        lr_schedule: str = "plateau",
        lr_decay: float = 1.0,
        lr_patience: int = 2,
        fused_adam: bool = False,
        average: float = 0.0,
    ) -> None:
        super().__init__(module)
        self.fused_adam = fused_adam
        self.average = average
        self._steps = 0
        if average > 0:
            self.averaged = copy.deepcopy(module).requires_grad_(False)
        self.task = task
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.lr_decay = lr_decay
        self.lr_patience = lr_patience
        self._val_scores: list[torch.Tensor] = []
        self._val_y: list[torch.Tensor] = []

    @classmethod
    def from_config(cls, module: nn.Module, config: TrainConfig, **extra: Any) -> SupervisedTask:
        """The task with ``config``'s optimiser settings (and ``extra`` arguments)."""
        return cls(
            module,
            task=config.task,
            lr=config.lr,
            weight_decay=config.weight_decay,
            lr_schedule=config.lr_schedule,
            lr_decay=config.lr_decay,
            lr_patience=config.lr_patience,
            average=config.average,
            **extra,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return logits_of(self.module(x))

    def loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.task == "classification":
            return nn.functional.cross_entropy(outputs, y)
        return nn.functional.mse_loss(outputs.squeeze(1), y)

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        x, y = batch
        loss = self.loss(self(x), y)
        self.add_loss(loss, len(y))
        return loss

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.average > 0:
            self._steps += 1
            rate = min(self.average, self._steps / (9 + self._steps))
            with torch.no_grad():
                torch._foreach_lerp_(
                    list(self.averaged.parameters()), list(self.module.parameters()), 1 - rate
                )
                # buffers (e.g. a batch norm's running statistics) are the training module's
                pairs = zip(self.averaged.buffers(), self.module.buffers(), strict=True)
                for mine, theirs in pairs:
                    mine.copy_(theirs)

    def scored_module(self) -> nn.Module:
        """The weights validation scores: the average when there is one."""
        return self.averaged if self.average > 0 else self.module

    def finish(self) -> None:
        if self.average > 0:  # the finished model is the (restored best epoch's) average
            self.module.load_state_dict(self.averaged.state_dict())

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        outputs = logits_of(self.scored_module()(x))
        self._val_scores.append(scores_from_outputs(outputs, self.task).float().cpu())
        self._val_y.append(y.cpu())

    def on_validation_epoch_end(self) -> None:
        scores = torch.cat(self._val_scores).numpy()
        y = torch.cat(self._val_y).numpy()
        self._val_scores.clear()
        self._val_y.clear()
        metrics = compute(self.task, y, scores)
        self.end_epoch(
            score_for_monitor(metrics, self.task),
            {f"val_{k}": v for k, v in metrics.items() if k != "n_genes"},
        )

    def configure_optimizers(self):
        optimiser = torch.optim.Adam(
            self.parameters(),
            lr=self.lr,
            weight_decay=self.weight_decay,
            fused=self.fused_adam or None,  # the registry entry's choice (None: torch's default)
        )
        if self.lr_schedule == "cosine":
            # a half cosine from lr to 0 over every step of max_epochs, updated each step
            steps = max(1, int(self.trainer.estimated_stepping_batches))
            cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
            return {
                "optimizer": optimiser,
                "lr_scheduler": {"scheduler": cosine, "interval": "step"},
            }
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
            out.append(scores_from_outputs(logits_of(module(xb)), task).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.float32)


class Predictor(TrainedModel):
    """A histone model that scores genes: trained under ``SupervisedTask``."""

    families: ClassVar[tuple[str, ...]] = ("supervised",)

    def inputs(self, data: HistoneData) -> np.ndarray:
        """What the module reads for ``data``: its transformed signals."""
        return self.transformed(data)

    def _tensors(self, data: HistoneData, config: TrainConfig) -> tuple[torch.Tensor, ...]:
        y = data.y if config.task == "classification" else self.transform.scale_y(data.y)
        y_dtype = torch.long if config.task == "classification" else torch.float32
        # copies: cached splits are read-only arrays, and training must never write into them
        return torch.from_numpy(np.array(self.inputs(data))), torch.tensor(y, dtype=y_dtype)

    def make_task(self, config: TrainConfig) -> HistoryTask:
        return SupervisedTask.from_config(self.module, config, fused_adam=self.entry.fused_adam)

    def train_on(self, train: HistoneData, valid: HistoneData, config: TrainConfig) -> pd.DataFrame:
        train_x, train_y = self._tensors(train, config)
        valid_x, valid_y = self._tensors(valid, config)
        self.module.train()  # building inputs (embedding neighbours) puts it in eval mode
        return run_lightning(
            self.make_task(config),
            InMemoryBatches(train_x, train_y, config.batch_size, shuffle=True, seed=config.seed),
            InMemoryBatches(valid_x, valid_y, 4096, shuffle=False),
            config,
        )

    def predict_scores(self, data: HistoneData) -> np.ndarray:
        score = predict_scores(self.module, self.inputs(data), self.task).astype(np.float64)
        return self.transform.unscale_y(score) if self.task == "regression" else score

    def attention(self, data: HistoneData) -> tuple[np.ndarray, np.ndarray]:
        """Bin attention ``(genes, marks, bins)`` and mark attention ``(genes, marks)``, marks
        in this model's order (models whose forward returns them: ``AttentionOutput``)."""
        self.require("attention")
        x = self.transformed(data)
        bins = self._batched(x, lambda m, xb: m(xb).bin_attention)
        marks = self._batched(x, lambda m, xb: m(xb).mark_attention)
        return bins, marks

    def per_gene(self, data: HistoneData) -> dict[str, np.ndarray]:
        return {"score": self.predict_scores(data)}

    def evaluate(self, data: HistoneData) -> dict[str, Any]:
        if data.y is None:
            from ..errors import ModelMismatchError

            raise ModelMismatchError(f"{data.cell}: the data has no labels to evaluate against")
        return compute(self.task, data.y, self.predict_scores(data))


class ClassicalPredictor(Predictor):
    """A scikit-learn baseline: fitted once, no epochs.

    It has no early stopping, so it fits on every labelled gene the run may read: the training
    and the validation genes together (the same labelled budget a neural model spends on
    training and early stopping). Its history's validation metrics are therefore in-sample
    (``fitted_on_valid``).
    """

    families: ClassVar[tuple[str, ...]] = ("classical",)

    def train_on(self, train: HistoneData, valid: HistoneData, config: TrainConfig) -> pd.DataFrame:
        labelled = concat([train, valid])
        self.module.fit(self.transformed(labelled), labelled.y)
        metrics = self.evaluate(valid)
        score = metrics["auroc" if self.task == "classification" else "pearson"]
        row = {f"val_{k}": v for k, v in metrics.items() if k != "n_genes"}
        return pd.DataFrame(
            [{"epoch": 0, **row, "val_score": score, "best": True, "fitted_on_valid": True}]
        )

    def predict_scores(self, data: HistoneData) -> np.ndarray:
        return np.asarray(self.module.decision(self.transformed(data)), dtype=np.float64)

    def _state(self) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(np.asarray(v)) for k, v in self.module.state().items()}

    def _load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state({k: v.numpy() for k, v in state.items()})

    def n_parameters(self) -> int:
        return models.n_parameters(self.module)
