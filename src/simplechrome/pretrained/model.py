"""A shipped model in use: any cell folder in, per-gene probabilities and levels out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._version import __version__
from ..data import compendium as comp
from ..data.cell import load_cell
from ..data.histone import HistoneData, concat
from ..data.run_splits import depth_normalised
from ..errors import InputError, ModelMismatchError
from ..ids import eid_in, isin
from .files import NETWORKS, Compendium, expected_calibration_error, logit, sha256, sigmoid

# an input whose genes are mostly absent from the compendium is refused below this share
MIN_IN_COMPENDIUM = 0.5


def _whole_cell(path: str | Path, cell: str | None) -> tuple[HistoneData, dict[str, str]]:
    """Every gene of a cell folder in one block, and the split each gene came from."""
    splits = load_cell(path, cell=cell)
    split_of = {g: name for name, part in splits.items() for g in part.gene_ids}
    return concat(list(splits.values())), split_of


class ShippedModel:
    """A shipped model, loaded: ``predict`` a cell folder (or ``HistoneData``), ``evaluate`` one
    that carries labels."""

    def __init__(self, folder: str | Path) -> None:
        from ..train import TrainedModel

        self.folder = Path(folder)
        try:
            self.manifest = json.loads((self.folder / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"not a shipped model ({exc})", path=self.folder) from None
        for name, digest in self.manifest["sha256"].items():
            if sha256(self.folder / name) != digest:
                raise InputError(f"{name} does not match its checksum", path=self.folder)
        self.name = self.manifest["name"]
        self.marks = tuple(self.manifest["marks"])
        self.networks = {n: TrainedModel.load(self.folder / f"{n}.pt") for n in NETWORKS}
        self.scorer = comp.HistoneScorer.from_state(
            json.loads((self.folder / "scorer.json").read_text())
        )
        stored = Compendium.read(self.folder, self.manifest["compendium_columns"])
        self.columns = stored.columns
        self.matrix = stored.rpkm()

    def __repr__(self) -> str:
        return (
            f"ShippedModel({self.name!r}: {'+'.join(self.marks)}, trained on "
            f"{len(self.manifest['training_cells'])} cells, {len(self.columns)} compendium cells)"
        )

    # -- inputs
    def read(self, path: str | Path, *, cell: str | None = None) -> HistoneData:
        """Every gene of a cell folder (prepared, or DeepChrome format), in one block."""
        return _whole_cell(path, cell)[0]

    def inputs(self, data: HistoneData, *, cell: str | None = None) -> tuple[HistoneData, dict]:
        """``data`` as the model reads it (its marks, depth-normalised, the compendium channels)
        and what was done (``info``: notes, the compendium cells used and their weights)."""
        notes: list[str] = []
        missing = [m for m in self.marks if m not in data.marks]
        if missing:
            raise ModelMismatchError(
                f"{data.cell}: mark(s) {', '.join(missing)} missing; the {self.name} model reads "
                f"{', '.join(self.marks)} (it has {', '.join(data.marks)})"
            )
        extra = [m for m in data.marks if m not in self.marks]
        if extra:
            notes.append(
                f"marks {', '.join(extra)} ignored: the model reads {', '.join(self.marks)}"
            )
        if data.n_bins != self.manifest["n_bins"]:
            raise ModelMismatchError(
                f"{data.cell}: {data.n_bins} bins per gene; the {self.name} model reads "
                f"{self.manifest['n_bins']} bins of {self.manifest['bin_size']} bp "
                f"({self.manifest['window']})"
            )
        data = depth_normalised({"": data.select_marks(self.marks)})[""]
        in_comp = isin(data.gene_ids, self.matrix.index)
        if in_comp.mean() < MIN_IN_COMPENDIUM:
            raise InputError(
                f"{data.cell}: only {int(in_comp.sum())} of {data.n_genes} genes are in the "
                f"compendium ({len(self.matrix)} Roadmap protein-coding genes, Ensembl IDs): "
                "are these Ensembl gene IDs of hg19 genes?"
            )
        own = cell or data.eid or eid_in(data.cell)
        if own is not None and own in self.columns:
            cols = [c for c in self.columns if c != own]
            notes.append(f"{data.cell} is Roadmap cell {own}: its own column is left out")
        else:
            cols = list(self.columns)
            notes.append(
                f"{data.cell} is taken as a new cell type (all {len(cols)} compendium cells "
                "used); name a Roadmap cell by its EID (--cell E012) to leave its column out"
            )
        parts, weights = comp.cell_with_channels(
            {"": data}, data, self.scorer, self.matrix, cols, beta=self.manifest["beta"]
        )
        order = np.argsort(-weights)
        info = {
            "notes": notes,
            "in_compendium": in_comp,
            "own_column": own if own in self.columns else None,
            "weights": {cols[i]: float(weights[i]) for i in order},
        }
        return parts[""], info

    # -- outputs
    def outputs(self, x: HistoneData, *, histone_only: bool = False) -> tuple[np.ndarray, ...]:
        """Calibrated probabilities and predicted levels of genes read by ``inputs`` (with
        ``histone_only``, of their histone marks alone, by the histone-only pair)."""
        kind = "histone_" if histone_only else ""
        cal = self.manifest["calibration"][kind + "classifier"]
        raw = self.networks[kind + "classifier"].predict_scores(x)
        p = sigmoid(cal["a"] * logit(raw) + cal["b"])
        return p, self.networks[kind + "regressor"].predict_scores(x).astype(np.float64)

    def predict(
        self, data: HistoneData | str | Path, *, cell: str | None = None
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Per gene: ``probability`` (calibrated P(expressed above the cell's median)),
        ``log2_rpkm`` (predicted ``log2(RPKM + 1)``), ``in_compendium`` (0: a gene the
        compendium lacks, predicted by the histone-only pair from its histone signals alone)
        and ``label`` when the data has one; and the run's metadata."""
        split_of: dict[str, str] = {}
        if not isinstance(data, HistoneData):
            data, split_of = _whole_cell(data, cell)
        x, info = self.inputs(data, cell=cell)
        p, level = self.outputs(x)
        missing = ~info["in_compendium"]
        if missing.any():  # the compendium channels mean nothing there: histone signals alone
            alone = x.subset(missing).select_marks(self.marks)
            p[missing], level[missing] = self.outputs(alone, histone_only=True)
        table = pd.DataFrame(
            {
                "gene_id": x.gene_ids,
                "probability": p,
                "log2_rpkm": level,
                "in_compendium": info["in_compendium"].astype(int),
            }
        )
        if x.y is not None:
            table["label"] = x.y
        if split_of:
            table["split"] = [split_of.get(g, "") for g in x.gene_ids]
        top = list(info["weights"].items())
        meta = {
            "model": self.name,
            "package_version": __version__,
            "cell": data.cell,
            "new_cell_type": info["own_column"] is None,
            "own_column_left_out": info["own_column"],
            "marks": list(self.marks),
            "n_genes": int(x.n_genes),
            "n_not_in_compendium": int((~info["in_compendium"]).sum()),
            "nearest_compendium_cell": top[0][0],
            "nearest_weight": top[0][1],
            "top_compendium_cells": dict(top[:5]),
            "notes": info["notes"],
        }
        return table, meta

    def evaluate(
        self, data: HistoneData | str | Path, *, cell: str | None = None
    ) -> dict[str, dict[str, Any]]:
        """Per split of ``data`` (and ``all``): AUROC, AUPRC, accuracy and the expected
        calibration error of the probabilities on its labelled genes."""
        from ..train.metrics import classification_metrics

        table, meta = self.predict(data, cell=cell)
        if "label" not in table:
            raise InputError(f"{meta['cell']}: no labels to evaluate against (unlabelled cell)")
        groups = {"all": table}
        if "split" in table:
            groups |= {str(k): g for k, g in table.groupby("split", sort=False)}
        out = {}
        for name, g in groups.items():
            y, p = g["label"].to_numpy(), g["probability"].to_numpy()
            out[name] = classification_metrics(y, p) | {"ece": expected_calibration_error(y, p)}
        return out
