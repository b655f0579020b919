"""A conditional Wasserstein GAN that generates histone signals (DeepChrome 2.0's visualisation).

Signals are generated in the package's transformed space (log1p, then per-mark
standardisation: what every classifier reads), conditioned on the expression class or, for a
regression run, on the standardised ``log2(RPKM + 1)`` level.

Objective: WGAN with gradient penalty (Gulrajani et al. 2017). Two reasons. The critic's
estimate of the Wasserstein distance falls as the samples improve, which a standard GAN's
losses do not tell; and with 6,500 training genes and no architectural tuning it trains
without mode collapse or the critic overpowering the generator. The critic has no batch
normalisation (the penalty is per sample) and conditions through a projection (Miyato and
Koyama 2018): ``score = w . h + <embed(condition), h>``.

Defaults: two critic updates per generator update and Adam at 5e-4 (betas 0.5, 0.9). On E012,
60 epochs of 64-gene batches ended at a validation sliced Wasserstein distance of 0.106 with
these, against 0.144 with WGAN-GP's published 5 updates at 2e-4.

``mean_matching`` (default 0, off) adds to the generator's loss that weight times the squared
gap between the per-class mean profiles of its batch and of the real batch (feature matching on
the first moment). On E012 (60 epochs, weight 10) it brought the weak marks' mean profiles
closer to the real ones (low-class H3K36me3 r 0.78 -> 0.89, H3K9me3 0.41 -> 0.61) but matched
the mark-mark correlations and the whole distribution less well (largest correlation gap
0.28 -> 0.41, sliced Wasserstein 0.100 -> 0.122), so it stays off by default.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .registry import TrainDefaults, register


class _Condition(nn.Module):
    """A class index (``n_outputs = 2``) or a scalar level (``n_outputs = 1``) -> a vector."""

    def __init__(self, n_outputs: int, dim: int) -> None:
        super().__init__()
        self.continuous = n_outputs == 1
        self.map = nn.Linear(1, dim) if self.continuous else nn.Embedding(n_outputs, dim)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        if self.continuous:
            return self.map(c.float().reshape(-1, 1))
        return self.map(c.long())


class Generator(nn.Module):
    """Noise and condition -> ``(batch, marks, bins)``: a linear layer, then two upsampling
    convolution stages (bins / 4 -> bins / 2 -> bins) and a convolution to the marks.

    Outputs never go below ``floor``, each mark's transformed value of zero reads: no signal
    can be negative, and the generator can place exactly the point mass at zero that real
    signals have (55% of E012's bins read 0). ``fit`` sets the floor from the input
    transform; until then it is -inf (no bound).
    """

    def __init__(
        self, n_marks: int, n_bins: int, n_outputs: int, latent: int, channels: int
    ) -> None:
        super().__init__()
        self.latent = latent
        self.condition = _Condition(n_outputs, 16)
        self.start = (channels, max(1, math.ceil(n_bins / 4)))
        self.inp = nn.Linear(latent + 16, channels * self.start[1])
        act = nn.LeakyReLU(0.2)
        self.body = nn.Sequential(
            act,
            nn.Upsample(size=max(1, math.ceil(n_bins / 2))),
            nn.Conv1d(channels, channels, 5, padding=2),
            act,
            nn.Upsample(size=n_bins),
            nn.Conv1d(channels, channels // 2, 5, padding=2),
            act,
            nn.Conv1d(channels // 2, n_marks, 5, padding=2),
        )
        self.register_buffer("floor", torch.full((n_marks,), float("-inf")))

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        embedded: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Noise ``z`` and either conditions ``c`` or their embeddings ``embedded`` (a walk
        between classes interpolates embeddings)."""
        cond = self.condition(c) if embedded is None else embedded.expand(len(z), -1)
        h = self.inp(torch.cat([z, cond], dim=1))
        return torch.maximum(self.body(h.view(len(z), *self.start)), self.floor[None, :, None])


class Critic(nn.Module):
    """``(batch, marks, bins)`` and condition -> one unbounded score per gene (projection)."""

    def __init__(self, n_marks: int, n_bins: int, n_outputs: int, channels: int) -> None:
        super().__init__()
        act = nn.LeakyReLU(0.2)
        self.features = nn.Sequential(
            nn.Conv1d(n_marks, channels // 2, 5, padding=2),
            act,
            nn.Conv1d(channels // 2, channels, 5, stride=2, padding=2),
            act,
            nn.Conv1d(channels, channels, 5, stride=2, padding=2),
            act,
            nn.Flatten(),
        )
        with torch.no_grad():
            n_features = self.features(torch.zeros(1, n_marks, n_bins)).shape[1]
        self.hidden = nn.Sequential(nn.Linear(n_features, 128), act)
        self.out = nn.Linear(128, 1)
        self.condition = _Condition(n_outputs, 128)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        h = self.hidden(self.features(x))
        return self.out(h).squeeze(1) + (self.condition(c) * h).sum(1)


# WGAN-GP takes many small steps: 64-gene batches, up to 300 epochs, patience 30; 2 critic
# steps per generator step at 5e-4 (see the module docstring)
@register(
    "gan",
    family="gan",
    outputs=("samples",),
    defaults=TrainDefaults(lr=5e-4, batch_size=64, patience=30, max_epochs=300),
    task_params={"n_critic": 2, "gp_weight": 10.0, "mean_matching": 0.0},
)
class ConditionalGAN(nn.Module):
    """Conditional WGAN-GP over ``(marks, bins)`` signals; conditions on class or level.

    The module holds the generator and the critic; the objective (critic steps per generator
    step, gradient penalty, mean matching) belongs to the GAN task (``train.gan``), whose
    parameters ``n_critic``, ``gp_weight`` and ``mean_matching`` are given with the model's.
    """

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        latent: int = 32,
        channels: int = 64,
    ) -> None:
        super().__init__()
        self.n_marks, self.n_bins, self.n_outputs = n_marks, n_bins, n_outputs
        self.latent = latent
        self.generator = Generator(n_marks, n_bins, n_outputs, latent, channels)
        self.critic = Critic(n_marks, n_bins, n_outputs, channels)

    def set_floor(self, floor: np.ndarray) -> None:
        """Bound generated values below by ``floor`` (per mark): the transformed zero reads."""
        self.generator.floor.copy_(torch.from_numpy(np.asarray(floor, dtype=np.float32)))

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        device = next(self.parameters()).device
        return torch.randn(n, self.latent, generator=generator).to(device)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Generated signals ``(batch, marks, bins)`` for noise ``z`` and conditions ``c``."""
        return self.generator(z, c)
