"""One registry: model name -> entry. The CLI, configs, training and checkpoints all go through it.

An entry says everything the rest of the package needs to know about a model, so nothing else
inspects the module or branches on its name:

- ``family``: ``supervised`` (a histone model trained on labels), ``latent`` (a head on a
  pretrained VAE encoder), ``vae`` (unsupervised), ``gan`` (generative) or ``classical``
  (scikit-learn, fitted in one call). The training package maps each family to the task that
  owns its loss, optimiser, metrics, outputs and early-stopping score.
- ``outputs``: what a trained model can give: ``scores`` (per-gene predictions), ``attention``
  (bin and mark attention), ``latent`` (embeddings), ``reconstruction``,
  ``neighbor_attention``, ``samples`` (generated genes).
- ``inputs``: ``signals`` (the transformed ``(marks, bins)`` matrix, with any compendium
  channels the data carry), ``compendium`` (the compendium profile channels only: no histone)
  or ``neighbor_latents`` (latent means of the gene and its neighbours).
- ``defaults``: the model's own training defaults (learning rate, batch size, patience,
  epochs); a configuration or flag overrides them.
- ``task_params``: hyper-parameters of the family's task rather than of the module (a GAN's
  critic steps and gradient penalty), with their defaults; they are given and stored like the
  module's own hyper-parameters.
- ``freeze_encoder``: latent models: whether the pretrained encoder stays fixed.

Hyper-parameters are read from the constructor's signature once, here (``hyper_parameters``):
a checkpoint stores every one of them, defaults included, so a model reloads as it was built.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable
from typing import Any, Literal

from ..errors import ConfigError

Family = Literal["supervised", "latent", "vae", "generator", "classical"]
Inputs = Literal["signals", "compendium", "neighbor_latents"]
FAMILIES: tuple[str, ...] = ("supervised", "latent", "vae", "generator", "classical")
OUTPUTS = ("scores", "attention", "latent", "reconstruction", "neighbor_attention", "samples")
SHAPE_ARGS = ("n_marks", "n_bins", "n_outputs")


@dataclasses.dataclass(frozen=True)
class TrainDefaults:
    """A model's own training settings: what ``train`` uses unless told otherwise."""

    lr: float = 1e-3
    weight_decay: float = 0.0  # Adam's L2 penalty
    batch_size: int = 256
    patience: int = 6
    max_epochs: int = 60
    lr_schedule: str = "plateau"  # or "cosine" (TrainConfig.lr_schedule)
    lr_decay: float = 1.0  # 1: a constant learning rate
    lr_patience: int = 2
    average: float = 0.0  # > 0: keep an exponential moving average of the weights (per step)


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    cls: type
    family: Family
    summary: str
    outputs: frozenset[str]
    inputs: Inputs = "signals"
    defaults: TrainDefaults = TrainDefaults()
    task_params: tuple[tuple[str, Any], ...] = ()  # (name, default) pairs
    freeze_encoder: bool = True
    # torch's fused Adam (one call for every parameter tensor): for models with many small
    # tensors; the same update rule, in a different float rounding
    fused_adam: bool = False
    # the family's training task for this model, where a family has several (a generator:
    # "wgan_gp" or "likelihood"), and the name of the per-gene column ``predict`` writes
    task: str = ""
    score_name: str = "score"

    @property
    def kind(self) -> Literal["torch", "sklearn"]:
        """``sklearn`` for classical models, else ``torch``."""
        return "sklearn" if self.family == "classical" else "torch"

    @property
    def predicts(self) -> bool:
        """Whether the model scores genes (classifiers and regressors; not a VAE or a GAN)."""
        return "scores" in self.outputs

    @property
    def reads_signals(self) -> bool:
        """Whether a torch module reads the ``(marks, bins)`` signals directly (what
        attributions and class-optimisation maps differentiate)."""
        return self.kind == "torch" and self.inputs == "signals" and self.predicts

    def module_params(self) -> dict[str, inspect.Parameter]:
        sig = inspect.signature(self.cls)
        return {n: p for n, p in sig.parameters.items() if n not in ("self", *SHAPE_ARGS)}


_REGISTRY: dict[str, ModelEntry] = {}


def register(
    name: str,
    *,
    family: Family,
    outputs: Iterable[str] = ("scores",),
    inputs: Inputs = "signals",
    defaults: TrainDefaults | None = None,
    task_params: dict[str, Any] | None = None,
    freeze_encoder: bool = True,
    fused_adam: bool = False,
    task: str = "",
    score_name: str = "score",
) -> Callable[[type], type]:
    """Class decorator adding a model to the registry under ``name``."""
    outputs = frozenset(outputs)
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    unknown = sorted(outputs - set(OUTPUTS))
    if unknown:
        raise ValueError(f"unknown output(s) {unknown}")

    def wrap(cls: type) -> type:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        doc = (inspect.getdoc(cls) or "").strip().splitlines()
        _REGISTRY[name] = ModelEntry(
            name=name,
            cls=cls,
            family=family,
            summary=doc[0] if doc else "",
            outputs=outputs,
            inputs=inputs,
            defaults=defaults or TrainDefaults(),
            task_params=tuple((task_params or {}).items()),
            freeze_encoder=freeze_encoder,
            fused_adam=fused_adam,
            task=task,
            score_name=score_name,
        )
        return cls

    return wrap


def get(name: str) -> ModelEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        ) from None


def names(*, family: str | None = None) -> list[str]:
    """The registered models' names (of one ``family``, if given)."""
    return sorted(n for n, e in _REGISTRY.items() if family is None or e.family == family)


def hyper_parameters(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every hyper-parameter of model ``name`` (the module's and its task's), defaults filled in
    from the constructor's signature, in a plain form (lists, not tuples) that YAML, JSON and
    checkpoints store. Unknown names are errors."""
    entry = get(name)
    params = dict(params or {})
    module = entry.module_params()
    task = dict(entry.task_params)
    unknown = sorted(set(params) - set(module) - set(task))
    if unknown:
        accepted = sorted(set(module) | set(task))
        raise ConfigError(
            f"model {name!r} has no parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted)}"
        )
    out: dict[str, Any] = {}
    for key, p in module.items():
        if key in params:
            out[key] = params[key]
        elif p.default is not inspect.Parameter.empty:
            out[key] = p.default
    for key, default in task.items():
        out[key] = params.get(key, default)
    return {k: _plain(v) for k, v in out.items()}


def split_params(name: str, hparams: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(module parameters, task parameters)`` of a full set of hyper-parameters."""
    task = {k for k, _ in get(name).task_params}
    return (
        {k: v for k, v in hparams.items() if k not in task},
        {k: v for k, v in hparams.items() if k in task},
    )


def create(name: str, *, n_marks: int, n_bins: int, n_outputs: int = 2, **params: Any) -> Any:
    """Build model ``name`` for inputs of ``(n_marks, n_bins)``; unknown parameters are errors.

    Task parameters (see ``ModelEntry.task_params``) are accepted and left to the task.
    """
    entry = get(name)
    module_params, _ = split_params(name, hyper_parameters(name, params))
    kwargs = {k: _from_plain(v) for k, v in module_params.items()}
    try:
        return entry.cls(n_marks=n_marks, n_bins=n_bins, n_outputs=n_outputs, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {name!r}: {exc}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _from_plain(value: Any) -> Any:
    # sequences are stored as lists; constructors take tuples
    return tuple(value) if isinstance(value, list) else value
