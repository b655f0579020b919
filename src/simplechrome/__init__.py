"""simplechrome: predict gene expression from histone-modification signals around the TSS.

Public API::

    import simplechrome as sc
    cell = sc.load_cell("path/to/E012")          # {"train", "valid", "test"} -> HistoneData
    model = sc.fit("deepchrome", cell["train"], cell["valid"])
    sc.evaluate(model, cell["test"])             # {"auroc": ..., "auprc": ..., ...}
    own = sc.prepare("sheet.tsv", "genes.gtf.gz", expression="57epigenomes.RPKM.pc.gz")
    table, meta = sc.load_pretrained("roadmap").predict("cells/mycell")  # shipped, no training

Names are imported on first use, so ``simplechrome --help`` does not pay for torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

_LAZY = {
    "models": ("simplechrome.models", None),
    "experiments": ("simplechrome.experiments", None),
    "analyse": ("simplechrome.api", "analyse"),
    "embed": ("simplechrome.api", "embed"),
    "evaluate": ("simplechrome.api", "evaluate"),
    "evaluate_run": ("simplechrome.api", "evaluate_run"),
    "fit": ("simplechrome.api", "fit"),
    "load_pretrained": ("simplechrome.api", "load_pretrained"),
    "predict": ("simplechrome.api", "predict"),
    "report": ("simplechrome.api", "report"),
    "train_run": ("simplechrome.api", "train_run"),
    "RunConfig": ("simplechrome.config", "RunConfig"),
    "RunData": ("simplechrome.config", "RunData"),
    "TrainConfig": ("simplechrome.config", "TrainConfig"),
    "HistoneData": ("simplechrome.data", "HistoneData"),
    "load_cell": ("simplechrome.data", "load_cell"),
    "make_synthetic": ("simplechrome.data", "make_synthetic"),
    "prepare": ("simplechrome.data", "prepare"),
    "TrainedModel": ("simplechrome.train", "TrainedModel"),
    "load_run": ("simplechrome.train", "load_run"),
}

__all__ = [
    "HistoneData",
    "RunConfig",
    "RunData",
    "TrainConfig",
    "TrainedModel",
    "__version__",
    "analyse",
    "embed",
    "evaluate",
    "evaluate_run",
    "experiments",
    "fit",
    "load_cell",
    "load_pretrained",
    "load_run",
    "make_synthetic",
    "models",
    "predict",
    "prepare",
    "report",
    "train_run",
]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'simplechrome' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # for type checkers and IDEs
    from . import experiments, models
    from .api import analyse, embed, evaluate, evaluate_run, fit, predict, report, train_run
    from .config import RunConfig, RunData, TrainConfig
    from .data import HistoneData, load_cell, make_synthetic, prepare
    from .train import TrainedModel, load_run
