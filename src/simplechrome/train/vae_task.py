"""Lightning task for the VAE: reconstruction + warmed-up KL, no labels."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

from .task import SupervisedTask


def vae_terms(out, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-gene Gaussian reconstruction term (half squared error summed) and KL to N(0, I)."""
    recon = 0.5 * ((out.recon - x) ** 2).sum(dim=(1, 2))
    kl = -0.5 * (1 + out.logvar - out.mu.pow(2) - out.logvar.exp()).sum(dim=1)
    return recon, kl


class VAETask(SupervisedTask):
    """Negative ELBO with the KL weight raised linearly to ``kl_weight`` over the warm-up.

    Validation maximises the negative ELBO per gene at the full KL weight, so epochs compare.
    """

    def __init__(self, module, *, lr: float, weight_decay: float, kl_weight: float, warmup: int):
        super().__init__(module, task="vae", lr=lr, weight_decay=weight_decay)
        self.kl_weight = kl_weight
        self.warmup = warmup
        self._val: list[tuple[float, float, int]] = []

    def forward(self, x: torch.Tensor):  # type: ignore[override]
        return self.module(x)

    def beta(self) -> float:
        if self.warmup <= 0:
            return self.kl_weight
        return self.kl_weight * min(1.0, (self.current_epoch + 1) / self.warmup)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, _ = batch
        recon, kl = vae_terms(self.module(x), x)
        loss = (recon + self.beta() * kl).mean()
        self._loss_sum = self._loss_sum.to(loss.device) + loss.detach() * len(x)
        self._loss_n += len(x)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        x, _ = batch
        recon, kl = vae_terms(self.module(x), x)
        self._val.append((float(recon.sum()), float(kl.sum()), len(x)))

    def on_validation_epoch_end(self) -> None:
        sums = np.array(self._val)
        self._val.clear()
        n = sums[:, 2].sum()
        recon, kl = sums[:, 0].sum() / n, sums[:, 1].sum() / n
        elbo = -(recon + self.kl_weight * kl)
        self.log("val_score", elbo, prog_bar=True)
        if not self.trainer.sanity_checking:
            self.end_epoch(dict(val_recon=recon, val_kl=kl, val_elbo=elbo, kl_beta=self.beta()))


def make_task(module, config, lr: float) -> L.LightningModule:
    """The Lightning task a module trains under (``task_kind``: supervised, vae or gan)."""
    if getattr(module, "task_kind", "supervised") == "gan":
        from .gan_task import GANTask

        return GANTask(module, lr=lr, seed=config.seed)
    if getattr(module, "task_kind", "supervised") == "vae":
        return VAETask(
            module,
            lr=lr,
            weight_decay=config.weight_decay,
            kl_weight=config.kl_weight,
            warmup=config.kl_warmup_epochs,
        )
    return SupervisedTask(
        module,
        task=config.task,
        lr=lr,
        weight_decay=config.weight_decay,
        lr_decay=config.lr_decay,
        lr_patience=config.lr_patience,
    )
