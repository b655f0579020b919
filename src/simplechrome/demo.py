"""The main job: the package's methods on a real sample it carries, with the report to open.

``run_demo`` trains the DeepChrome CNN, linear-12, logistic regression and AttentiveChrome on
3,000 genes of the Roadmap cell E012 (``demo_data/``), two seeds each, as an experiment (its
runs, records and analyses in one results folder), then writes the HTML report: the models'
test AUROCs with intervals, ROC curves, attention maps and class-optimisation maps.
``run_synthetic_demo`` does the same on a synthetic cell with planted ground truth.
"""

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

DEMO_MODELS: tuple[str, ...] = ("deepchrome", "linear", "logreg", "attentivechrome")
SYNTHETIC_MODELS: tuple[str, ...] = ("deepchrome", "linear", "logreg", "mlp")
SAMPLE = Path(__file__).with_name("demo_data") / "E012-sample"


@dataclasses.dataclass
class DemoResult:
    summary: pd.DataFrame  # one row per model: test metrics (with intervals), parameters
    out: Path
    figures: list[Path]  # the report (real data), or the plots (synthetic)
    reused: int = 0  # runs already in the folder (an earlier demo), not redone


def run_demo(
    out: str | Path,
    *,
    seeds: tuple[int, ...] = (0, 1),
    models: tuple[str, ...] = DEMO_MODELS,
    workers: int | None = None,
    progress: bool = False,
    on_run: Callable[[dict], None] | None = None,
) -> DemoResult:
    """Train ``models`` on the carried E012 sample (``seeds`` each), write the report.

    The results folder is resumable: runs an earlier demo finished (with the same spec and
    data: their fingerprints match) are reused, not redone.
    """
    from .experiments import parse_spec, run_experiment
    from .experiments.results import Results, per_cell_summary
    from .report import build_report

    out = Path(out)
    spec = parse_spec(
        {
            "name": "demo-e012-sample",
            "kind": "grid",
            "cells": {"E012-sample": str(SAMPLE)},
            "models": list(models),
            "seeds": list(seeds),
        }
    )
    result = run_experiment(
        spec, out, workers=workers, resume=True, progress=progress, on_run=on_run
    )
    report = build_report(out, out / "report.html")
    summary = per_cell_summary(Results(out))
    params = result.table.groupby("model")["n_parameters"].median().round().astype(int)
    summary["parameters"] = summary["model"].map(params)
    return DemoResult(summary=summary, out=out, figures=[report], reused=result.skipped)


def run_synthetic_demo(
    out: str | Path,
    *,
    n_genes: int = 6000,
    seed: int = 0,
    models: tuple[str, ...] = SYNTHETIC_MODELS,
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
