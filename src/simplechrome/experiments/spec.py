"""Experiment specs: strict YAML -> frozen dataclasses -> a flat list of runs.

Kinds:

- ``grid``: cells x models x seeds x labelled budgets (``sizes``), each cell trained and tested
  on itself (the *within cell* protocol).
- ``learning_curve``: a grid whose point is the budgets (the report draws curves).
- ``cross_cell``: for each target cell, train on other cells and test on the target's test split
  (the *new cell type* protocol: the target's labels are never read). Training sources: ``same``
  (the target itself, the within-cell baseline), ``each`` (every other single cell: the train x
  test matrix), ``all_others`` (pooled), ``most_similar: k`` (the k cells whose histone signals
  over the training genes resemble the target's most: no RNA-seq involved), ``random: k``
  (seeded) and ``list: [...]``. A model trained on one source is trained once and scored on
  every target that source serves.

``sizes`` are labelled budgets: how many labelled genes a run may read, training and
early-stopping genes together (``data.budget_indices``). ``marks: [...]`` trains every run on
those marks, ``marks: shared`` on the marks every cell has. ``compendium: true`` on a model adds
the compendium channels (``data.compendium``; ``compendium_exclude: self | group``, default
``self``); the ``prior`` model always reads them. ``relatives_above: [none, 0.9, 0.85]`` runs
every compendium model once per ceiling, each time holding out of every compendium the cells
whose expression correlates with the target's above it (a harder evaluation: it reads the
target's RNA-seq only to take information away). Every record stores ``nearest_relative_r``,
the closest relative left in its compendium.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..config import TrainConfig, from_dict
from ..errors import ConfigError
from ..ids import is_eid

KINDS = ("grid", "learning_curve", "cross_cell")
SOURCES = ("same", "each", "all_others", "most_similar", "random", "list")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    label: str = ""  # how tables call it (default: the registry name)
    train: dict[str, Any] = dataclasses.field(default_factory=dict)  # overrides the spec's train
    compendium: bool = False  # read the compendium channels too (always, for `prior`)

    @property
    def tag(self) -> str:
        return self.label or self.name


@dataclasses.dataclass(frozen=True)
class Source:
    """How one cross-cell training set is chosen for a target."""

    how: str
    k: int = 0
    cells: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ExperimentSpec:
    name: str
    kind: str
    cells: dict[str, str]  # name -> cell folder (or a downloaded EID)
    models: tuple[ModelSpec, ...]
    seeds: tuple[int, ...] = (0,)
    sizes: tuple[int | None, ...] = (None,)  # None: every training gene
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    targets: tuple[str, ...] = ()  # cross_cell: default every cell
    sources: tuple[Source, ...] = ()
    expression: str | None = None  # Roadmap RPKM matrix: compendium, co-expression neighbours
    gtf: str | None = None  # GENCODE GTF: genomic neighbours
    marks: tuple[str, ...] | str | None = None  # the marks every run reads, or "shared"
    compendium_exclude: str = "self"  # or "group": leave the target's whole group out
    relatives_above: tuple[float | None, ...] = (None,)  # ceilings: one run per compendium model
    normalize: str = "none"  # or "depth": each cell's marks on one scale (see RunData)
    epigenomes: str | None = None  # Roadmap's epigenome table: groups
    published: str | None = None  # folder of published result tables, for the report
    threads_per_run: int = 1
    gpus_per_run: float = 0.0  # what each Ray task asks the cluster for
    transductive: bool = False  # VAE pretraining may also see valid/test signals (never labels)
    base_dir: str = "."  # relative paths in the spec are read from the spec's folder

    def path_of(self, cell: str) -> str:
        raw = self.cells[cell]
        if is_eid(raw) or Path(raw).is_absolute():
            return raw
        return str(Path(self.base_dir) / raw)


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One training run of an experiment: everything it needs, nothing else."""

    experiment: str
    kind: str
    model: ModelSpec
    train_cells: tuple[str, ...]
    test_cell: str
    source: str  # same / each / all_others / ... ; "same" for grids
    seed: int
    size: int | None
    train: TrainConfig
    cell_paths: tuple[tuple[str, str], ...]  # (name, path) of every cell this run reads
    transductive: bool = False
    gtf: str | None = None
    expression: str | None = None
    marks: tuple[str, ...] | None = None
    compendium: str | None = None  # None, "self" or "group"
    epigenomes: str | None = None
    normalize: str = "none"
    relatives_above: float | None = None  # compendium cells above this r with the target: out
    fingerprint: str = ""  # hash of everything that determines the run (set by the runner)

    @property
    def training_key(self) -> str:
        """What determines the trained model: runs that share it train once. A run that reads
        the expression matrix (a compendium, co-expression neighbours) leaves the test cell's
        column out of every cell's matrix, so its training inputs depend on the test cell,
        which then joins the key: a model trained beside the target's RNA-seq column is never
        scored on that target. So does a transductive run (its VAE pretrains on the test
        cell's signals)."""
        return json.dumps(
            [
                dataclasses.asdict(self.model),
                self.train_cells,
                self.seed,
                self.size,
                dataclasses.asdict(self.train),
                self.transductive,
                self.marks,
                self.compendium,
                self.relatives_above,
                self.normalize,
                self.test_cell if self.compendium or self.expression or self.transductive else None,
                [dict(self.cell_paths)[c] for c in self.train_cells],
            ],
            sort_keys=True,
            default=str,
        )

    @property
    def run_id(self) -> str:
        size = "all" if self.size is None else str(self.size)
        train = "+".join(self.train_cells)
        base = (
            f"{self.model.tag}__{train}__to__{self.test_cell}__{self.source}__n{size}__s{self.seed}"
        )
        if self.transductive:
            base += "__transductive"
        if self.compendium == "group":
            base += "__compendium-group"
        if self.relatives_above is not None:
            base += f"__relatives-above-{self.relatives_above:g}"
        base = re.sub(r"[^A-Za-z0-9_.+-]", "-", base)
        if len(base) > 150:  # long pooled lists: keep it a valid file name, still unique
            digest = hashlib.sha1(base.encode()).hexdigest()[:10]
            base = f"{base[:120]}__{digest}"
        return base

    def to_record(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "kind": self.kind,
            "run_id": self.run_id,
            "model": self.model.tag,
            "model_name": self.model.name,
            "model_params": json.dumps(self.model.params, sort_keys=True),
            "train_cells": "+".join(self.train_cells),
            "test_cell": self.test_cell,
            "source": self.source,
            "seed": self.seed,
            "size": -1 if self.size is None else self.size,
            "transductive": self.transductive,
            "compendium": self.compendium or "",
            "marks": "+".join(self.marks or ()),
            "relatives_above": self.relatives_above,
            "fingerprint": self.fingerprint,
        }


