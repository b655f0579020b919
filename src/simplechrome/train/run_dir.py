"""Run directories: one fitted model with everything needed to use and judge it again.

::

    RUN/config.yaml       model, model_params, train (the settings used), data (``RunData``)
    RUN/model.pt          the model (``TrainedModel.save``)
    RUN/metrics.json      {"train": {...}, "valid": {...}, "test": {...}}
    RUN/history.csv       one row per epoch
    RUN/predictions.tsv   gene_id, label, per-gene output (score), split
    RUN/analysis/         the run's analysis tables (NAME.tsv) and numbers (NAME.json), if any
    RUN/vae.pt, RUN/vae_history.csv   latent models: the VAE fitted first
    RUN/VERSION           the package version

The directory is built under a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .._io import atomic_directory, atomic_write
from .._version import __version__
from ..config import RunConfig, RunData
from ..data.histone import HistoneData
from ..errors import RunError
from .trained import TrainedModel

RUN_FILES = ("config.yaml", "model.pt", "metrics.json", "history.csv", "predictions.tsv", "VERSION")
ANALYSIS_DIR = "analysis"

#: An analysis result: a table (written as TSV) or a mapping of numbers (written as JSON).
Analysis = pd.DataFrame | dict[str, Any]


def evaluate_splits(
    trained: TrainedModel, splits: dict[str, HistoneData]
) -> dict[str, dict[str, Any]]:
    """The model's metrics on every split that can be scored (labelled ones; a VAE scores any)."""
    return {
        name: trained.evaluate(split)
        for name, split in splits.items()
        if split.y is not None or not trained.reads_labels
    }


def save_run(
    out: str | Path,
    trained: TrainedModel,
    splits: dict[str, HistoneData],
    *,
    config: RunConfig,
    data: RunData | None = None,
    analyses: dict[str, Analysis] | None = None,
    metrics: dict[str, dict[str, Any]] | None = None,
    model_file: str | Path | None = None,
    overwrite: bool = False,
) -> dict[str, dict[str, Any]]:
    """Write the run directory ``out`` atomically; return the metrics of every split.

    ``metrics``: the metrics to record (default: computed on ``splits``); ``model_file``: an
    existing ``model.pt`` of this very model to share (hard-linked, or copied where links are
    not possible) instead of writing it again.
    """
    out = Path(out)
    if out.exists() and not overwrite and (not out.is_dir() or any(out.iterdir())):
        raise RunError(f"{out}: already exists and is not empty (choose another --out)")
    metrics = evaluate_splits(trained, splits) if metrics is None else metrics
    predictions = pd.concat([trained.predict(split, split=name) for name, split in splits.items()])
    with atomic_directory(out, overwrite=overwrite) as tmp:
        cfg = config.to_dict()
        cfg["data"] = (data or RunData()).to_dict()
        (tmp / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
        if model_file is None:
            trained.save(tmp / "model.pt")
        else:
            _share(Path(model_file), tmp / "model.pt")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        trained.history.to_csv(tmp / "history.csv", index=False)
        if trained.pretrained is not None:  # the VAE behind a latent model, for its plots
            trained.pretrained.save(tmp / "vae.pt")
            trained.pretrained.history.to_csv(tmp / "vae_history.csv", index=False)
        predictions.to_csv(tmp / "predictions.tsv", sep="\t", index=False)
        if analyses:
            write_analyses(tmp, analyses)
        (tmp / "VERSION").write_text(__version__ + "\n")
    return metrics


def _share(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_analyses(run: str | Path, analyses: dict[str, Analysis]) -> list[Path]:
    """Write analysis results into ``run/analysis/`` (each file atomically)."""
    folder = Path(run) / ANALYSIS_DIR
    written = []
    for name, value in analyses.items():
        if isinstance(value, pd.DataFrame):
            path = folder / f"{name}.tsv"
            with atomic_write(path) as fh:
                value.to_csv(fh, sep="\t", index=False, float_format="%.6g")
        else:
            path = folder / f"{name}.json"
            with atomic_write(path) as fh:
                json.dump(_jsonable(value), fh, indent=1)
        written.append(path)
    return written


def read_analysis(run: str | Path, name: str) -> Analysis | None:
    """An analysis result of a run (a table or a mapping), or ``None`` if it has none."""
    folder = Path(run) / ANALYSIS_DIR
    if (folder / f"{name}.tsv").exists():
        return pd.read_csv(folder / f"{name}.tsv", sep="\t")
    if (folder / f"{name}.json").exists():
        return json.loads((folder / f"{name}.json").read_text())
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def read_run_config(run: str | Path) -> tuple[RunConfig, RunData]:
    """A run directory's configuration and data block."""
    from ..config import TrainConfig, from_dict

    raw = _config(Path(run))
    data = RunData.from_dict(raw.pop("data", None), where=f"{run}/config.yaml: data")
    raw.pop("cell", None)  # written by simplechrome 0.1
    train = raw.get("train") or {}
    config = RunConfig(
        model=str(raw.get("model", "")),
        model_params=dict(raw.get("model_params") or {}),
        train=from_dict(TrainConfig, train, where=f"{run}/config.yaml: train"),
    )
    return config, data


def _config(run: Path) -> dict[str, Any]:
    if not run.is_dir():
        raise RunError(f"{run}: not a run directory")
    missing = [f for f in ("config.yaml", "model.pt") if not (run / f).exists()]
    if missing:
        raise RunError(f"{run}: incomplete run directory (missing {', '.join(missing)})")
    return yaml.safe_load((run / "config.yaml").read_text()) or {}


def load_run(run: str | Path) -> tuple[TrainedModel, dict[str, Any]]:
    """The model and configuration (as written) of a run directory."""
    run = Path(run)
    config = _config(run)
    return TrainedModel.load(run / "model.pt"), config


def write_metrics(path: str | Path, metrics: dict[str, Any]) -> None:
    with atomic_write(path) as fh:
        fh.write(json.dumps(metrics, indent=2) + "\n")
