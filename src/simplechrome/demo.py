"""The main job on an embedded synthetic cell: train several models, evaluate, draw, summarise."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ._io import atomic_write
from .config import RunConfig, RunData, TrainConfig
from .data.run_splits import load_run_splits, synthetic_source
from .experiments.runs import make_run
from .report.plots import plot_history, plot_roc, save_figure
from .train.metrics import roc_table

DEMO_MODELS: tuple[str, ...] = ("deepchrome", "linear", "logreg", "mlp")


@dataclasses.dataclass
class DemoResult:
    summary: pd.DataFrame  # one row per model: test metrics, parameters, seconds
    out: Path
    figures: list[Path]


def run_demo(
    out: str | Path,
    *,
    n_genes: int = 6000,
    seed: int = 0,
    models: tuple[str, ...] = DEMO_MODELS,
    progress: bool = False,
    on_model: Callable[[str, dict], None] | None = None,
) -> DemoResult:
    """Simulate a cell with known ground truth, train each model, write runs, plots and a table."""
    out = Path(out)
    data = RunData(
        cells={"SYN01": synthetic_source(n_genes, seed)}, train_cells=("SYN01",), test_cell="SYN01"
    )
    splits = load_run_splits(data)
    config = TrainConfig(seed=seed, progress=progress)
    rows, curves, histories = [], [], []
    for name in models:
        start = time.perf_counter()
        run = make_run(
            RunConfig(name, {}, config),
            data,
            out=out / "runs" / name,
            splits=splits,
            overwrite=True,
        )
        seconds = time.perf_counter() - start
        test = run.metrics["test"]
        row = {
            "model": name,
            "test_auroc": test["auroc"],
            "test_auprc": test["auprc"],
            "test_accuracy": test["accuracy"],
            "parameters": run.model.n_parameters(),
            "epochs": len(run.model.history),
            "seconds": round(seconds, 2),
        }
        rows.append(row)
        scores = run.model.predict_scores(splits.test)
        curves.append(roc_table(splits.test.y, scores, model=name).assign(auroc=test["auroc"]))
        histories.append(run.model.history.assign(model=name))
        if on_model:
            on_model(name, row)
    summary = pd.DataFrame(rows)
    with atomic_write(out / "summary.tsv") as fh:
        summary.to_csv(fh, sep="\t", index=False, float_format="%.4f")
    figures = [
        save_figure(plot_roc(pd.concat(curves)), out / "roc.png"),
        save_figure(plot_history(pd.concat(histories)), out / "validation.png"),
    ]
    return DemoResult(summary=summary, out=out, figures=figures)
