"""A multi-layer perceptron on the flattened (marks x bins) matrix (a baseline)."""

from __future__ import annotations

import torch
from torch import nn

from .registry import TrainDefaults, register


def perceptron(
    width: int, hidden: tuple[int, ...], n_outputs: int, dropout: float
) -> nn.Sequential:
    """Linear layers of ``hidden`` widths with ReLU and dropout between, then the output."""
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
        width = h
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


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
        self.net = perceptron(n_marks * n_bins, hidden, n_outputs, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, marks, bins)`` -> logits ``(batch, n_outputs)``."""
        return self.net(x.flatten(1))  # (batch, marks * bins)


# 1,024-gene batches: pooled training sets of ten cells hold ~70,000 labelled genes and this
# network is small, so an epoch of 256-gene batches is four times the steps
@register("pooled_mlp", family="supervised", defaults=TrainDefaults(batch_size=1024))
class PooledMLP(nn.Module):
    """MLP on per-channel summaries: each channel's mean over the bins, its mean over the
    central fifth (the TSS) and its downstream-minus-upstream difference (a gene-body mark's
    direction), then ReLU layers with dropout.

    With compendium channels (constant over the bins) it sees the compendium profile beside
    the marks and can learn where the histone signals matter (e.g. genes whose expression
    varies across cells), which a logistic regression on the same summaries cannot (issue 35:
    the evidence, on validation genes only, is in RESULTS.md section 1).
    """

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        hidden: tuple[int, ...] = (64, 32),
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.centre = slice(2 * n_bins // 5, max(3 * n_bins // 5, 2 * n_bins // 5 + 1))
        self.half = n_bins // 2
        self.net = perceptron(3 * n_marks, hidden, n_outputs, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(batch, marks, bins)`` -> logits ``(batch, n_outputs)``."""
        mean = x.mean(dim=2)  # (batch, marks)
        centre = x[:, :, self.centre].mean(dim=2)  # (batch, marks)
        if self.half:
            slope = x[:, :, self.half :].mean(dim=2) - x[:, :, : self.half].mean(dim=2)
        else:
            slope = torch.zeros_like(mean)
        return self.net(torch.cat([mean, centre, slope], dim=1))  # (batch, 3 * marks)
