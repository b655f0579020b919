"""One registry: model name -> class. The CLI, configs and checkpoints all go through it."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any, Literal

from ..errors import ConfigError

Kind = Literal["torch", "sklearn"]


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    cls: type
    kind: Kind
    summary: str


_REGISTRY: dict[str, ModelEntry] = {}


def register(name: str, *, kind: Kind = "torch") -> Callable[[type], type]:
    """Class decorator adding a model to the registry under ``name``."""

    def wrap(cls: type) -> type:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        doc = (inspect.getdoc(cls) or "").strip().splitlines()
        _REGISTRY[name] = ModelEntry(name, cls, kind, doc[0] if doc else "")
        cls.registry_name = name  # type: ignore[attr-defined]
        return cls

    return wrap


def get(name: str) -> ModelEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        ) from None


def names() -> list[str]:
    return sorted(_REGISTRY)


def create(name: str, *, n_marks: int, n_bins: int, n_outputs: int = 2, **params: Any) -> Any:
    """Build model ``name`` for inputs of ``(n_marks, n_bins)``; unknown parameters are errors."""
    entry = get(name)
    sig = inspect.signature(entry.cls)
    accepted = {p for p in sig.parameters if p not in ("self",)}
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ConfigError(
            f"model {name!r} has no parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(accepted - {'n_marks', 'n_bins', 'n_outputs'}))}"
        )
    try:
        return entry.cls(n_marks=n_marks, n_bins=n_bins, n_outputs=n_outputs, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {name!r}: {exc}") from None


def hyper_parameters(model: Any) -> dict[str, Any]:
    """The keyword hyper-parameters a model was built with (stored in checkpoints)."""
    return dict(getattr(model, "hparams_", {}))
