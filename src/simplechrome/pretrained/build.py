"""Building a shipped model from its recipe (``configs/roadmap_model.yaml``),
deterministically: the same recipe and data give the same bytes."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_directory, atomic_write
from .._version import __version__
from ..data import compendium as comp
from ..data.annotation import read_expression
from ..data.cell import load_cell, marks_of
from ..data.histone import HistoneData, concat
from ..data.run_splits import depth_normalised
from ..errors import ConfigError
from ..ids import eid_in, is_eid, isin
from .files import FILES, FORMAT, Compendium, logit, sha256

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a shipped model is made: its training cells, the expression matrix (labels of the
    regression, and the compendium), the marks, the network and its seed."""

    cells: dict[str, str]
    expression: str
    name: str = "roadmap"
    marks: tuple[str, ...] | str = "shared"
    model: str = "pooled_mlp"
    model_params: dict[str, Any] = dataclasses.field(default_factory=dict)
    seed: int = 0
    threads: int = 1
    beta: float = 20.0  # the similarity weighting's sharpness (compendium.similarity_weights)
    calibration: str = "platt"  # "platt" (on the training cells' validation genes) or "none"


def load_recipe(path: str | Path) -> Recipe:
    """A recipe YAML; relative paths are read from the file's folder."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not a readable recipe ({exc})") from None
    known = {f.name for f in dataclasses.fields(Recipe)}
    if not isinstance(raw, dict) or set(raw) - known:
        extra = sorted(set(raw) - known) if isinstance(raw, dict) else raw
        raise ConfigError(f"{path}: unknown recipe keys {extra}")
    base = path.parent

    def where(p: str) -> str:
        return str(p) if Path(p).is_absolute() else str(base / p)

    raw["cells"] = {str(c): where(p) for c, p in raw["cells"].items()}
    raw["expression"] = where(raw["expression"])
    if isinstance(raw.get("marks"), list):
        raw["marks"] = tuple(raw["marks"])
    if raw.get("calibration", "platt") not in ("platt", "none"):
        raise ConfigError(f"{path}: calibration must be platt or none")
    return Recipe(**raw)


def _read_cell(path: str, marks: tuple[str, ...], name: str) -> dict[str, HistoneData]:
    cell = load_cell(path, cell=name if is_eid(name) else None)
    return depth_normalised({k: s.select_marks(marks) for k, s in cell.items()})


def _platt(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of ``sigmoid(a * logit(p) + b)`` fitted to labels ``y`` (maximum likelihood)."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e6, max_iter=1000).fit(logit(p)[:, None], y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def build(recipe: Recipe, out: str | Path, *, leave_out: str | None = None) -> Path:
    """Train the shipped model ``recipe`` describes and write its folder ``out`` (atomically).

    ``leave_out``: a cell of the recipe trained without, and whose expression column is dropped
    from the stored compendium (leave-one-cell-out evaluation of the recipe)."""
    from ..config import TrainConfig
    from ..train import fit

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        # a rebuild replaces an earlier build; any other folder is the user's: left alone
        raise ConfigError(f"{out} exists and is not a shipped model's folder: choose another -o")
    if leave_out is not None and leave_out not in recipe.cells:
        raise ConfigError(f"leave_out: {leave_out} is not a cell of the recipe")
    train_cells = [c for c in recipe.cells if c != leave_out]
    if len(train_cells) < 2:
        raise ConfigError("a shipped model trains on at least 2 cells")
    expression = read_expression(recipe.expression)
    held = {eid_in(leave_out)} - {None} if leave_out else set()
    stored = Compendium.from_rpkm(
        expression, [c for c in expression.columns if c != "E000" and c not in held]
    )
    matrix = stored.rpkm()
    if recipe.marks == "shared":
        found = [marks_of(recipe.cells[c]) for c in train_cells]
        marks = tuple(m for m in found[0] if all(m in f for f in found))
    else:
        marks = tuple(recipe.marks)
    log.info("%s: reading %d cells on %s", recipe.name, len(train_cells), ", ".join(marks))
    cells = {c: _read_cell(recipe.cells[c], marks, c) for c in train_cells}
    own = {c: eid_in(c) for c in train_cells}
    unknown = [c for c in train_cells if own[c] not in expression.columns]
    if unknown:
        raise ConfigError(
            f"cells {unknown}: a shipped model's training cells are Roadmap cells named by their "
            "EID with a column in the expression matrix (their regression targets)"
        )
    wholes = {c: concat(list(parts.values())) for c, parts in cells.items()}
    labelled = {c: [cells[c]["train"], cells[c]["valid"]] for c in train_cells}

    def scorer(cells_used: list[str]) -> comp.HistoneScorer:
        return comp.HistoneScorer(marks).fit(
            [(part, wholes[c]) for c in cells_used for part in labelled[c]]
        )

    # each training cell's channels: a scorer fitted on the other cells' labels (as a study run
    # scores its training cells), its own column out of its compendium
    ready = {}
    for c in train_cells:
        cols = [k for k in stored.columns if k != own[c]]
        parts = {k: cells[c][k] for k in ("train", "valid")}
        ready[c], _ = comp.cell_with_channels(
            parts,
            wholes[c],
            scorer([o for o in train_cells if o != c]),
            matrix,
            cols,
            beta=recipe.beta,
        )
    train = concat([ready[c]["train"] for c in train_cells])
    valid = concat([ready[c]["valid"] for c in train_cells])
    config = TrainConfig(seed=recipe.seed, threads=recipe.threads, progress=False)
    levels = {
        k: concat([_with_levels(ready[c][k], expression[own[c]]) for c in train_cells])
        for k in ("train", "valid")
    }
    trained, calibration = {}, {}
    # the model itself, and a histone-only pair for genes the compendium lacks
    for kind, channels in (("", None), ("histone_", marks)):
        pick = (lambda d: d) if channels is None else (lambda d: d.select_marks(marks))
        log.info("%s: training the %sclassifier on %d genes", recipe.name, kind, train.n_genes)
        classifier = fit(
            recipe.model,
            pick(train),
            pick(valid),
            config=config,
            model_params=recipe.model_params,
        )
        calibration[kind + "classifier"] = {"method": "none", "a": 1.0, "b": 0.0}
        if recipe.calibration == "platt":
            a, b = _platt(valid.y, classifier.predict_scores(pick(valid)))
            calibration[kind + "classifier"] = {"method": "platt", "a": a, "b": b}
        log.info("%s: training the %sregressor", recipe.name, kind)
        trained[kind + "classifier"] = classifier
        trained[kind + "regressor"] = fit(
            recipe.model,
            pick(levels["train"]),
            pick(levels["valid"]),
            config=dataclasses.replace(config, task="regression"),
            model_params=recipe.model_params,
        )
    manifest = {
        "format": FORMAT,
        "name": recipe.name,
        "package_version": __version__,
        "marks": list(marks),
        "n_bins": train.n_bins,
        "bin_size": train.bin_size,
        "genome": "hg19",
        "window": f"TSS +/- {train.n_bins * train.bin_size / 2000:g} kb",
        "normalize": "depth",
        "model": recipe.model,
        "seed": recipe.seed,
        "beta": recipe.beta,
        "training_cells": train_cells,
        "left_out": leave_out,
        "compendium_columns": list(stored.columns),
        "calibration": calibration,
    }
    with atomic_directory(out, overwrite=True) as tmp:
        for name, model in trained.items():
            model.save(tmp / f"{name}.pt")
        with atomic_write(tmp / "scorer.json") as fh:
            json.dump(scorer(train_cells).state(), fh, indent=1)
        stored.write(tmp)
        manifest["sha256"] = {f: sha256(tmp / f) for f in FILES}
        with atomic_write(tmp / "manifest.json") as fh:
            json.dump(manifest, fh, indent=1)
    return out


def _with_levels(data: HistoneData, column: pd.Series) -> HistoneData:
    """``data`` with ``log2(RPKM + 1)`` of its cell (``column``) as ``y``; genes absent from the
    expression matrix dropped."""
    known = isin(data.gene_ids, column.index)
    kept = data.subset(known)
    y = np.log2(column.loc[kept.gene_ids].to_numpy(np.float64) + 1.0).astype(np.float32)
    return kept.replace(y=y, task="regression")
