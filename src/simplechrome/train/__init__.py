"""Training and evaluation: one ``fit()`` for every model, self-describing run directories."""

from __future__ import annotations

from .loop import fit
from .metrics import classification_metrics, regression_metrics
from .run import RUN_FILES, load_run, save_run, write_metrics
from .trained import TrainedModel
from .transform import InputTransform

__all__ = [
    "RUN_FILES",
    "InputTransform",
    "TrainedModel",
    "classification_metrics",
    "fit",
    "load_run",
    "regression_metrics",
    "save_run",
    "write_metrics",
]
