"""``TrainedModel``: a fitted model with everything needed to use it again, and its file form.

One subclass per model family (``Predictor`` for supervised histone models,
``ClassicalPredictor``, ``LatentPredictor``, ``VAEModel``, ``GANModel``) owns how the family
trains (its task, its inputs) and what it gives (scores, attention, latents, samples). The
registry entry of a model names its family; ``TrainedModel.family_class`` maps that name to
the subclass. Nothing asks a module what it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from .. import models
from .._io import atomic_write
from .._version import __version__
from ..config import TrainConfig
from ..data.histone import HistoneData
from ..errors import ModelMismatchError, RunError
from ..models.registry import ModelEntry
from .transform import InputTransform

FORMAT_VERSION = 1

_NOT_PREDICTORS = {"vae": "VAE (use embed)", "generator": "generator (use gan sample)"}
_MISSING = {
    "scores": "predicts no expression",
    "attention": "has no attention (no bin/mark attention to give)",
    "latent": "has no latent space to embed into",
    "reconstruction": "is not a VAE: it reconstructs nothing",
    "neighbor_attention": "has no neighbour attention",
    "samples": "is not a generative model (not a GAN)",
}


@dataclasses.dataclass
class TrainedModel:
    """A model, its input transform and the data shape it accepts (sklearn-style use).

    Capabilities (``predict_scores``, ``attention``, ``embed``, ``reconstruct``,
    ``neighbor_attention``, ``generate``) exist where the registry entry's ``outputs`` list
    them; elsewhere they raise ``ModelMismatchError``.
    """

    name: str
    module: Any  # torch.nn.Module or a classical estimator
    transform: InputTransform
    marks: tuple[str, ...]
    n_bins: int
    bin_size: int
    task: str
    hparams: dict[str, Any]
    history: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    pretrained: TrainedModel | None = None  # latent models: the VAE fitted first

    #: the registry families this class serves (set by each subclass)
    families: ClassVar[tuple[str, ...]] = ()
    #: whether training reads the labels of the training split (a VAE reads none)
    reads_labels: ClassVar[bool] = True
    _by_family: ClassVar[dict[str, type[TrainedModel]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for family in cls.__dict__.get("families", ()):
            TrainedModel._by_family[family] = cls

    @staticmethod
    def family_class(family: str) -> type[TrainedModel]:
        """The ``TrainedModel`` subclass of a registry family."""
        try:
            return TrainedModel._by_family[family]
        except KeyError:
            raise RunError(f"no trained-model class for family {family!r}") from None

    # -- what the model is -----------------------------------------------------------------
    @property
    def entry(self) -> ModelEntry:
        return models.get(self.name)

    @property
    def family(self) -> str:
        return self.entry.family

    @property
    def outputs(self) -> frozenset[str]:
        return self.entry.outputs

    @property
    def kind(self) -> str:
        return self.entry.kind

    def n_parameters(self) -> int:
        return models.n_parameters(self.module)

    def require(self, output: str) -> None:
        """Refuse (``ModelMismatchError``) unless the model gives ``output``."""
        if output in self.outputs:
            return
        if output == "scores" and self.family in _NOT_PREDICTORS:
            raise ModelMismatchError(
                f"model {self.name} is a {_NOT_PREDICTORS[self.family]}: it predicts no expression"
            )
        raise ModelMismatchError(f"model {self.name} {_MISSING[output]}")

    def check(self, data: HistoneData) -> HistoneData:
        """``data`` with this model's marks in its order; refuses missing marks or other bin
        counts. Data holding more marks is reduced to the model's (marks are matched by name)."""
        missing = [m for m in self.marks if m not in data.marks]
        if missing:
            raise ModelMismatchError(
                f"{data.cell}: data has marks {list(data.marks)}, but the model was trained on "
                f"{list(self.marks)}"
            )
        if data.n_bins != self.n_bins:
            raise ModelMismatchError(
                f"{data.cell}: data has {data.n_bins} bins per gene, but the model was trained "
                f"on {self.n_bins}"
            )
        return data.select_marks(self.marks)

    def transformed(self, data: HistoneData) -> np.ndarray:
        """``data``'s signals in the model's input space (log1p, per-mark standardisation)."""
        return self.transform(self.check(data).x)

    def _batched(self, x: np.ndarray, fn: Callable[[Any, torch.Tensor], torch.Tensor]):
        """``fn(module, batch)`` over ``x`` in batches (512 genes on the CPU; 8,192 on a GPU,
        where small batches leave it idle), no gradients, eval mode, on the module's device
        (the results come back to the CPU)."""
        self.module.eval()
        device = next(self.module.parameters()).device
        size = 512 if device.type == "cpu" else 8192
        out = []
        with torch.inference_mode():
            for lo in range(0, len(x), size):
                xb = torch.from_numpy(x[lo : lo + size]).to(device)
                out.append(fn(self.module, xb).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0,))

    def _outputs(self, data: HistoneData, fn: Callable[[Any, torch.Tensor], torch.Tensor]):
        return self._batched(self.transformed(data), fn)

    # -- training (``fit`` drives these; each family overrides what it does differently) ------
    def prepare(
        self,
        train: HistoneData,
        valid: HistoneData,
        config: TrainConfig,
        unlabelled: HistoneData | None,
        unlabelled_valid: HistoneData | None = None,
    ) -> None:
        """Anything the family does before training (pretraining, input bounds)."""

    def train_on(
        self, train: HistoneData, valid: HistoneData, config: TrainConfig
    ) -> pd.DataFrame:  # pragma: no cover - every family overrides it
        """Fit the module; return the per-epoch history."""
        raise NotImplementedError

    # -- outputs (each family overrides those its entry lists) ----------------------------------
    def predict_scores(self, data: HistoneData) -> np.ndarray:
        """P(high expression) (classification) or predicted ``log2(RPKM + 1)`` (regression)."""
        self.require("scores")
        raise NotImplementedError  # pragma: no cover

    def attention(self, data: HistoneData) -> tuple[np.ndarray, np.ndarray]:
        self.require("attention")
        raise NotImplementedError  # pragma: no cover

    def embed(self, data: HistoneData) -> np.ndarray:
        self.require("latent")
        raise NotImplementedError  # pragma: no cover

    def reconstruct(self, data: HistoneData) -> tuple[np.ndarray, np.ndarray]:
        self.require("reconstruction")
        raise NotImplementedError  # pragma: no cover

    def neighbor_attention(self, data: HistoneData) -> np.ndarray:
        self.require("neighbor_attention")
        raise NotImplementedError  # pragma: no cover

    def generate(self, conditions: np.ndarray, *, seed: int = 0) -> np.ndarray:
        self.require("samples")
        raise NotImplementedError  # pragma: no cover

    def predict(self, data: HistoneData, split: str | None = None) -> pd.DataFrame:
        """One row per gene: ``gene_id``, ``label`` (if any), the family's per-gene columns
        (``score`` for predictors) [, ``split``]."""
        frame = pd.DataFrame(
            {
                "gene_id": data.gene_ids,
                "label": data.y if data.y is not None else np.full(data.n_genes, np.nan),
            }
        )
        for column, values in self.per_gene(data).items():
            frame[column] = values
        if split is not None:
            frame["split"] = split
        return frame

    def per_gene(self, data: HistoneData) -> dict[str, np.ndarray]:  # pragma: no cover
        """The family's per-gene output columns for ``predict``."""
        raise NotImplementedError

    def evaluate(self, data: HistoneData) -> dict[str, Any]:  # pragma: no cover
        """The family's metrics on ``data`` (with ``n_genes``)."""
        raise NotImplementedError

    # -- file form ---------------------------------------------------------------------------
    def _state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu() for k, v in self.module.state_dict().items()}

    def _load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)
        self.module.eval()

    def save(self, path: str | Path) -> Path:
        """Write ``model.pt``: tensors and plain values only (loads with ``weights_only=True``)."""
        payload = {
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "model": self.name,
            "hparams": self.hparams,
            "marks": list(self.marks),
            "n_bins": self.n_bins,
            "bin_size": self.bin_size,
            "task": self.task,
            "transform": self.transform.state(),
            "state": self._state(),
        }
        with atomic_write(path, "wb") as fh:
            torch.save(payload, fh)
        return Path(path)

    @classmethod
    def saved_params(cls, name: str, hparams: dict[str, Any]) -> dict[str, Any]:
        """The hyper-parameters a file of model ``name`` records, as this version reads them
        (a family whose new parameter would change what an older file means fills in the old
        value)."""
        return hparams

    @staticmethod
    def load(path: str | Path) -> TrainedModel:
        """A model written by ``save``, as its family's class."""
        path = Path(path)
        if not path.exists():
            raise RunError(f"{path}: no such model file")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for a damaged file
            raise RunError(f"{path}: not a readable simplechrome model ({exc})") from None
        version = payload.get("format_version") if isinstance(payload, dict) else None
        if version != FORMAT_VERSION:
            raise RunError(f"{path}: model format {version!r}, this version reads {FORMAT_VERSION}")
        name, task = payload["model"], payload["task"]
        cls = TrainedModel.family_class(models.get(name).family)
        hparams = models.hyper_parameters(name, cls.saved_params(name, payload["hparams"]))
        module = models.create(
            name,
            n_marks=len(payload["marks"]),
            n_bins=payload["n_bins"],
            n_outputs=2 if task == "classification" else 1,
            **hparams,
        )
        trained = cls(
            name=name,
            module=module,
            transform=InputTransform.from_state(payload["transform"]),
            marks=tuple(payload["marks"]),
            n_bins=payload["n_bins"],
            bin_size=payload["bin_size"],
            task=task,
            hparams=hparams,
        )
        trained._load_state(payload["state"])
        return trained
