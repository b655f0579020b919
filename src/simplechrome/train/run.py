"""Self-describing run directories: config, model, metrics, history, predictions, version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .. import __version__
from .._io import atomic_directory, atomic_write
from ..config import RunConfig
from ..data.histone import HistoneData
from ..errors import RunError
from .trained import TrainedModel

RUN_FILES = ("config.yaml", "model.pt", "metrics.json", "history.csv", "predictions.tsv", "VERSION")


def save_run(
    out: str | Path,
    trained: TrainedModel,
    splits: dict[str, HistoneData],
    *,
    config: RunConfig,
    data: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> dict[str, dict[str, Any]]:
    """Write the run directory ``out`` atomically; return the metrics of every split."""
    out = Path(out)
    metrics: dict[str, dict[str, Any]] = {}
    predictions = []
    for name, split in splits.items():
        predictions.append(trained.predict(split, split=name))
        if split.y is not None or trained.is_vae:
            metrics[name] = trained.evaluate(split)
    if out.exists() and not overwrite and (not out.is_dir() or any(out.iterdir())):
        raise RunError(f"{out}: already exists and is not empty (choose another --out)")
    with atomic_directory(out, overwrite=overwrite) as tmp:
        cfg = config.to_dict()
        cfg["data"] = data or {}
        cfg["cell"] = next(iter(splits.values())).cell
        (tmp / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        trained.save(tmp / "model.pt")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        trained.history.to_csv(tmp / "history.csv", index=False)
        if trained.pretrained is not None:  # the VAE behind a latent model, for its plots
            trained.pretrained.save(tmp / "vae.pt")
            trained.pretrained.history.to_csv(tmp / "vae_history.csv", index=False)
        pd.concat(predictions).to_csv(tmp / "predictions.tsv", sep="\t", index=False)
        (tmp / "VERSION").write_text(__version__ + "\n")
    return metrics


def load_run(run: str | Path) -> tuple[TrainedModel, dict[str, Any]]:
    """The model and configuration of a run directory."""
    run = Path(run)
    if not run.is_dir():
        raise RunError(f"{run}: not a run directory")
    missing = [f for f in ("config.yaml", "model.pt") if not (run / f).exists()]
    if missing:
        raise RunError(f"{run}: incomplete run directory (missing {', '.join(missing)})")
    config = yaml.safe_load((run / "config.yaml").read_text()) or {}
    return TrainedModel.load(run / "model.pt"), config


def write_metrics(path: str | Path, metrics: dict[str, Any]) -> None:
    with atomic_write(path) as fh:
        fh.write(json.dumps(metrics, indent=2) + "\n")
