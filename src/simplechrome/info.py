"""What a data folder, split file or run directory holds, as lines of text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .data.cell import find_split_files, load_cell
from .data.histone import HistoneData
from .data.prepared_folder import read_manifest
from .data.readers import read_deepchrome_csv
from .errors import InputError


def describe(path: str | Path) -> list[str]:
    """Human-readable summary lines for ``path``."""
    path = Path(path)
    if path.is_dir() and (path / "model.pt").exists():
        return _describe_run(path)
    if path.is_file():
        return [_describe_split(path.name, read_deepchrome_csv(path))]
    fmt, files = find_split_files(path)
    cell = load_cell(path)
    lines = [f"{path}: {fmt} cell {cell['train'].cell}"]
    for name, data in cell.items():
        lines.append("  " + _describe_split(f"{name} ({files[name].name})", data))
    manifest = read_manifest(path)
    if manifest is not None:
        opts = manifest["options"]
        tracks = ", ".join(f"{t['mark']} ({t['format']})" for t in manifest["tracks"])
        lines += [
            f"  prepared by simplechrome {manifest.get('version')} from {tracks}",
            f"  TSS +/- {opts['window']} bp, {opts['order']} bin order, reads: {opts['reads']}, "
            f"signals: {opts['signal']}, split: {opts['split']}, labels: {manifest['labels']}; "
            f"{manifest['genes']['near_chromosome_end']} gene(s) near a chromosome end",
        ]
    return lines


def _describe_split(name: str, data: HistoneData) -> str:
    if data.y is None:
        labels = "unlabelled"
    elif data.task == "classification":
        labels = f"{np.mean(data.y):.1%} labelled high"
    else:
        labels = f"targets {data.y.min():.2f}..{data.y.max():.2f}"
    integer = bool(np.all(data.x == np.round(data.x)))
    return (
        f"{name}: {data.n_genes} genes x {data.n_marks} marks ({', '.join(data.marks)}) x "
        f"{data.n_bins} bins of {data.bin_size} bp; {labels}; values "
        f"{'integer' if integer else 'float'}, max {data.x.max():g}"
    )


def _describe_run(path: Path) -> list[str]:
    from .train import load_run, read_run_config  # torch only when a run is described

    model, _ = load_run(path)
    _, data = read_run_config(path)
    trained_on = "+".join(data.train_cells)
    where = ", ".join(f"{name}: {source}" for name, source in data.cells.items())
    budget = "every labelled gene" if data.size is None else f"{data.size} labelled genes"
    lines = [
        f"{path}: run of model {model.name} ({model.family}, "
        f"{model.n_parameters():,} parameters), {model.task}, marks {', '.join(model.marks)} x "
        f"{model.n_bins} bins",
        f"  data: trained on {trained_on or '?'} ({budget}), tested on {data.test_cell or '?'}"
        f"; {where}",
    ]
    metrics_file = path / "metrics.json"
    if metrics_file.exists():
        try:
            metrics = json.loads(metrics_file.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc})", path=metrics_file) from None
        for split, values in metrics.items():
            shown = ", ".join(
                f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items()
            )
            lines.append(f"  {split}: {shown}")
    return lines
