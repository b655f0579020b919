"""The main job on an embedded synthetic cell: train several models, evaluate, draw, summarise."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .._io import atomic_write
from ..config import RunConfig, TrainConfig
from ..data.synthetic import make_synthetic
from ..report.plots import plot_history, plot_roc, save_figure
from ..train import fit, save_run
from ..train.metrics import roc_table

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
    cell = make_synthetic(n_genes, seed=seed)
    splits = cell.splits
    config = TrainConfig(seed=seed, progress=progress)
    rows, curves, histories = [], [], []
    for name in models:
        start = time.perf_counter()
        trained = fit(name, splits["train"], splits["valid"], config=config)
        seconds = time.perf_counter() - start
        metrics = save_run(
            out / "runs" / name,
            trained,
            splits,
            config=RunConfig(name, {}, config),
            data={"source": f"synthetic(n_genes={n_genes}, seed={seed})"},
            overwrite=True,
        )
        test = metrics["test"]
        row = {
            "model": name,
            "test_auroc": test["auroc"],
            "test_auprc": test["auprc"],
            "test_accuracy": test["accuracy"],
            "parameters": trained.n_parameters(),
            "epochs": len(trained.history),
            "seconds": round(seconds, 2),
        }
        rows.append(row)
        scores = trained.predict_scores(splits["test"])
        curves.append(roc_table(splits["test"].y, scores, model=name).assign(auroc=test["auroc"]))
        histories.append(trained.history.assign(model=name))
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
