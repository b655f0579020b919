"""DeepChrome (Singh et al., Bioinformatics 2016): a 1-D CNN over the (marks, bins) matrix."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .registry import register


@register("deepchrome", family="supervised")
class DeepChrome(nn.Module):
    """DeepChrome CNN: conv(marks->50, k=10), ReLU, pool 5, dropout 0.5, FC 625, FC 125, out.

    With 5 marks x 100 bins this is the published network: 644,177 parameters. ``pool``
    chooses max-pooling (published), average pooling, or a stride-5 convolution instead of a
    pooling layer (DeepChrome 2.0's variants).
    """

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        n_filters: int = 50,
        kernel_size: int = 10,
        pool_size: int = 5,
        pool: Literal["max", "avg", "strided"] = "max",
        hidden: tuple[int, int] = (625, 125),
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if n_bins < kernel_size:
            raise ValueError(f"{n_bins} bins are fewer than the kernel size {kernel_size}")
        conv_len = n_bins - kernel_size + 1
        if pool == "strided":
            self.conv = nn.Conv1d(n_marks, n_filters, kernel_size, stride=pool_size)
            self.pool: nn.Module = nn.Identity()
            pooled = (conv_len - 1) // pool_size + 1
        elif pool in ("max", "avg"):
            self.conv = nn.Conv1d(n_marks, n_filters, kernel_size)
            self.pool = nn.MaxPool1d(pool_size) if pool == "max" else nn.AvgPool1d(pool_size)
            pooled = conv_len // pool_size
        else:
            raise ValueError(f"pool must be max, avg or strided, not {pool!r}")
        self.dropout = nn.Dropout(dropout)
        h1, h2 = hidden
        self.head = nn.Sequential(
            nn.Linear(n_filters * pooled, h1),
            nn.ReLU(),
            nn.Linear(h1, h2),
            nn.ReLU(),
            nn.Linear(h2, n_outputs),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, marks, bins)`` -> logits ``(batch, n_outputs)``."""
        h = self.pool(torch.relu(self.conv(x)))  # (batch, filters, pooled)
        h = self.dropout(h).flatten(1)  # (batch, filters * pooled)
        return self.head(h)
