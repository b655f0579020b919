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

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_directory, atomic_write
from ._version import __version__
from .data import compendium as comp
from .data.annotation import read_expression
from .data.cell import load_cell, marks_of
from .data.histone import HistoneData, concat
from .data.run_splits import depth_normalised
from .errors import ConfigError, InputError, ModelMismatchError
from .ids import eid_in, is_eid, isin

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).parent / "shipped"
FORMAT = 1
NETWORKS = ("classifier", "regressor", "histone_classifier", "histone_regressor")
FILES = (*(f"{n}.pt" for n in NETWORKS), "scorer.json", "compendium.npy", "genes.txt")
# an input whose genes are mostly absent from the compendium is refused below this share
MIN_IN_COMPENDIUM = 0.5


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


# -- the recipe --------------------------------------------------------------------------------
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


# -- the compendium as stored ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Compendium:
    """``log2(RPKM + 1)`` of ``genes`` x ``columns`` (float16, as shipped)."""

    genes: np.ndarray
    columns: tuple[str, ...]
    log: np.ndarray

    @classmethod
    def from_rpkm(cls, expression: pd.DataFrame, columns: list[str]) -> Compendium:
        logs = np.log2(expression[columns].to_numpy(np.float64) + 1.0).astype(np.float16)
        return cls(expression.index.to_numpy(str), tuple(columns), logs)

    def rpkm(self) -> pd.DataFrame:
        """The matrix as the compendium functions read it (RPKM: ``2**log - 1``, so that their
        ``log2(RPKM + 1)`` gives back the stored values)."""
        values = np.exp2(self.log.astype(np.float64)) - 1.0
        return pd.DataFrame(values, index=self.genes, columns=list(self.columns))

    def write(self, folder: Path) -> None:
        with atomic_write(folder / "compendium.npy", "wb") as fh:
            np.save(fh, self.log, allow_pickle=False)
        with atomic_write(folder / "genes.txt") as fh:
            fh.write("\n".join(self.genes) + "\n")

    @classmethod
    def read(cls, folder: Path, columns: list[str]) -> Compendium:
        logs = np.load(folder / "compendium.npy", allow_pickle=False)
        genes = np.array((folder / "genes.txt").read_text().split())
        return cls(genes, tuple(columns), logs)


# -- building --------------------------------------------------------------------------------------
def _read_cell(path: str, marks: tuple[str, ...], name: str) -> dict[str, HistoneData]:
    cell = load_cell(path, cell=name if is_eid(name) else None)
    return depth_normalised({k: s.select_marks(marks) for k, s in cell.items()})


def _platt(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """``(a, b)`` of ``sigmoid(a * logit(p) + b)`` fitted to labels ``y`` (maximum likelihood)."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(p)[:, None], y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def build(recipe: Recipe, out: str | Path, *, leave_out: str | None = None) -> Path:
    """Train the shipped model ``recipe`` describes and write its folder ``out`` (atomically).

    ``leave_out``: a cell of the recipe trained without, and whose expression column is dropped
    from the stored compendium (leave-one-cell-out evaluation of the recipe)."""
    from .config import TrainConfig
    from .train import fit

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
        "window": "TSS +/- 5 kb",
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
        manifest["sha256"] = {f: _sha256(tmp / f) for f in FILES}
        with atomic_write(tmp / "manifest.json") as fh:
            json.dump(manifest, fh, indent=1)
    return Path(out)


def _with_levels(data: HistoneData, column: pd.Series) -> HistoneData:
    """``data`` with ``log2(RPKM + 1)`` of its cell (``column``) as ``y``; genes absent from the
    expression matrix dropped."""
    known = isin(data.gene_ids, column.index)
    kept = data.subset(known)
    y = np.log2(column.loc[kept.gene_ids].to_numpy(np.float64) + 1.0).astype(np.float32)
    return kept.replace(y=y, task="regression")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- using ----------------------------------------------------------------------------------------
class ShippedModel:
    """A shipped model, loaded: ``predict`` a cell folder (or ``HistoneData``), ``evaluate`` one
    that carries labels."""

    def __init__(self, folder: str | Path) -> None:
        from .train import TrainedModel

        self.folder = Path(folder)
        try:
            self.manifest = json.loads((self.folder / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"not a shipped model ({exc})", path=self.folder) from None
        for name, digest in self.manifest["sha256"].items():
            if _sha256(self.folder / name) != digest:
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
        """Every gene of a cell folder (prepared, or DeepChrome format), in one block; which
        split each gene came from is ``self.split_of`` (a gene ID -> split mapping)."""
        splits = load_cell(path, cell=cell)
        whole = concat(list(splits.values()))
        self.split_of = {g: name for name, part in splits.items() for g in part.gene_ids}
        return whole

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
        p = _sigmoid(cal["a"] * _logit(raw) + cal["b"])
        return p, self.networks[kind + "regressor"].predict_scores(x).astype(np.float64)

    def predict(
        self, data: HistoneData | str | Path, *, cell: str | None = None
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Per gene: ``probability`` (calibrated P(expressed above the cell's median)),
        ``log2_rpkm`` (predicted ``log2(RPKM + 1)``), ``in_compendium`` (0: a gene the
        compendium lacks, predicted by the histone-only pair from its histone signals alone)
        and ``label`` when the data has one; and the run's metadata."""
        self.split_of: dict[str, str] = {}
        if not isinstance(data, HistoneData):
            data = self.read(data, cell=cell)
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
        if self.split_of:
            table["split"] = [self.split_of.get(g, "") for g in x.gene_ids]
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
        from .train.metrics import classification_metrics

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


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over ``bins`` equal-width probability bins,
    weighted by the bins' gene counts."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(y[inside].mean() - p[inside].mean())
    return float(total / len(y))


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
