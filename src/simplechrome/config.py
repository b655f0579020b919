"""Frozen configuration dataclasses with strict loading: an unknown key is an error."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import ConfigError

T = TypeVar("T")
LR_SCHEDULES = ("plateau", "cosine")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How a model is trained.

    ``lr``, ``weight_decay``, ``batch_size``, ``patience``, ``max_epochs``, ``lr_schedule``,
    ``lr_decay``, ``lr_patience`` and ``average`` left at ``None`` take the model's own
    defaults from its registry entry (e.g. 64-gene batches, patience 10 and a halved learning
    rate on a 2-epoch plateau for AttentiveChrome, 1e-2 for linear-12); a run records the
    values it used.
    """

    task: str = "classification"  # or "regression"
    max_epochs: int | None = None  # None: the model's default (60 for most)
    batch_size: int | None = None  # None: the model's default (256 for most)
    lr: float | None = None  # None: the model's default (1e-3 for most)
    weight_decay: float | None = None  # None: the model's default (0 for most)
    patience: int | None = None  # epochs without a better validation score before stopping
    # "plateau": the rate stays, or is multiplied by lr_decay (< 1) on a validation plateau;
    # "cosine": it falls along a half cosine from lr to 0 over max_epochs, step by step
    lr_schedule: str | None = None
    lr_decay: float | None = None  # < 1: multiply the learning rate by this on a plateau
    lr_patience: int | None = None  # epochs without a better validation score before the decay
    # > 0: validate and keep an exponential moving average of the weights with this decay per
    # step (0: the raw weights)
    average: float | None = None
    seed: int = 0
    log1p: bool = True
    standardize: bool = True
    threads: int = 0  # 0: leave torch's default (one per core)
    accelerator: str = "auto"  # "cpu", "gpu" or "auto" (GPU when present)
    progress: bool = True
    kl_weight: float = 1.0  # VAE: weight of the KL term after warm-up
    kl_warmup_epochs: int = 5  # VAE: epochs over which the KL weight rises linearly from 0

    def __post_init__(self) -> None:
        if self.task not in ("classification", "regression"):
            raise ConfigError(f"task must be 'classification' or 'regression', not {self.task!r}")
        for name in ("max_epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name} must be at least 1, not {value}")
        if self.lr_schedule is not None and self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(
                f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, not {self.lr_schedule!r}"
            )
        if self.lr_decay is not None and not 0 < self.lr_decay <= 1:
            raise ConfigError(f"lr_decay must be in (0, 1], not {self.lr_decay!r}")
        if self.weight_decay is not None and (
            not isinstance(self.weight_decay, (int, float)) or self.weight_decay < 0
        ):
            raise ConfigError(f"weight_decay must be a number >= 0, not {self.weight_decay!r}")
        if self.average is not None and not 0 <= self.average < 1:
            raise ConfigError(f"average must be in [0, 1), not {self.average!r}")
        if self.lr_patience is not None and self.lr_patience < 0:
            raise ConfigError(f"lr_patience must be at least 0, not {self.lr_patience}")
        if self.lr is not None and (not isinstance(self.lr, (int, float)) or self.lr <= 0):
            raise ConfigError(f"lr must be a positive number, not {self.lr!r}")
        if self.accelerator not in ("auto", "cpu", "gpu"):
            raise ConfigError(f"accelerator must be auto, cpu or gpu, not {self.accelerator!r}")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What ``simplechrome train`` does: a model with its hyper-parameters and training settings."""

    model: str = "deepchrome"
    model_params: dict[str, Any] = dataclasses.field(default_factory=dict)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RunData:
    """The data block of a run directory: which genes a run read, and how to read them again.

    The same shape whichever verb made the run (``train``, ``experiment``, ``demo``), so that
    ``evaluate``, ``predict``, ``embed`` and ``gan sample`` rebuild a run's splits from the
    run directory alone (``simplechrome.data.load_run_splits``).

    Attributes:
        cells: cell name -> folder, DeepDiff prefix or downloaded EID (or ``synthetic:N:SEED``
            for the package's synthetic cell).
        train_cells: the cells whose train (and valid) splits trained the run.
        test_cell: the cell whose test split scores it.
        task, expression, gtf, split, split_seed: as ``load_cell`` takes them.
        marks: the marks the run read, by name (``None``: the test cell's).
        size: the labelled budget: how many labelled genes the run may read, training and
            early-stopping genes together (``None``: every labelled gene of the splits).
        budget_seed: the seed of the nested budget subset.
        transductive: VAE pretraining also saw the valid and test signals (never labels).
        compendium: add the compendium channels (``data.compendium``): ``self`` leaves out
            the test cell's own column, ``group`` its whole Roadmap group (``epigenomes``, the
            epigenome table, says which); ``None``: histone signals only.
        epigenomes: Roadmap's epigenome table (groups), for ``compendium: group``.
        relatives_above: a study's ceiling: every compendium cell whose log expression
            correlates with the test cell's above it is left out of every cell's compendium
            (reads the test cell's RNA-seq only to take information away; never set for a
            user's prediction). ``None``: no ceiling.
        normalize: ``depth`` divides each cell's every mark by its mean over all the cell's
            genes and bins (unlabelled statistics, as reads-per-million does for sequencing
            depth), so cells sequenced to different depths share one scale; ``none`` keeps the
            files' values.
    """

    cells: dict[str, str] = dataclasses.field(default_factory=dict)
    train_cells: tuple[str, ...] = ()
    test_cell: str = ""
    task: str = "classification"
    expression: str | None = None
    gtf: str | None = None
    split: str = "files"
    split_seed: int = 0
    marks: tuple[str, ...] | None = None
    size: int | None = None
    budget_seed: int = 0
    transductive: bool = False
    compendium: str | None = None
    epigenomes: str | None = None
    normalize: str = "none"
    relatives_above: float | None = None

    def __post_init__(self) -> None:
        if self.normalize not in ("none", "depth"):
            raise ConfigError(f"normalize must be none or depth, not {self.normalize!r}")
        if self.compendium not in (None, "self", "group"):
            raise ConfigError(f"compendium must be self or group, not {self.compendium!r}")
        if self.compendium is not None and self.expression is None:
            raise ConfigError("the compendium needs an expression matrix (expression)")
        if self.compendium == "group" and self.epigenomes is None:
            raise ConfigError("compendium: group needs the epigenome table (epigenomes)")
        if self.relatives_above is not None and self.compendium is None:
            raise ConfigError("relatives_above holds relatives out of a compendium: none is read")

    @classmethod
    def one_cell(cls, path: str, **options: Any) -> RunData:
        """A run trained and tested on one cell's own splits."""
        name = Path(str(path)).name or str(path)
        return cls(cells={name: str(path)}, train_cells=(name,), test_cell=name, **options)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["train_cells"] = list(self.train_cells)
        d["marks"] = None if self.marks is None else list(self.marks)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, where: str = "data") -> RunData:
        """The data block read back; refuses unknown keys (an older run's block names its
        cell as ``path``, which is read as a one-cell run)."""
        data = dict(data or {})
        if "path" in data and "cells" not in data:  # written by simplechrome 0.1's train
            path = data.pop("path")
            return cls.one_cell(path, **{k: v for k, v in data.items() if k in _RUN_DATA_KEYS})
        unknown = sorted(set(data) - _RUN_DATA_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
        if "train_cells" in data:
            data["train_cells"] = tuple(data["train_cells"])
        if data.get("marks") is not None:
            data["marks"] = tuple(data["marks"])
        return cls(**data)


_RUN_DATA_KEYS = {f.name for f in dataclasses.fields(RunData)}


def from_dict(cls: type[T], data: dict[str, Any], *, where: str = "config") -> T:
    """Build dataclass ``cls`` from a mapping, refusing unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
        )
    defaults = cls()  # every config dataclass has a default for each field
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        default = getattr(defaults, name)
        if dataclasses.is_dataclass(default):
            kwargs[name] = from_dict(type(default), value or {}, where=f"{where}.{name}")
        else:
            if default is None:  # an optional field: its annotation says what it holds
                default = _OPTIONAL_SAMPLES.get(str(fields[name].type))
            kwargs[name] = _coerce(value, default, f"{where}.{name}")
    return cls(**kwargs)


# a sample value of each optional field type, for type checks (None itself says nothing)
_OPTIONAL_SAMPLES: dict[str, Any] = {"int | None": 0, "float | None": 0.0, "str | None": ""}


def _coerce(value: Any, default: Any, where: str) -> Any:
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if isinstance(default, dict):
        if isinstance(value, dict):
            return dict(value)
        raise ConfigError(f"{where}: expected a mapping, got {value!r}")
    return value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings (values parsed as YAML scalars) to a nested mapping."""
    out = yaml.safe_load(yaml.safe_dump(data)) or {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {part} is not a section")
        node[parts[-1]] = yaml.safe_load(raw)
    return out


def load_run_config(
    path: str | Path | None = None, overrides: list[str] | None = None
) -> RunConfig:
    """Read a run configuration YAML (strict), then apply ``--set`` overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if overrides:
        data = apply_overrides(data, overrides)
    return from_dict(RunConfig, data, where=str(path) if path else "config")
