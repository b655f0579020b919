"""What a trained model responds to: class-optimisation maps (DeepChrome) and attributions.

Both work in the model's input space (log1p + per-mark standardisation), for any registered
torch model, and return ``(marks, bins)`` arrays per class.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.histone import HistoneData
from ..errors import ModelMismatchError
from ..train.supervised import logits_of
from ..train.trained import TrainedModel


def _logits(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return logits_of(module(x))


def _torch_module(model: TrainedModel) -> torch.nn.Module:
    if not model.entry.reads_signals:
        raise ModelMismatchError(f"model {model.name} does not read (marks, bins) signals directly")
    module = model.module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def class_optimisation_maps(
    model: TrainedModel,
    *,
    l2: float = 0.01,
    steps: int = 300,
    starts: int = 8,
    lr: float = 0.05,
    seed: int = 0,
) -> dict[int, np.ndarray]:
    """For each class c, the input maximising ``logit_c - logit_other - l2 * ||x||^2``.

    Optimised by Adam from ``starts`` random starts (standard normal in the standardised input
    space) and averaged; returns ``{class: (marks, bins)}`` in the standardised space. The
    logit margin (not one logit) is the objective: softmax ignores a shift of both logits.
    """
    module = _torch_module(model)
    generator = torch.Generator().manual_seed(seed)
    shape = (starts, len(model.marks), model.n_bins)
    maps = {}
    for c in (0, 1):
        x = torch.randn(shape, generator=generator).requires_grad_(True)
        opt = torch.optim.Adam([x], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            logits = _logits(module, x)
            margin = logits[:, c] - logits[:, 1 - c]
            loss = -(margin - l2 * x.pow(2).sum(dim=(1, 2))).mean()
            loss.backward()
            opt.step()
        maps[c] = x.detach().mean(0).numpy()
    return maps


def integrated_gradients(
    model: TrainedModel, data: HistoneData, *, steps: int = 32, max_genes: int = 1000, seed: int = 0
) -> dict[int, np.ndarray]:
    """Mean integrated-gradients attribution ``(marks, bins)`` over the genes of each class,
    each toward its own class (captum).

    Baseline: zero in the standardised input space, i.e. every bin at its mark's training mean of
    log1p signal: attributions say how a gene's marks move its class logit away from an average
    gene's. At most ``max_genes`` genes per class (seeded sample).
    """
    from captum.attr import IntegratedGradients

    module = _torch_module(model)
    if data.y is None:
        raise ModelMismatchError(f"{data.cell}: attributions per class need labels")
    x = torch.from_numpy(model.transformed(data))
    ig = IntegratedGradients(lambda inp: _logits(module, inp))
    rng = np.random.default_rng(seed)
    result = {}
    for c in (0, 1):
        idx = np.flatnonzero(data.y == c)
        if idx.size > max_genes:
            idx = np.sort(rng.choice(idx, size=max_genes, replace=False))
        parts = []
        for lo in range(0, len(idx), 128):
            batch = x[idx[lo : lo + 128]]
            parts.append(
                ig.attribute(
                    batch, baselines=torch.zeros_like(batch), target=c, n_steps=steps
                ).detach()
            )
        result[c] = torch.cat(parts).mean(0).numpy()
    return result
