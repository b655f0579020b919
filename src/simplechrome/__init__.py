"""simplechrome: predict gene expression from histone-modification signals around the TSS.

Public API::

    import simplechrome as sc
    cell = sc.load_cell("path/to/E012")          # {"train", "valid", "test"} -> HistoneData
    model = sc.fit("deepchrome", cell["train"], cell["valid"])
    sc.evaluate(model, cell["test"])             # {"auroc": ..., "auprc": ..., ...}
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import models  # noqa: E402
from .api import evaluate, fit, predict  # noqa: E402
from .config import RunConfig, TrainConfig  # noqa: E402
from .data import HistoneData, load_cell, make_synthetic  # noqa: E402
from .train import TrainedModel, load_run  # noqa: E402

__all__ = [
    "HistoneData",
    "RunConfig",
    "TrainConfig",
    "TrainedModel",
    "__version__",
    "evaluate",
    "fit",
    "load_cell",
    "load_run",
    "make_synthetic",
    "models",
    "predict",
]
