"""A conditional diffusion model beside the GAN: the same genes, conditions and measures, another
kind of generator (issue 14 asks what a GAN cannot reach).

A denoising diffusion model (Ho et al. 2020) in the GAN's transformed space: a gene's signals
``x`` are mixed with Gaussian noise as ``alpha(t) x + sigma(t) eps`` on a cosine schedule
(Nichol and Dhariwal 2021: ``alpha = cos(pi t / 2)``, ``sigma = sin(pi t / 2)``, ``t`` in
``(0, 1)``), and a network learns, from the noisy gene, ``t`` and the condition (class or
level), the velocity ``v = alpha eps - sigma x`` (Salimans and Ho 2022), from which both the
clean gene and the noise follow. Generating runs the deterministic DDIM sampler (Song et al.
2021) from pure noise in ``sample_steps`` steps, so the same noise gives the same gene, and a
walk can hold the noise fixed and move the condition, as the GAN's does.

The network is a residual MLP over all of a gene's bins and marks at once (its width and
number of blocks are the model's parameters), whose output is a few context channels per bin,
and a convolutional head that turns each bin's own noisy values, its neighbours', its
position and that context into the bin's velocity; every layer is modulated by the noise
level and the condition (a scale and a shift, as FiLM). Generated genes are put on the real signals'
grid as the GAN's are (``SignalGrid``): mapped to the signal's scale, rounded to the mark's
grid step and transformed back. Empty bins, half of all bins in real genes, lie in the
transformed space only a twentieth of a standard deviation below the first grid value, closer
than the sampler resolves them (generated genes held a third of the real share of zeros); so
the model works on signals whose empty bins are moved ``zero_gap`` standard deviations further
down (``encoded``); a generated bin reads exactly zero where its value rounds to no signal
(``decoded``: below half a grid step, so also anywhere in the gap).
Whole reads (``atoms``, default on; see ``models.gan``: on coverage-derived signals 12% of
all bins read exactly one read's value) get a channel of their own: beside each mark's signal
the model learns an indicator, +1 where the bin is whole reads and -1 elsewhere, and a
generated bin whose indicator ends above zero is put on the nearest whole number of reads
(at least one) instead of the grid. Without it the values of generated genes have no such
pile-ups, and a classifier tells every one of them from a real gene.

There is no critic; ``score`` is how well the model denoises a gene (the negative mean
velocity error over fixed noise levels and draws), a realness score in the same direction.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .registry import TrainDefaults, register
from .signal_grid import Condition, GridModel, SignalGrid

#: the noise levels (and draws) ``score`` averages over per gene
SCORE_LEVELS = 8


def alpha_sigma(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The cosine schedule's signal and noise weights at ``t`` in ``[0, 1]`` (kept a little
    inside both ends, where one of them would vanish)."""
    angle = (t * 0.998 + 0.001) * (math.pi / 2)
    return torch.cos(angle), torch.sin(angle)


class _Block(nn.Module):
    def __init__(self, width: int, emb: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False)
        self.film = nn.Linear(emb, 2 * width)
        self.a = nn.Linear(width, width)
        self.b = nn.Linear(width, width)
        self.act = nn.SiLU()

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(e).chunk(2, dim=1)
        return h + self.b(self.act(self.a(self.act(self.norm(h) * (1 + scale) + shift))))


class _Head(nn.Module):
    """Each bin's velocity from its own and its neighbours' noisy values, where it lies and
    what the whole gene says about it (``context``, channels per bin from the gene-wide MLP):
    convolutions over the bins, modulated by the noise level and condition like the blocks.
    The part of a bin's signal no other bin predicts (shot noise, empty or not) is a function
    of that bin's own noisy value, which a layer mixing all bins at once represents poorly:
    with the MLP's output as the velocity itself, a toy mark of independent counts came out
    with half its real share of zeros; through this head, with the real share."""

    def __init__(
        self, n_in: int, n_bins: int, context: int, channels: int, emb: int, layers: int = 2
    ) -> None:
        super().__init__()
        self.inp = nn.Conv1d(n_in + context, channels, 3, padding=1)
        self.position = nn.Parameter(torch.zeros(1, channels, n_bins))
        self.films = nn.ModuleList([nn.Linear(emb, 2 * channels) for _ in range(layers)])
        self.convs = nn.ModuleList(
            [nn.Conv1d(channels, channels, 3, padding=1) for _ in range(layers)]
        )
        self.out = nn.Conv1d(channels, n_in, 1)
        self.act = nn.SiLU()
        nn.init.zeros_(self.out.weight)  # the untrained network predicts v = 0
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.inp(torch.cat([x, context], dim=1)) + self.position
        for film, conv in zip(self.films, self.convs, strict=True):
            scale, shift = film(e)[:, :, None].chunk(2, dim=1)
            h = h + conv(self.act(h * (1 + scale) + shift))
        return self.out(self.act(h))