def load_spec(path: str | Path) -> ExperimentSpec:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    return parse_spec(data, where=str(path), base_dir=str(path.parent.resolve()))


_KEYS = {
    "name",
    "kind",
    "cells",
    "models",
    "seeds",
    "sizes",
    "train",
    "targets",
    "sources",
    "expression",
    "published",
    "threads_per_run",
    "gpus_per_run",
    "transductive",
    "gtf",
    "marks",
    "compendium_exclude",
    "epigenomes",
    "normalize",
    "relatives_above",
}


def parse_spec(data: Any, *, where: str = "spec", base_dir: str = ".") -> ExperimentSpec:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping at the top")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}"
        )
    kind = data.get("kind", "grid")
    if kind not in KINDS:
        raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    cells = data.get("cells")
    if isinstance(cells, list):
        cells = {str(c): str(c) for c in cells}
    if not isinstance(cells, dict) or not cells:
        raise ConfigError(
            f"{where}: cells must name at least one cell (name: folder, or a list of EIDs)"
        )
    models = tuple(
        _model(m, f"{where}.models[{i}]") for i, m in enumerate(data.get("models") or [])
    )
    if not models:
        raise ConfigError(f"{where}: models must list at least one model")
    tags = [m.tag for m in models]
    if len(set(tags)) != len(tags):
        raise ConfigError(f"{where}: two models share a label; give them distinct `label`s")
    seeds = tuple(int(s) for s in _list(data.get("seeds", [0]), f"{where}.seeds"))
    sizes = tuple(
        None if s in ("all", None) else _positive(s, f"{where}.sizes")
        for s in _list(data.get("sizes", ["all"]), f"{where}.sizes")
    )
    train = from_dict(
        TrainConfig, dict(data.get("train") or {}, progress=False), where=f"{where}.train"
    )
    targets = tuple(str(t) for t in _list(data.get("targets", []), f"{where}.targets"))
    for t in targets:
        if t not in cells:
            raise ConfigError(f"{where}.targets: {t!r} is not one of the cells")
    sources = tuple(
        _source(s, cells, f"{where}.sources")
        for s in _list(data.get("sources", []), f"{where}.sources")
    )
    if kind == "cross_cell" and not sources:
        raise ConfigError(f"{where}: a cross_cell experiment needs sources (e.g. [same, each])")
    if kind != "cross_cell" and (sources or targets):
        raise ConfigError(f"{where}: sources and targets belong to cross_cell experiments")
    if kind == "learning_curve" and all(s is None for s in sizes):
        raise ConfigError(f"{where}: a learning curve needs sizes, e.g. [100, 1000, all]")
    needs_matrix = [m.tag for m in models if m.compendium] or [
        m.tag for m in models if _reads_compendium(m.name)
    ]
    if needs_matrix and not data.get("expression"):
        raise ConfigError(f"{where}: {needs_matrix[0]} reads the compendium: give `expression`")
    exclude = str(data.get("compendium_exclude", "self"))
    if exclude not in ("self", "group"):
        raise ConfigError(f"{where}.compendium_exclude: self or group, not {exclude!r}")
    if exclude == "group" and not data.get("epigenomes"):
        raise ConfigError(f"{where}: compendium_exclude: group needs `epigenomes` (the table)")
    ceilings = tuple(
        None if c in (None, "none") else _ceiling(c, f"{where}.relatives_above")
        for c in _list(data.get("relatives_above", [None]), f"{where}.relatives_above")
    )
    if any(c is not None for c in ceilings) and not needs_matrix:
        raise ConfigError(f"{where}.relatives_above: no model reads the compendium")
    marks = data.get("marks")
    if marks is not None and marks != "shared":
        marks = tuple(str(m) for m in _list(marks, f"{where}.marks"))
    threads = data.get("threads_per_run", 1)
    if not isinstance(threads, int) or threads < 1:
        raise ConfigError(f"{where}.threads_per_run: a positive integer, not {threads!r}")
    gpus = data.get("gpus_per_run", 0)
    if isinstance(gpus, bool) or not isinstance(gpus, (int, float)) or gpus < 0:
        raise ConfigError(f"{where}.gpus_per_run: a number >= 0, not {gpus!r}")
    return ExperimentSpec(
        name=str(data.get("name") or Path(where).stem),
        kind=kind,
        cells={str(k): str(v) for k, v in cells.items()},
        models=models,
        seeds=seeds,
        sizes=sizes,
        train=train,
        targets=targets,
        sources=sources,
        expression=_rel(data.get("expression"), base_dir),
        gtf=_rel(data.get("gtf"), base_dir),
        published=_rel(data.get("published"), base_dir),
        threads_per_run=threads,
        gpus_per_run=float(gpus),
        transductive=bool(data.get("transductive", False)),
        marks=marks,
        compendium_exclude=exclude,
        relatives_above=ceilings,
        normalize=_normalize(data.get("normalize", "none"), where),
        epigenomes=_rel(data.get("epigenomes"), base_dir),
        base_dir=base_dir,
    )


