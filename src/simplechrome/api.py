"""The public Python API: the same operations as the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .config import RunConfig, TrainConfig
from .data.histone import HistoneData
from .train import TrainedModel, load_run, save_run
from .train import fit as _fit


def fit(
    model: str,
    train: HistoneData,
    valid: HistoneData,
    *,
    config: TrainConfig | None = None,
    out: str | Path | None = None,
    test: HistoneData | None = None,
    **model_params: Any,
) -> TrainedModel:
    """Train registry model ``model``; with ``out``, also write a run directory.

    >>> cell = load_cell("E012")                      # doctest: +SKIP
    >>> m = fit("deepchrome", cell["train"], cell["valid"])   # doctest: +SKIP
    """
    config = config or TrainConfig()
    trained = _fit(model, train, valid, config=config, model_params=model_params)
    if out is not None:
        splits = {"train": train, "valid": valid, **({"test": test} if test is not None else {})}
        save_run(out, trained, splits, config=RunConfig(model, model_params, config))
    return trained


def _model(model: TrainedModel | str | Path) -> TrainedModel:
    return model if isinstance(model, TrainedModel) else load_run(model)[0]


def evaluate(model: TrainedModel | str | Path, data: HistoneData) -> dict[str, Any]:
    """Metrics of a model (or run directory) on ``data``."""
    return _model(model).evaluate(data)


def predict(model: TrainedModel | str | Path, data: HistoneData) -> pd.DataFrame:
    """Per-gene scores of a model (or run directory): ``gene_id, label, score``."""
    return _model(model).predict(data)
