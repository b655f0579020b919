"""The public Python API: the same operations as the command line, which only calls these.

import simplechrome as sc
cell = sc.load_cell("path/to/E012")
model = sc.fit("deepchrome", cell["train"], cell["valid"])
sc.evaluate(model, cell["test"])
run = sc.train_run("attentivechrome", sc.RunData.one_cell("path/to/E012"), out="runs/ac")
sc.evaluate_run("runs/ac")                 # every split, rebuilt from the run directory
sc.experiments.run(sc.experiments.load_spec("configs/grid.yaml"), "results/grid")
sc.report("results/grid", "grid.html")
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_write
from .config import RunConfig, RunData, TrainConfig
from .data.histone import HistoneData, concat
from .data.run_splits import cell_inputs, load_run_splits
from .errors import InputError, ModelMismatchError
from .experiments.runs import Run, analyse_run, make_run
from .pretrained import ShippedModel, is_pretrained, write_predictions
from .pretrained import load_pretrained as _load_pretrained
from .report import build_report, gan_report, write_page
from .train import TrainedModel, load_run, read_analysis, read_run_config
from .train import fit as _fit

log = logging.getLogger(__name__)


def fit(
    model: str,
    train: HistoneData,
    valid: HistoneData,
    *,
    config: TrainConfig | None = None,
    **model_params: Any,
) -> TrainedModel:
    """Train registry model ``model`` on ``train``, early-stopping on ``valid``.

    >>> cell = load_cell("E012")                      # doctest: +SKIP
    >>> m = fit("deepchrome", cell["train"], cell["valid"])   # doctest: +SKIP
    """
    return _fit(model, train, valid, config=config or TrainConfig(), model_params=model_params)


def train_run(config: RunConfig | str, data: RunData, *, out: str | Path | None = None) -> Run:
    """Make one run (train, evaluate every split, compute its analyses) on the genes ``data``
    describes; with ``out``, write its run directory. ``config`` may be a model name."""
    if isinstance(config, str):
        config = RunConfig(config)
    return make_run(config, data, out=out)


def _model(model: TrainedModel | str | Path) -> TrainedModel:
    return model if isinstance(model, TrainedModel) else load_run(model)[0]


def evaluate(model: TrainedModel | str | Path, data: HistoneData) -> dict[str, Any]:
    """Metrics of a model (or run directory) on ``data``."""
    return _model(model).evaluate(data)


def predict(model: TrainedModel | str | Path, data: HistoneData) -> pd.DataFrame:
    """Per-gene scores of a model (or run directory): ``gene_id, label, score``."""
    return _model(model).predict(data)


def embed(model: TrainedModel | str | Path, data: HistoneData) -> np.ndarray:
    """Latent means ``(genes, latent)`` of a VAE or latent model (or run directory)."""
    return _model(model).embed(data)


# -- run directories ----------------------------------------------------------------------------
def run_splits(run: str | Path, data: str | Path | None = None) -> dict[str, HistoneData]:
    """The splits a run's model is used on: with ``data`` (a cell folder, DeepDiff prefix, EID
    or one split's CSV file) that cell's splits, built as the run built its own test split (the
    model's marks, the run's normalisation and compendium: ``data.cell_inputs``); without, the
    run's own splits rebuilt from its directory."""
    _, run_data = read_run_config(run)
    if data is None:
        return load_run_splits(run_data).as_dict()
    model = _model(run)
    splits = cell_inputs(run_data, str(data), marks=model.marks)
    reads_matrix = run_data.compendium is not None or model.entry.inputs == "neighbor_latents"
    if reads_matrix:
        _warn_if_seen(run_data, splits["test"])
    return {"": splits["test"]} if set(splits) == {"test"} else splits


def _warn_if_seen(run_data: RunData, cell: HistoneData) -> None:
    """A run that read the expression matrix (compendium, co-expression neighbours) trained
    with every column but its own test cell's among its training cells' inputs: scored on
    another Roadmap cell, its numbers are not a new-cell-type result. Say so."""
    if run_data.expression is None:
        return
    from .data.annotation import read_expression
    from .ids import eid_in

    column = cell.eid or eid_in(cell.cell)
    if column is None or column not in read_expression(run_data.expression).columns:
        return  # no Roadmap column: a new cell type, nothing of it was seen
    own = eid_in(run_data.test_cell) or eid_in(
        Path(run_data.cells.get(run_data.test_cell, "")).name
    )
    if column != own:
        log.warning(
            "%s is a Roadmap cell whose expression column was among this run's training inputs "
            "(compendium or neighbours); its scores here are optimistic for a new cell type "
            "(a cross_cell experiment trains a run for it that never reads the column)",
            cell.cell,
        )