class Sampler(SignalGrid):
    """The velocity network and the DDIM sampler: ``noise`` ``(batch, noise_size)`` and
    conditions (or their embeddings) -> ``(batch, marks, bins)`` generated signals. The model
    works on ``channels_per_mark`` channels per mark (the signal; with ``atoms`` also the
    whole-read indicator)."""

    def __init__(
        self,
        n_marks: int,
        n_bins: int,
        n_outputs: int,
        width: int,
        blocks: int,
        steps: int,
        zero_gap: float = 1.0,
        channels: int = 64,
        context: int = 8,
        atoms: bool = False,
    ) -> None:
        super().__init__(n_marks)
        self.n_marks, self.n_bins, self.sample_steps = n_marks, n_bins, steps
        self.zero_gap, self.context, self.atoms = float(zero_gap), context, bool(atoms)
        self.n_channels = n_marks * (2 if self.atoms else 1)
        self.condition = Condition(n_outputs, 64)
        self.register_buffer("freq", torch.exp(torch.linspace(0.0, math.log(1000.0), 32)))
        self.embed = nn.Sequential(nn.Linear(64 + 64, 256), nn.SiLU(), nn.Linear(256, 256))
        self.inp = nn.Linear(self.n_channels * n_bins, width)
        self.blocks = nn.ModuleList([_Block(width, 256) for _ in range(blocks)])
        self.out = nn.Linear(width, context * n_bins)
        self.head = _Head(self.n_channels, n_bins, context, channels, 256)

    @property
    def noise_size(self) -> int:
        """Values per gene the model works on (and noise per generated gene)."""
        return self.n_channels * self.n_bins

    def velocity(self, x: torch.Tensor, t: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """The predicted ``v`` for noisy genes ``x`` ``(batch, noise_size)`` at levels ``t``
        ``(batch,)`` under condition embeddings ``e``."""
        f = t[:, None] * self.freq[None]
        h = self.inp(x)
        emb = self.embed(torch.cat([f.sin(), f.cos(), e], dim=1))
        for block in self.blocks:
            h = block(h, emb)
        context = self.out(h).view(len(x), self.context, self.n_bins)
        bins = x.view(len(x), self.n_channels, self.n_bins)
        return self.head(bins, context, emb).flatten(1)

    def loss(
        self, x: torch.Tensor, c: torch.Tensor, t: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """Per gene, the mean squared velocity error of genes ``x`` ``(batch, marks, bins)``
        noised to levels ``t`` with draws ``eps`` ``(batch, noise_size)``."""
        x0, eps = self.encoded(x).flatten(1), eps.flatten(1)
        a, s = (w[:, None] for w in alpha_sigma(t))
        v = self.velocity(a * x0 + s * eps, t, self.condition(c))
        return (v - (a * eps - s * x0)).square().mean(dim=1)

    def forward(
        self,
        noise: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        embedded: torch.Tensor | None = None,
    ) -> torch.Tensor:
        e = self.condition(c) if embedded is None else embedded.expand(len(noise), -1)
        x = noise
        times = torch.linspace(1.0, 0.0, self.sample_steps + 1, device=noise.device)
        clean = x
        for now, after in zip(times[:-1], times[1:], strict=True):
            a, s = alpha_sigma(now)
            a_next, s_next = alpha_sigma(after)
            v = self.velocity(x, now.expand(len(x)), e)
            clean, eps = a * x - s * v, s * x + a * v
            x = a_next * clean + s_next * eps
        return self.decoded(clean.view(-1, self.n_channels, self.n_bins))

    def encoded(self, x: torch.Tensor) -> torch.Tensor:
        """Transformed signals ``(batch, marks, bins)`` -> what the model learns ``(batch,
        n_channels, bins)``: empty bins moved ``zero_gap`` further down (unchanged before
        ``set_scale``), then with ``atoms`` each mark's whole-read indicator (+1 / -1)."""
        whole = self.whole_reads(x) if self.atoms and self.scaled else torch.zeros_like(x) > 0
        if self.scaled and self.zero_gap > 0:
            zero = self.zero_level()
            x = torch.where(x <= zero + 1e-6, zero - self.zero_gap, x)
        return torch.cat([x, whole.to(x.dtype) * 2.0 - 1.0], dim=1) if self.atoms else x

    def decoded(self, v: torch.Tensor) -> torch.Tensor:
        """The model's values ``(batch, n_channels, bins)`` -> transformed signals on the grid:
        each bin at the nearest grid value, zero included, so a bin whose value rounds to no
        signal (below half a grid step, the empty level's gap included) reads exactly zero;
        with ``atoms``, a non-empty bin whose indicator is above zero at the nearest whole
        number of reads (at least one) instead.

        Before 2026-11-24 a bin read empty only below half the gap (``zero_level - zero_gap /
        2``) and any value above that took at least one grid step: the sampler leaves many
        bins between the empty level and the first grid value, and those became a pile-up of
        one-step bins real genes lack (E012: 12-19% of all bins of H3K27me3 and H3K4me1)."""
        v, indicator = v[:, : self.n_marks], v[:, self.n_marks :]
        if not self.scaled:
            return v
        q = self.quantum[None, :, None]
        signal = self.signal(v).clamp(min=0.0)
        steps = torch.round(signal / q)
        value = steps * q
        if self.atoms:
            unit = self.unit[None, :, None]
            reads = torch.round(signal / unit.clamp(min=1e-12)).clamp(min=1.0) * unit
            value = torch.where((indicator > 0) & (unit > 0) & (steps > 0), reads, value)
        return self.transformed(value)


@register(
    "diffusion",
    family="generator",
    task="diffusion",
    score_name="denoising_fit",
    outputs=("samples",),
    defaults=TrainDefaults(
        lr=1e-3, batch_size=256, patience=15, max_epochs=60, lr_schedule="cosine", average=0.999
    ),
)
class ConditionalDiffusion(GridModel):
    """Conditional denoising diffusion over ``(marks, bins)`` signals (v-prediction, DDIM).

    ``width`` and ``blocks``: the gene-wide residual MLP's; ``channels``: the per-bin
    head's; ``sample_steps``: DDIM steps per generated gene; ``zero_gap``: how far (standard
    deviations) empty bins are moved apart while the model learns (0: not); ``atoms`` (default
    on): a whole-read indicator per mark beside its signal; ``quantize`` (default on) puts
    generated signals on the real signals' grid. Trained by ``gan train
    --generator diffusion``; measured by the same ``gan quality``.
    """

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        width: int = 1024,
        blocks: int = 4,
        sample_steps: int = 50,
        zero_gap: float = 1.0,
        channels: int = 64,
        atoms: bool = True,
        quantize: bool = True,
    ) -> None:
        super().__init__(n_marks, n_bins, n_outputs, quantize=quantize)
        self.generator = Sampler(
            n_marks, n_bins, n_outputs, width, blocks, sample_steps, zero_gap, channels,
            atoms=atoms,
        )  # fmt: skip

    def score(self, x: torch.Tensor, c: torch.Tensor, levels: int = SCORE_LEVELS) -> torch.Tensor:
        """How well the model denoises each gene: minus its velocity error averaged over
        ``levels`` noise levels, spread evenly over ``(0, 1)`` and shifted from gene to gene,
        with draws fixed per gene position (the same genes get the same score; higher: more like
        the training genes)."""
        rng = torch.Generator().manual_seed(0)
        shift = torch.arange(len(x)) * 0.6180339887 % 1.0
        total = x.new_zeros(len(x))
        for k in range(levels):
            t = ((k + 0.5) / levels + shift) % 1.0
            eps = torch.randn(len(x), self.generator.noise_size, generator=rng).to(x.device)
            total += self.generator.loss(x, c, t.to(x.device), eps)
        return -total / levels