def _ceiling(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 < value < 1:
        raise ConfigError(f"{where}: a correlation between -1 and 1, or none, not {value!r}")
    return float(value)


def _normalize(value: Any, where: str) -> str:
    if value not in ("none", "depth"):
        raise ConfigError(f"{where}.normalize: none or depth, not {value!r}")
    return str(value)


def _reads_compendium(name: str) -> bool:
    from .. import models

    return models.get(name).inputs == "compendium"


def _rel(value: Any, base_dir: str) -> str | None:
    if value is None:
        return None
    p = Path(str(value))
    return str(p if p.is_absolute() else Path(base_dir) / p)


def _list(value: Any, where: str) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (int, str)):
        return [value]
    raise ConfigError(f"{where}: expected a list, got {value!r}")


def _positive(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where}: sizes are positive integers or 'all', not {value!r}")
    return value


def _model(item: Any, where: str) -> ModelSpec:
    from .. import models

    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a model name or a mapping")
    known = {"name", "params", "label", "train", "compendium"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    name = str(item.get("name", ""))
    models.get(name)  # unknown models fail here, before any run
    params = dict(item.get("params") or {})
    models.create(name, n_marks=5, n_bins=100, **params)  # and so do unknown parameters
    train = dict(item.get("train") or {})
    fixed = sorted(set(train) & {"seed", "threads", "progress", "task"})
    if fixed:
        raise ConfigError(f"{where}.train: {', '.join(fixed)} are set for the whole experiment")
    from_dict(TrainConfig, train, where=f"{where}.train")  # unknown keys and bad values fail
    compendium = item.get("compendium", False)
    if not isinstance(compendium, bool):
        raise ConfigError(f"{where}.compendium: true or false, not {compendium!r}")
    return ModelSpec(
        name=name,
        params=params,
        label=str(item.get("label") or ""),
        train=train,
        compendium=compendium or models.get(name).inputs == "compendium",
    )


def _source(item: Any, cells: dict, where: str) -> Source:
    if isinstance(item, str):
        if item not in ("same", "each", "all_others"):
            raise ConfigError(
                f"{where}: {item!r} needs a value (e.g. most_similar: 2) or is unknown; "
                f"sources: {', '.join(SOURCES)}"
            )
        return Source(item)
    if isinstance(item, dict) and len(item) == 1:
        ((how, value),) = item.items()
        if how == "most_correlated":
            raise ConfigError(
                f"{where}: most_correlated chose training cells with the target's own RNA-seq, "
                "i.e. its labels; use most_similar (histone signals on the training genes)"
            )
        if how in ("most_similar", "random"):
            return Source(how, k=_positive(value, f"{where}.{how}"))
        if how == "list":
            names = tuple(str(c) for c in _list(value, f"{where}.list"))
            missing = [c for c in names if c not in cells]
            if missing:
                raise ConfigError(f"{where}.list: {missing} are not among the cells")
            return Source("list", cells=names)
    raise ConfigError(f"{where}: unknown source {item!r}; sources: {', '.join(SOURCES)}")
