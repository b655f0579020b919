"""``TrainedModel``: a fitted model with everything needed to use it again, and its file form."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .. import __version__, models
from .._io import atomic_write
from ..data.histone import HistoneData
from ..errors import ModelMismatchError, RunError
from .metrics import compute
from .task import predict_scores
from .transform import InputTransform

FORMAT_VERSION = 1


@dataclasses.dataclass
class TrainedModel:
    """A model, its input transform and the data shape it accepts (sklearn-style use).

    ``predict_scores`` gives P(high expression) for classification, or the predicted
    ``log2(RPKM + 1)`` for regression.
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

    @property
    def kind(self) -> str:
        return models.get(self.name).kind

    def check(self, data: HistoneData) -> HistoneData:
        """``data`` with its marks in this model's order; refuses other marks or bin counts."""
        if sorted(data.marks) != sorted(self.marks):
            raise ModelMismatchError(
                f"{data.cell}: data has marks {list(data.marks)}, but the model was trained on "
                f"{list(self.marks)}"
            )
        if data.n_bins != self.n_bins:
            raise ModelMismatchError(
                f"{data.cell}: data has {data.n_bins} bins per gene, but the model was trained "
                f"on {self.n_bins}"
            )
        return data.with_marks(self.marks)

    def predict_scores(self, data: HistoneData) -> np.ndarray:
        x = self.transform(self.check(data).x)
        if self.kind == "sklearn":
            score = self.module.decision(x)
            return np.asarray(score, dtype=np.float64)
        score = predict_scores(self.module, x, self.task).astype(np.float64)
        return self.transform.unscale_y(score) if self.task == "regression" else score

    def predict(self, data: HistoneData, split: str | None = None) -> pd.DataFrame:
        """One row per gene: ``gene_id``, ``label`` (if any), ``score`` [, ``split``]."""
        score = self.predict_scores(data)
        frame = pd.DataFrame(
            {
                "gene_id": data.gene_ids,
                "label": data.y if data.y is not None else np.full(data.n_genes, np.nan),
                "score": score,
            }
        )
        if split is not None:
            frame["split"] = split
        return frame

    def evaluate(self, data: HistoneData) -> dict[str, Any]:
        if data.y is None:
            raise ModelMismatchError(f"{data.cell}: the data has no labels to evaluate against")
        return compute(self.task, data.y, self.predict_scores(data))

    def n_parameters(self) -> int:
        return models.n_parameters(self.module)

    # -- file form -----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``model.pt``: tensors and plain values only (loads with ``weights_only=True``)."""
        if self.kind == "sklearn":
            state = {k: torch.from_numpy(np.asarray(v)) for k, v in self.module.state().items()}
        else:
            state = {k: v.detach().cpu() for k, v in self.module.state_dict().items()}
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
            "state": state,
        }
        with atomic_write(path, "wb") as fh:
            torch.save(payload, fh)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> TrainedModel:
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
        task = payload["task"]
        n_out = 2 if task == "classification" else 1
        module = models.create(
            payload["model"],
            n_marks=len(payload["marks"]),
            n_bins=payload["n_bins"],
            n_outputs=n_out,
            **_hparams_for_init(payload["hparams"]),
        )
        if models.get(payload["model"]).kind == "sklearn":
            module.load_state({k: v.numpy() for k, v in payload["state"].items()})
        else:
            module.load_state_dict(payload["state"])
            module.eval()
        return cls(
            name=payload["model"],
            module=module,
            transform=InputTransform.from_state(payload["transform"]),
            marks=tuple(payload["marks"]),
            n_bins=payload["n_bins"],
            bin_size=payload["bin_size"],
            task=task,
            hparams=payload["hparams"],
        )


def _hparams_for_init(hparams: dict[str, Any]) -> dict[str, Any]:
    # tuples are stored as lists; constructors take either
    return {k: tuple(v) if isinstance(v, list) else v for k, v in hparams.items()}
