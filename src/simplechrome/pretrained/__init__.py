"""Shipped models, ready to use: ``roadmap`` predicts a cell's expression from its own histone
tracks plus the other Roadmap cells' expression of each gene (the compendium).

A shipped model is a folder inside the package (``shipped/<name>/``): ``manifest.json`` (marks,
bins, the compendium's cells, the calibration, a SHA-256 of every file), ``classifier.pt``
(P(expressed above the cell's median)), ``regressor.pt`` (``log2(RPKM + 1)``), the same pair
on the histone marks alone (``histone_*.pt``, for genes the compendium lacks), ``scorer.json``
(the histone scorer that weighs compendium cells by resemblance) and ``compendium.npy``
(``log2(RPKM + 1)`` of every gene in every compendium cell, float16) with ``genes.txt``.

``build`` makes that folder from a recipe (``configs/roadmap_model.yaml``), deterministically:
the same recipe and data give the same bytes. A cell is read exactly as a new-cell-type run of
the relatedness study reads its test cell (``data.compendium.cell_with_channels``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import atomic_write
from ..errors import InputError
from .build import Recipe, build, load_recipe
from .files import FILES, NETWORKS, Compendium, expected_calibration_error
from .model import ShippedModel

SHIPPED = Path(__file__).resolve().parents[1] / "shipped"

__all__ = [
    "FILES",
    "NETWORKS",
    "SHIPPED",
    "Compendium",
    "Recipe",
    "ShippedModel",
    "build",
    "expected_calibration_error",
    "is_pretrained",
    "load_pretrained",
    "load_recipe",
    "manifest",
    "names",
    "write_predictions",
]


def names() -> list[str]:
    """The shipped models' names."""
    if not SHIPPED.is_dir():
        return []
    return sorted(p.name for p in SHIPPED.iterdir() if (p / "manifest.json").is_file())


def manifest(name: str) -> dict[str, Any]:
    """A shipped model's manifest (what it reads, what it was trained on), without loading it."""
    return json.loads((SHIPPED / name / "manifest.json").read_text())


def is_pretrained(name: str | Path) -> bool:
    """Whether ``name`` names a shipped model (and no folder of that name is meant)."""
    return not Path(name).exists() and str(name) in names()


def load_pretrained(name: str = "roadmap") -> ShippedModel:
    """A shipped model by name (``names()`` lists them)."""
    if name not in names():
        raise InputError(f"no shipped model {name!r}; shipped: {', '.join(names()) or 'none'}")
    return ShippedModel(SHIPPED / name)


def write_predictions(table: pd.DataFrame, meta: dict, output: str | Path) -> tuple[Path, Path]:
    """The TSV and its metadata JSON beside it (``predictions.tsv`` -> ``predictions.json``),
    each written atomically."""
    output = Path(output)
    with atomic_write(output) as fh:
        table.to_csv(fh, sep="\t", index=False, float_format="%.6g")
    side = output.with_suffix(".json")
    with atomic_write(side) as fh:
        json.dump(meta, fh, indent=1)
    return output, side
