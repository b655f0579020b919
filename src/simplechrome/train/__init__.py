"""Training and evaluation: one ``fit()`` for every model, self-describing run directories.

Importing the package registers every family's ``TrainedModel`` subclass.
"""

from __future__ import annotations

from . import gan, latent, supervised, vae  # noqa: F401  (the families register themselves)
from .fit import fit, resolve_config
from .latent import pretrained_vae
from .metrics import classification_metrics, regression_metrics
from .run_dir import (
    RUN_FILES,
    evaluate_splits,
    load_run,
    read_analysis,
    read_run_config,
    save_run,
    write_analyses,
    write_metrics,
)
from .trained import TrainedModel
from .transform import InputTransform

__all__ = [
    "RUN_FILES",
    "InputTransform",
    "TrainedModel",
    "classification_metrics",
    "evaluate_splits",
    "fit",
    "load_run",
    "pretrained_vae",
    "read_analysis",
    "read_run_config",
    "regression_metrics",
    "resolve_config",
    "save_run",
    "write_analyses",
    "write_metrics",
]