def marks_note(model: TrainedModel, data: HistoneData) -> str | None:
    """A line saying which of ``data``'s marks the model reads, when it reads fewer."""
    extra = [m for m in data.marks if m not in model.marks]
    if not extra:
        return None
    return (
        f"{data.cell} has marks {', '.join(data.marks)}; the model was trained on "
        f"{', '.join(model.marks)} and reads those only (ignoring {', '.join(extra)})"
    )


def build_kernels() -> dict[str, str | None]:
    """Compile the native AttentiveChrome CPU kernel (both builds: this CPU's, and one without
    AVX2); ``{build: None, or why it could not be built}``. A failed build is remembered; this
    tries again."""
    from .models import fused_lstm

    return fused_lstm.build_all()


def load_pretrained(name: str = "roadmap") -> ShippedModel:
    """A model shipped with the package, ready to use (``simplechrome models --pretrained``):

    >>> model = load_pretrained("roadmap")                      # doctest: +SKIP
    >>> table, meta = model.predict("cells/mycell")             # doctest: +SKIP
    """
    return _load_pretrained(name)


def evaluate_run(
    run: str | Path,
    data: str | Path | None = None,
    *,
    output: str | Path | None = None,
    cell: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Metrics of a run on its own splits (rebuilt from the run directory) or on another cell's
    (``data``); with ``output``, also written as JSON in ``metrics.json``'s shape. ``run`` may
    name a shipped model (``roadmap``): then ``data`` is required and ``cell`` names the
    Roadmap cell it is (its expression column is left out of the compendium)."""
    from .train import evaluate_splits, write_metrics

    if is_pretrained(run):
        if data is None:
            raise InputError(f"evaluate {run}: give the cell to evaluate on with --data")
        metrics = _load_pretrained(str(run)).evaluate(data, cell=cell)
        if output is not None:
            write_metrics(output, metrics)
        return metrics
    if cell is not None:
        raise InputError("--cell applies to shipped models (simplechrome models --pretrained)")
    model = _model(run)
    splits = run_splits(run, data)
    for split in splits.values():
        note = marks_note(model, split)
        if note:
            log.warning(note)
            break
    metrics = evaluate_splits(model, splits)
    if output is not None:
        write_metrics(output, metrics)
    return metrics


def predict_run(
    run: str | Path,
    data: str | Path,
    output: str | Path,
    *,
    attention: str | Path | None = None,
    gtf: str | Path | None = None,
    cell: str | None = None,
) -> tuple[pd.DataFrame, list[Path]]:
    """Per-gene scores of a run's model on ``data`` (a split CSV or a cell folder), written as
    a TSV ``gene_id, score, label[, split]``; with ``attention``, also the model's bin and mark
    attention (TSV, npz and, with ``gtf``, one bedGraph per mark) in that folder.

    ``run`` may name a shipped model (``roadmap``): the TSV then holds ``gene_id, probability,
    log2_rpkm, in_compendium[, label, split]`` and its metadata goes beside it as JSON
    (``predictions.json``); ``cell`` names the Roadmap cell the data is, if it is one."""
    if is_pretrained(run):
        if attention is not None:
            raise InputError(f"{run} is a shipped model without attention; drop --attention")
        table, meta = _load_pretrained(str(run)).predict(data, cell=cell)
        for note in meta["notes"]:
            log.warning(note)
        _, side = write_predictions(table, meta, output)
        return table, [side]
    if cell is not None:
        raise InputError("--cell applies to shipped models (simplechrome models --pretrained)")
    model = _model(run)
    model.require("scores")
    if attention is not None:
        model.require("attention")
    splits = run_splits(run, data)
    frames = [model.predict(part, split=name or None) for name, part in splits.items()]
    table = pd.concat(frames)[
        ["gene_id", "score", "label", *(["split"] if len(frames) > 1 else [])]
    ]
    with atomic_write(output) as fh:
        table.to_csv(fh, sep="\t", index=False, float_format="%.6g")
    written: list[Path] = []
    if attention is not None:
        from .data import read_gtf_tss
        from .interpret import write_attention

        whole = concat(list(splits.values()))
        bins, marks_att = model.attention(whole)
        tss = read_gtf_tss(gtf) if gtf is not None else None
        written = write_attention(attention, whole, bins, marks_att, model.marks, tss=tss)
    return table, written


def embed_run(run: str | Path, data: str | Path | None, output: str | Path) -> dict[str, Any]:
    """Latent means of every gene of ``data``'s splits (default: the run's own), written as
    ``.npz`` with ``gene_ids``, ``split``, ``latent`` and ``label`` (-1: unlabelled)."""
    model = _model(run)
    splits = run_splits(run, data)
    latents = {name: model.embed(part) for name, part in splits.items()}
    arrays = {
        "gene_ids": np.concatenate([d.gene_ids for d in splits.values()]),
        "split": np.concatenate([[n] * d.n_genes for n, d in splits.items()]),
        "latent": np.concatenate(list(latents.values())),
        "label": np.concatenate(
            [d.y if d.y is not None else np.full(d.n_genes, -1) for d in splits.values()]
        ),
    }
    with atomic_write(output, "wb") as fh:
        np.savez(fh, **arrays)
    return arrays


def analyse(run: str | Path) -> list[Path]:
    """Compute a run's analyses (what the report draws) and store them in its directory."""
    return analyse_run(run)


