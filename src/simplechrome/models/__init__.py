"""Models: plain ``torch.nn.Module``s (and scikit-learn baselines) behind one registry."""

from __future__ import annotations

import torch

from . import (  # noqa: F401  (registration)
    attentive,
    autoregressive,
    classical,
    deepchrome,
    gan,
    linear,
    mlp,
    vae,
)
from .registry import (
    FAMILIES,
    ModelEntry,
    TrainDefaults,
    create,
    get,
    hyper_parameters,
    names,
    register,
    split_params,
)


def n_parameters(model: object) -> int:
    """Parameters of a torch model (frozen ones included: they are part of the model), or
    coefficients of a fitted classical one."""
    if isinstance(model, torch.nn.Module):
        return sum(p.numel() for p in model.parameters())
    if isinstance(model, classical.PooledFeatures):
        return model.n_parameters()
    raise TypeError(f"not a model: {type(model).__name__}")


__all__ = [
    "FAMILIES",
    "ModelEntry",
    "TrainDefaults",
    "create",
    "get",
    "hyper_parameters",
    "n_parameters",
    "names",
    "register",
    "split_params",
]
