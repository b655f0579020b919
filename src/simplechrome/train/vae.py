"""The VAE family: its task (reconstruction + warmed-up KL, no labels) and its trained model."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from ..config import TrainConfig
from ..data.histone import HistoneData
from .batches import InMemoryBatches
from .lightning_loop import HistoryTask, run_lightning
from .trained import TrainedModel


def vae_terms(out, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-gene Gaussian reconstruction term (half squared error summed) and KL to N(0, I)."""
    recon = 0.5 * ((out.recon - x) ** 2).sum(dim=(1, 2))
    kl = -0.5 * (1 + out.logvar - out.mu.pow(2) - out.logvar.exp()).sum(dim=1)
    return recon, kl


class VAETask(HistoryTask):
    """Negative ELBO with the KL weight raised linearly to ``kl_weight`` over the warm-up.

    Validation maximises the negative ELBO per gene at the full KL weight, so epochs compare.
    """

    def __init__(self, module, *, lr: float, weight_decay: float, kl_weight: float, warmup: int):
        super().__init__(module)
        self.lr = lr
        self.weight_decay = weight_decay
        self.kl_weight = kl_weight
        self.warmup = warmup
        self._val: list[tuple[float, float, int]] = []

    def beta(self) -> float:
        if self.warmup <= 0:
            return self.kl_weight
        return self.kl_weight * min(1.0, (self.current_epoch + 1) / self.warmup)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        (x,) = batch[:1]
        recon, kl = vae_terms(self.module(x), x)
        loss = (recon + self.beta() * kl).mean()
        self.add_loss(loss, len(x))
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        (x,) = batch[:1]
        recon, kl = vae_terms(self.module(x), x)
        self._val.append((float(recon.sum()), float(kl.sum()), len(x)))

    def on_validation_epoch_end(self) -> None:
        sums = np.array(self._val)
        self._val.clear()
        n = sums[:, 2].sum()
        recon, kl = sums[:, 0].sum() / n, sums[:, 1].sum() / n
        elbo = -(recon + self.kl_weight * kl)
        self.end_epoch(elbo, dict(val_recon=recon, val_kl=kl, val_elbo=elbo, kl_beta=self.beta()))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)


class VAEModel(TrainedModel):
    """A fitted VAE: embeds and reconstructs genes; reads no labels."""

    families: ClassVar[tuple[str, ...]] = ("vae",)
    reads_labels: ClassVar[bool] = False

    def train_on(self, train: HistoneData, valid: HistoneData, config: TrainConfig) -> pd.DataFrame:
        def batches(data: HistoneData, size: int, shuffle: bool) -> InMemoryBatches:
            x = torch.from_numpy(np.array(self.transformed(data)))  # a copy: never written back
            no_labels = torch.zeros(len(x), dtype=torch.long)  # a VAE reads none
            return InMemoryBatches(x, no_labels, size, shuffle=shuffle, seed=config.seed)

        task = VAETask(
            self.module,
            lr=config.lr,
            weight_decay=config.weight_decay,
            kl_weight=config.kl_weight,
            warmup=config.kl_warmup_epochs,
        )
        self.module.train()
        return run_lightning(
            task, batches(train, config.batch_size, True), batches(valid, 4096, False), config
        )

    def embed(self, data: HistoneData) -> np.ndarray:
        """Latent means ``(genes, latent)`` (deterministic)."""
        return self._outputs(data, lambda m, xb: m.encoder(xb)[0])

    def reconstruct(self, data: HistoneData) -> tuple[np.ndarray, np.ndarray]:
        """The transformed input and its reconstruction from the latent mean, both
        ``(genes, marks, bins)``."""
        x = self.transformed(data)
        return x, self._batched(x, lambda m, xb: m(xb).recon)

    def per_gene(self, data: HistoneData) -> dict[str, np.ndarray]:
        # a VAE's "prediction" is where each gene sits in the latent space
        z = self.embed(data)
        return {f"z{i}": z[:, i] for i in range(z.shape[1])}

    def evaluate(self, data: HistoneData) -> dict[str, Any]:
        x, recon = self.reconstruct(data)
        mean = x.mean(axis=(0, 2), keepdims=True)
        sse = float(((recon - x) ** 2).sum())
        return {
            "recon_mse": sse / x.size,
            "recon_r2": 1.0 - sse / float(((x - mean) ** 2).sum()),
            "n_genes": int(data.n_genes),
        }
