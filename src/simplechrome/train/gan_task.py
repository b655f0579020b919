"""Lightning task for the conditional WGAN-GP: critic and generator updates, sliced-Wasserstein
validation (what early stopping watches and the best checkpoint is chosen by)."""

from __future__ import annotations

import numpy as np
import torch

from .task import SupervisedTask


def sliced_wasserstein(
    a: np.ndarray, b: np.ndarray, *, n_projections: int = 128, seed: int = 0
) -> float:
    """Mean 1-Wasserstein distance between ``a`` and ``b`` (``(n, ...)`` and ``(m, ...)``,
    flattened per gene) along ``n_projections`` seeded random unit directions.

    The sets may differ in size: each projection is compared at 200 common quantiles.
    A distance between distributions, so, unlike a mean profile, it sees a generator that
    gives every gene the same signal.
    """
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    rng = np.random.default_rng(seed)
    directions = rng.standard_normal((a.shape[1], n_projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    q = (np.arange(200) + 0.5) / 200
    qa = np.quantile(a @ directions, q, axis=0)
    qb = np.quantile(b @ directions, q, axis=0)
    return float(np.abs(qa - qb).mean())


def _mean_gap(generated: torch.Tensor, real: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Mean squared gap between the per-class mean profiles of generated and real genes of a
    batch (an unbiased estimate of the population gap's gradient direction)."""
    gaps = [
        ((generated[c == k].mean(0) - real[c == k].mean(0)) ** 2).mean() for k in torch.unique(c)
    ]
    return torch.stack(gaps).mean()


class GANTask(SupervisedTask):
    """WGAN-GP: every batch updates the critic, every ``n_critic``-th batch the generator.

    Validation generates, with fixed noise, one gene per validation gene under its condition
    and scores ``-(sliced Wasserstein distance)`` to the real validation genes (per class for a
    class-conditional GAN, averaged), so a higher score is a better generator.
    """

    def __init__(self, module, *, lr: float, seed: int) -> None:
        super().__init__(module, task="gan", lr=lr, weight_decay=0.0)
        self.automatic_optimization = False
        self.seed = seed
        self._batches = 0
        self._val_x: list[torch.Tensor] = []
        self._val_c: list[torch.Tensor] = []
        self._critic_sum = 0.0
        self._critic_n = 0

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.module(z, c)

    def configure_optimizers(self):
        # Adam with beta1 = 0.5, beta2 = 0.9: the settings WGAN-GP was published with
        gen = torch.optim.Adam(self.module.generator.parameters(), lr=self.lr, betas=(0.5, 0.9))
        critic = torch.optim.Adam(self.module.critic.parameters(), lr=self.lr, betas=(0.5, 0.9))
        return [gen, critic]

    def training_step(self, batch, batch_idx: int) -> None:
        x, c = batch
        m = self.module
        opt_gen, opt_critic = self.optimizers()
        fake = m(m.noise(len(x)), c).detach()
        wasserstein = m.critic(x, c).mean() - m.critic(fake, c).mean()
        loss_critic = -wasserstein + m.gp_weight * m.gradient_penalty(x, fake, c)
        opt_critic.zero_grad()
        self.manual_backward(loss_critic)
        opt_critic.step()
        self._critic_sum += float(wasserstein.detach()) * len(x)
        self._critic_n += len(x)
        self._batches += 1
        if self._batches % m.n_critic == 0:
            generated = m(m.noise(len(x)), c)
            loss_gen = -m.critic(generated, c).mean()
            if m.mean_matching > 0 and m.n_outputs > 1:
                loss_gen = loss_gen + m.mean_matching * _mean_gap(generated, x, c)
            opt_gen.zero_grad()
            self.manual_backward(loss_gen)
            opt_gen.step()

    def validation_step(self, batch, batch_idx: int) -> None:
        x, c = batch
        self._val_x.append(x.cpu())
        self._val_c.append(c.cpu())

    def on_validation_epoch_end(self) -> None:
        x = torch.cat(self._val_x)
        c = torch.cat(self._val_c)
        self._val_x.clear()
        self._val_c.clear()
        noise = self.module.noise(len(x), torch.Generator().manual_seed(self.seed))
        with torch.no_grad():
            fake = self.module(noise, c.to(noise.device)).cpu()
        real, gen = x.numpy(), fake.numpy()
        if self.module.n_outputs == 1:
            swd = sliced_wasserstein(real, gen, seed=self.seed)
        else:
            labels = c.numpy()
            swd = float(
                np.mean(
                    [
                        sliced_wasserstein(real[labels == k], gen[labels == k], seed=self.seed)
                        for k in np.unique(labels)
                    ]
                )
            )
        self.log("val_score", -swd, prog_bar=True)
        if not self.trainer.sanity_checking:
            estimate = self._critic_sum / max(self._critic_n, 1)
            self._loss_n = 0  # the critic's estimate stands in for a training loss
            self._critic_sum, self._critic_n = 0.0, 0
            self.end_epoch({"train_wasserstein": estimate, "val_sliced_wasserstein": swd})
