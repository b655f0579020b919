"""A multi-layer perceptron on the flattened (marks x bins) matrix (a baseline)."""

from __future__ import annotations

import torch
from torch import nn

from .registry import register


@register("mlp", family="supervised")
class MLP(nn.Module):
    """MLP on the flattened (marks x bins) matrix, with ReLU and dropout between layers."""

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        hidden: tuple[int, ...] = (256, 64),
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_marks * n_bins
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, marks, bins)`` -> logits ``(batch, n_outputs)``."""
        return self.net(x.flatten(1))  # (batch, marks * bins)