def report(
    results: str | Path | list[str | Path], out: str | Path, *, published: str | Path | None = None
) -> Path:
    """The HTML report of one or more results folders (from stored tables only)."""
    return build_report(results, out, published=published)


def code_versions(results: str | Path | list[str | Path]) -> str | None:
    """A line saying when these results folders' records were made by different code."""
    from .experiments.results import Results, code_versions_note

    folders = results if isinstance(results, (list, tuple)) else [results]
    return code_versions_note([Results(f).table for f in folders])


def verdicts(results: str | Path | list[str | Path]) -> pd.DataFrame:
    """The four papers' claims judged from results folders: one row per claim they hold evidence
    for (paper, claim, verdict, numbers, evidence); see ``experiments.claims`` for the rules."""
    from .experiments import claims
    from .experiments.results import Results

    folders = results if isinstance(results, (list, tuple)) else [results]
    return claims.verdicts([Results(Path(f)) for f in folders])


# -- generators ----------------------------------------------------------------------------------
def gan_sample(
    run: str | Path,
    n: int,
    *,
    classes: tuple[int, ...] = (0, 1),
    level: float | None = None,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Generated genes of a GAN run: ``signals`` (transformed), ``counts`` (mapped back to the
    input scale), ``condition`` and ``marks``. ``n`` genes per class, or ``n`` at ``level``
    (``log2(RPKM + 1)``) for a GAN trained on regression targets."""
    gan = _model(run)
    gan.require("samples")
    if gan.task == "regression":
        if level is None:
            raise InputError("a regression GAN samples at a --level (log2(RPKM + 1))")
        conditions = np.full(n, level, dtype=np.float64)
    else:
        if level is not None:
            raise InputError("--level needs a GAN trained with --task regression; use --class")
        conditions = np.repeat(classes, n)
    signals = gan.generate(conditions, seed=seed)
    return {
        "signals": signals,
        "counts": gan.transform.inverse(signals),
        "condition": conditions,
        "marks": np.array(gan.marks),
    }


def gan_quality(
    run: str | Path,
    data: str | Path | None = None,
    *,
    seed: int = 0,
    output: str | Path | None = None,
    genes: str = "test",
) -> dict[str, Any]:
    """Every quality measure of a GAN run on the test genes of ``data`` (default: the run's
    own), seeded (``interpret.gan``); with ``output``, also written as JSON. ``genes="valid"``
    measures on the validation genes instead: what a design choice may be made on, leaving
    the test genes for the final numbers."""
    import json

    from .interpret.gan import gan_quality as measure

    gan = _model(run)
    gan.require("samples")
    splits = run_splits(run, data)
    if genes not in ("test", "valid"):
        raise InputError(f"genes must be test or valid, not {genes!r}")
    numbers = {**measure(gan, splits["train"], splits[genes], seed=seed).numbers, "genes": genes}
    if output is not None:
        with atomic_write(output) as fh:
            json.dump(numbers, fh, indent=1)
    return numbers


def write_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write arrays as a compressed ``.npz`` (atomically)."""
    with atomic_write(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return Path(path)


def gan_plot(run: str | Path, output: str | Path) -> Path:
    """The HTML page of a GAN run's quality measures and views, drawn from its stored analysis
    tables only: a run without them is refused with the command that computes them (drawing
    fits nothing)."""
    from .report.sections_gan import GAN_TABLES

    gan = _model(run)
    gan.require("samples")
    if read_analysis(run, "gan_quality") is None:
        raise InputError(
            f"{run}: the run has no stored GAN analyses; compute them with "
            f"`simplechrome analyse {run}`, then plot"
        )
    tables = {name: read_analysis(run, name) for name in GAN_TABLES}
    if any(t is None for t in tables.values()):
        raise ModelMismatchError(f"{run}: the run's data has no labelled test genes to compare")
    _, data = read_run_config(run)
    sections = gan_report(tables, title=f"{gan.name} on {data.test_cell}")
    return write_page(output, f"simplechrome GAN: {run}", "", sections)
