"""What every generator of histone signals shares: the grid real signals lie on.

Generated genes are made in the package's transformed space (log1p, per-mark standardisation)
but real signals sit on a grid (coverage-derived values are multiples of a step; published
files hold integer reads), with a point mass at zero and, on coverage tracks, pile-ups at one
read's full weight. ``SignalGrid`` holds each mark's transform statistics, grid step and
whole-read value and maps between the two scales; ``GridModel`` is the generative module
whose generator is one (the GAN's ``Generator``, the autoregressive model's ``BinSampler``);
``Condition`` embeds a class or a level for either.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Condition(nn.Module):
    """A class index (``n_outputs = 2``) or a scalar level (``n_outputs = 1``) -> a vector."""

    def __init__(self, n_outputs: int, dim: int) -> None:
        super().__init__()
        self.continuous = n_outputs == 1
        self.map = nn.Linear(1, dim) if self.continuous else nn.Embedding(n_outputs, dim)

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        if self.continuous:
            return self.map(c.float().reshape(-1, 1))
        return self.map(c.long())


class SignalGrid(nn.Module):
    """What a generator needs to put its output where real signals lie: the input transform's
    per-mark statistics (``mean``, ``std``, ``log1p``), each mark's grid step ``quantum`` and
    whole-read value ``unit`` (buffers, given by ``set_scale``), and the maps between the
    transformed space and the signal's own scale."""

    def __init__(self, n_marks: int) -> None:
        super().__init__()
        for name in ("mean", "std", "quantum", "unit"):
            self.register_buffer(name, torch.zeros(n_marks))
        self.register_buffer("log1p", torch.tensor(True))

    def set_scale(
        self,
        mean: np.ndarray,
        std: np.ndarray,
        quantum: np.ndarray,
        *,
        log1p: bool = True,
        unit: np.ndarray | None = None,
    ) -> None:
        """The transform's statistics, the grid (``quantum`` per mark; zeros: none) and the
        whole-read value (``unit``; 0 or ``None``: none)."""
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(std, dtype=torch.float32))
        self.quantum.copy_(torch.as_tensor(np.asarray(quantum), dtype=torch.float32))
        u = np.zeros(len(mean)) if unit is None else np.asarray(unit)
        self.unit.copy_(torch.as_tensor(u, dtype=torch.float32))
        self.log1p.fill_(bool(log1p))

    @property
    def scaled(self) -> bool:
        """Whether ``set_scale`` gave the transform and the grid (else outputs are raw)."""
        return bool((self.quantum > 0).all())

    def zero_level(self) -> torch.Tensor:
        """Each mark's transformed value of an empty bin, ``(1, marks, 1)``."""
        return self.transformed(torch.zeros_like(self.mean)[None, :, None])

    def transformed(self, signal: torch.Tensor) -> torch.Tensor:
        """Signals ``(batch, marks, bins)`` on their own scale -> the transformed space (the
        inverse of ``signal``)."""
        raw = torch.log1p(signal) if bool(self.log1p) else signal
        return (raw - self.mean[None, :, None]) / self.std[None, :, None]

    def signal(self, v: torch.Tensor) -> torch.Tensor:
        """Transformed values ``(batch, marks, bins)`` -> the signal's own scale."""
        raw = v * self.std[None, :, None] + self.mean[None, :, None]
        return torch.expm1(raw.clamp(max=30.0)) if bool(self.log1p) else raw

    def whole_reads(self, x: torch.Tensor) -> torch.Tensor:
        """Which bins of transformed signals ``x`` ``(batch, marks, bins)`` are whole reads: a
        non-zero multiple of the mark's ``unit`` (within half a grid step); none for a mark
        without a unit, or before ``set_scale``."""
        raw, unit = self.signal(x), self.unit[None, :, None]
        reads = torch.round(raw / unit.clamp(min=1e-12))
        near = (raw - reads * unit).abs() < 0.5 * self.quantum[None, :, None]
        return near & (reads >= 1) & (unit > 0)  # (an empty bin reads 0 whole reads)


class GridModel(nn.Module):
    """A generative module whose ``generator`` (a ``SignalGrid``) puts its genes on the real
    signals' grid when ``quantize`` is on."""

    generator: SignalGrid
    quantize: bool

    def __init__(self, n_marks: int, n_bins: int, n_outputs: int, *, quantize: bool) -> None:
        """The shape every generator records (its subclass then builds ``generator``)."""
        super().__init__()
        self.n_marks, self.n_bins, self.n_outputs = n_marks, n_bins, n_outputs
        self.quantize = quantize

    def set_scale(
        self,
        mean: np.ndarray,
        std: np.ndarray,
        quantum: np.ndarray,
        *,
        log1p: bool = True,
        unit: np.ndarray | None = None,
    ) -> None:
        """The input transform's per-mark statistics, the signal's grid (per mark), which
        generated genes are put on (``quantize``), and each mark's whole-read value ``unit``
        (0 or ``None``: none; used by a GAN with ``atoms`` or ``reads``)."""
        q = np.asarray(quantum) if self.quantize else np.zeros(len(mean))
        u = unit if self.quantize else None
        self.generator.set_scale(mean, std, q, log1p=log1p, unit=u)

    def fit_grid(self, raw: np.ndarray, levels: np.ndarray | None = None) -> None:
        """Whatever else the generator learns from the training signals ``(genes, marks,
        bins)`` on their own scale, and for a level generator the training genes' scaled
        ``levels``, before training (none by default; the autoregressive generator's value
        tokens and level buckets)."""

    def after_training(
        self, x: torch.Tensor, c: torch.Tensor, x_valid: torch.Tensor, c_valid: torch.Tensor
    ) -> dict[str, float]:
        """A stage on the restored weights once training ends, from the training and validation
        genes (transformed) and their conditions; returns what it fitted (none by default; the
        autoregressive generator's level tilt)."""
        return {}

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """All the noise ``n`` genes need (``generator.noise_size`` each), in one tensor."""
        device = next(self.parameters()).device
        return torch.randn(n, self.generator.noise_size, generator=generator).to(device)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Generated signals ``(batch, marks, bins)`` for noise ``z`` and conditions ``c``."""
        return self.generator(z, c)
