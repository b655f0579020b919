"""Models: plain ``torch.nn.Module``s (and scikit-learn baselines) behind one registry."""

from __future__ import annotations

from . import attentive, classical, deepchrome, gan, simple, vae  # noqa: F401  (registration)
from .registry import ModelEntry, create, get, hyper_parameters, names, register


def n_parameters(model: object) -> int:
    """Parameters of a torch model (frozen ones included: they are part of the model), or
    coefficients of a classical one."""
    if hasattr(model, "parameters"):
        return sum(p.numel() for p in model.parameters())  # type: ignore[attr-defined]
    return int(model.n_parameters())  # type: ignore[attr-defined]


__all__ = ["ModelEntry", "create", "get", "hyper_parameters", "n_parameters", "names", "register"]
