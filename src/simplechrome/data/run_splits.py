"""The splits a run read, rebuilt from its data block (``RunData``): the one place that turns
a run's description into its training, early-stopping and test genes."""

from __future__ import annotations

import dataclasses

from ..config import RunData
from ..errors import InputError
from .cell import load_cell
from .histone import HistoneData, concat
from .splits import labelled_budget
from .synthetic import make_synthetic

SYNTHETIC_PREFIX = "synthetic:"


@dataclasses.dataclass(frozen=True)
class RunSplits:
    """A run's genes: ``train`` and ``valid`` (labelled, within the budget), ``test``, and the
    ``unlabelled`` signals a latent model's VAE may pretrain on (never their labels)."""

    train: HistoneData
    valid: HistoneData
    test: HistoneData
    unlabelled: HistoneData

    def as_dict(self) -> dict[str, HistoneData]:
        return {"train": self.train, "valid": self.valid, "test": self.test}


def synthetic_source(n_genes: int, seed: int) -> str:
    """How ``RunData.cells`` names the package's synthetic cell."""
    return f"{SYNTHETIC_PREFIX}{n_genes}:{seed}"


def load_source(path: str, data: RunData) -> dict[str, HistoneData]:
    """One cell of a run: a folder, DeepDiff prefix or EID, or the synthetic cell."""
    if path.startswith(SYNTHETIC_PREFIX):
        try:
            n, seed = (int(v) for v in path[len(SYNTHETIC_PREFIX) :].split(":"))
        except ValueError:
            raise InputError(f"bad synthetic cell {path!r} (expected synthetic:N:SEED)") from None
        return make_synthetic(n, seed=seed, task=data.task).splits  # type: ignore[arg-type]
    return load_cell(
        path,
        task=data.task,  # type: ignore[arg-type]
        expression=data.expression,
        gtf=data.gtf,
        split=data.split,  # type: ignore[arg-type]
        seed=data.split_seed,
    )


def load_run_splits(data: RunData) -> RunSplits:
    """The genes of a run: its training cells' train and valid splits (pooled, on the run's
    marks, within its labelled budget) and its test cell's test split."""
    if not data.cells or not data.train_cells or not data.test_cell:
        raise InputError("the run does not record its data; give the data explicitly")
    unknown = sorted((set(data.train_cells) | {data.test_cell}) - set(data.cells))
    if unknown:
        raise InputError(f"the run names cells {unknown} without their paths")
    needed = dict.fromkeys([*data.train_cells, data.test_cell])
    cells = {name: load_source(data.cells[name], data) for name in needed}
    marks = data.marks or cells[data.test_cell]["test"].marks
    train = concat([cells[c]["train"].select_marks(marks) for c in data.train_cells])
    valid = concat([cells[c]["valid"].select_marks(marks) for c in data.train_cells])
    test = cells[data.test_cell]["test"].select_marks(marks)
    # signals without labels, for models that pretrain a VAE: the whole training split (before
    # the labelled budget); with `transductive`, valid and test signals too
    unlabelled = concat([train, valid, test]) if data.transductive else train
    if data.size is not None:
        train, valid = labelled_budget(train, valid, data.size, seed=data.budget_seed)
    return RunSplits(train=train, valid=valid, test=test, unlabelled=unlabelled)
