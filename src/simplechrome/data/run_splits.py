"""The splits a run read, rebuilt from its data block (``RunData``): the one place that turns
a run's description into its training, early-stopping and test genes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..config import RunData
from ..errors import InputError, ModelMismatchError
from . import compendium as comp
from .annotation import read_expression
from .cell import load_cell
from .histone import HistoneData, concat
from .neighbors import label_column
from .readers import read_deepchrome_csv
from .splits import budget_indices
from .synthetic import make_synthetic

SYNTHETIC_PREFIX = "synthetic:"
Cell = dict[str, HistoneData]


@dataclasses.dataclass(frozen=True)
class RunSplits:
    """A run's genes: ``train`` and ``valid`` (labelled, within the budget), ``test``, and the
    ``unlabelled`` signals a latent model's VAE may pretrain on (never their labels), with
    ``unlabelled_valid``, the signals its pretraining early-stops on: the whole validation split
    before the labelled budget, so one VAE serves every budget of a learning curve."""

    train: HistoneData
    valid: HistoneData
    test: HistoneData
    unlabelled: HistoneData
    unlabelled_valid: HistoneData | None = None
    transductive: bool = False  # `unlabelled` holds the valid and test signals too

    @property
    def n_unlabelled(self) -> int:
        """Genes whose signals (never labels) a VAE reads: fitted on, or early-stopped on."""
        seen = self.unlabelled.n_genes
        if self.unlabelled_valid is not None and not self.transductive:
            seen += self.unlabelled_valid.n_genes
        return seen

    def as_dict(self) -> dict[str, HistoneData]:
        return {"train": self.train, "valid": self.valid, "test": self.test}


def synthetic_source(n_genes: int, seed: int) -> str:
    """How ``RunData.cells`` names the package's synthetic cell."""
    return f"{SYNTHETIC_PREFIX}{n_genes}:{seed}"


def load_source(path: str, data: RunData) -> Cell:
    """One cell of a run: a folder, DeepDiff prefix or EID, or the synthetic cell."""
    if path.startswith(SYNTHETIC_PREFIX):
        try:
            n, seed = (int(v) for v in path[len(SYNTHETIC_PREFIX) :].split(":"))
        except ValueError:
            raise InputError(f"bad synthetic cell {path!r} (expected synthetic:N:SEED)") from None
        return make_synthetic(n, seed=seed, task=data.task).splits  # type: ignore[arg-type]
    if Path(path).is_file():  # one split's CSV: scored as a test split
        return {"test": read_deepchrome_csv(path)}
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
    marks, within its labelled budget) and its test cell's test split; with ``compendium``,
    every gene also carries the compendium channels (``data.compendium``).

    The one place that turns a ``RunData`` into model inputs: ``make_run``, every run of an
    experiment that reuses another run's model, and ``evaluate``/``predict``/``embed`` on
    another cell (``cell_inputs``) all read their genes through it."""
    cells, rows = _built_cells(data)
    train = concat([cells[c]["train"] for c in data.train_cells])
    valid = concat([cells[c]["valid"] for c in data.train_cells])
    test = cells[data.test_cell]["test"]
    # signals without labels, for models that pretrain a VAE: the whole training split (before
    # the labelled budget); with `transductive`, valid and test signals too
    unlabelled = concat([train, valid, test]) if data.transductive else train
    unlabelled_valid = valid
    if rows is not None:
        train, valid = train.subset(rows[0]), valid.subset(rows[1])
    return RunSplits(
        train=train,
        valid=valid,
        test=test,
        unlabelled=unlabelled,
        unlabelled_valid=unlabelled_valid,
        transductive=bool(data.transductive),
    )


def cell_inputs(data: RunData, path: str, *, marks: tuple[str, ...], name: str = "") -> Cell:
    """Every split of another cell (``path``), read as the run described by ``data`` reads its
    own test cell: the trained model's ``marks``, the run's normalisation and, with a
    compendium, the channels built against the run's training cells. The cell takes the place
    of the run's test cell, so its own expression column (when it is a Roadmap cell) is left
    out of every compendium, as a new-cell-type run's target's is."""
    name = name or Path(str(path)).name or "other"
    while name in data.train_cells:  # the cell must not stand for one of the training cells
        name = f"{name}~"
    other = dataclasses.replace(
        data,
        cells={**data.cells, name: str(path)},
        test_cell=name,
        marks=tuple(marks),
        # a relatives ceiling is an evaluation device of studies (it reads the target's
        # RNA-seq): a model used on another cell never applies it
        relatives_above=None,
        # a run directory from before runs recorded their cells: the cell alone
        train_cells=data.train_cells or (name,),
    )
    cells, _ = _built_cells(other, test_only=other.compendium is None)
    return cells[name]


def _built_cells(
    data: RunData, *, test_only: bool = False
) -> tuple[dict[str, Cell], tuple[np.ndarray, np.ndarray] | None]:
    """The run's cells as its models read them (marks, normalisation, the target's column left
    out, compendium channels) and the rows of its labelled budget (``None``: every gene).
    ``test_only``: the test cell alone (all that scoring it needs when no compendium is built
    from the training cells)."""
    if not data.cells or not data.train_cells or not data.test_cell:
        raise InputError("the run does not record its data; give the data explicitly")
    unknown = sorted((set(data.train_cells) | {data.test_cell}) - set(data.cells))
    if unknown:
        raise InputError(f"the run names cells {unknown} without their paths")
    needed = dict.fromkeys([data.test_cell] if test_only else [*data.train_cells, data.test_cell])
    cells = {name: load_source(data.cells[name], data) for name in needed}
    marks = comp.histone_marks(data.marks or cells[data.test_cell]["test"].marks)
    try:
        cells = {n: {k: s.select_marks(marks) for k, s in c.items()} for n, c in cells.items()}
    except ModelMismatchError as exc:
        raise ModelMismatchError(f"{exc}: the run was trained on {list(marks)}") from None
    if data.normalize == "depth":
        cells = {n: depth_normalised(c) for n, c in cells.items()}
    if data.test_cell not in data.train_cells:
        cells = _without_target_column(cells, data.test_cell)
    rows = None
    if data.size is not None and not test_only:
        n_train = sum(cells[c]["train"].n_genes for c in data.train_cells)
        n_valid = sum(cells[c]["valid"].n_genes for c in data.train_cells)
        rows = budget_indices(n_train, n_valid, data.size, seed=data.budget_seed)
    if data.compendium is not None:
        cells = attach_compendium(cells, data, rows)
    return cells, rows


def depth_normalised(cell: Cell) -> Cell:
    """A cell with each mark divided by its mean over all the cell's genes and bins (every
    split: unlabelled statistics), so that cells of different sequencing depths share a scale."""
    whole = concat(list(cell.values()))
    scale = whole.x.mean(axis=(0, 2), dtype=np.float64)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)[None, :, None]
    return {k: s.replace(x=s.x / scale) for k, s in cell.items()}


def _without_target_column(cells: dict[str, Cell], target: str) -> dict[str, Cell]:
    """Every cell's expression matrix without the target cell's own column: a new-cell-type run
    never reads the target's RNA-seq, not even to choose co-expression neighbours."""
    test = cells[target]["test"]
    if test.expression is None:
        return cells
    column = label_column(test.cell, test.eid, test.expression)
    if column is None:
        return cells
    matrix = test.expression.drop(columns=[column])

    def strip(part: HistoneData) -> HistoneData:
        pool = None if part.pool is None else part.pool.replace(expression=matrix)
        return part.replace(expression=matrix, pool=pool)

    return {n: {k: strip(s) for k, s in c.items()} for n, c in cells.items()}


def attach_compendium(
    cells: dict[str, Cell], data: RunData, rows: tuple[np.ndarray, np.ndarray] | None
) -> dict[str, Cell]:
    """Every split of every cell with the compendium channels added.

    The test cell's own column is left out of every cell's compendium (and with ``group`` its
    whole group), so that the features mean the same thing in training and test genes. The
    similarity scorer of each cell reads only labels the run may read: the labelled genes of
    the run (within its budget, ``rows``) from the other cells, or, in a run on one cell, that
    cell's own labelled training genes.
    """
    expression = read_expression(data.expression)  # type: ignore[arg-type]
    target = cells[data.test_cell]["test"]
    # the label columns: a cell whose column cannot be told is refused (it might be read)
    own_column = {
        name: label_column(c["test"].cell, c["test"].eid, expression) for name, c in cells.items()
    }
    target_column = own_column[data.test_cell]
    groups = comp.group_table(data.epigenomes) if data.compendium == "group" else None
    held_out = {target_column} - {None}
    if data.relatives_above is not None:
        if target_column is None:
            raise InputError(
                f"relatives_above: cell {data.test_cell!r} has no column in the expression "
                "matrix, so its relatives cannot be told"
            )
        held_out |= comp.relatives(expression, target_column, data.relatives_above)
    marks = comp.histone_marks(target.marks)
    # the run's labelled genes, with the cell each came from
    origin = np.concatenate(
        [
            np.full(cells[c][s].n_genes, i)
            for s in ("train", "valid")
            for i, c in enumerate(data.train_cells)
        ]  # fmt: skip
    )
    labelled = concat([cells[c][s] for s in ("train", "valid") for c in data.train_cells])
    if rows is not None:
        n_train = sum(cells[c]["train"].n_genes for c in data.train_cells)
        keep = np.concatenate([rows[0], n_train + rows[1]])
        labelled, origin = labelled.subset(keep), origin[keep]
    wholes = {name: concat(list(c.values())) for name, c in cells.items()}
    out: dict[str, Cell] = {}
    for name, cell in cells.items():
        others = [i for i, c in enumerate(data.train_cells) if c != name]
        pick = np.isin(origin, others) if others else np.ones(len(origin), bool)
        reference = labelled.subset(pick)
        scorer = comp.HistoneScorer(marks).fit(_by_cell(reference, origin[pick], wholes, data))
        cols = comp.columns(
            expression,
            own=own_column[name],
            exclude=held_out,
            groups=groups,
            group_of=(target.eid or target_column) if groups is not None else None,
        )
        out[name], _ = comp.cell_with_channels(cell, wholes[name], scorer, expression, cols)
    return out


def _by_cell(
    genes: HistoneData, origin: np.ndarray, wholes: dict[str, HistoneData], data: RunData
) -> list[tuple[HistoneData, HistoneData]]:
    """``(labelled genes of one cell, that whole cell)`` pairs, for per-cell standardising."""
    return [
        (genes.subset(origin == i), wholes[c])
        for i, c in enumerate(data.train_cells)
        if (origin == i).any()
    ]


def nearest_relative_r(data: RunData) -> float | None:
    """Pearson r (log expression over all genes) between the test cell and its closest
    relative left in the run's compendium (its own column, its group with ``group``, and the
    cells above ``relatives_above`` removed); ``None`` without an expression matrix or when
    the test cell has no column there. Reads the test cell's RNA-seq to describe the run (how
    close a relative it could lean on), never as an input."""
    if data.expression is None or data.test_cell not in data.cells:
        return None
    from ..ids import eid_in

    expression = read_expression(data.expression)
    column = eid_in(data.test_cell) or eid_in(Path(data.cells[data.test_cell]).name)
    if column is None or column not in expression.columns:
        return None
    r = comp.relative_correlations(expression, column)
    if data.compendium == "group" and data.epigenomes is not None:
        groups = comp.group_table(data.epigenomes)
        r = r[[groups.get(c) != groups.get(column) for c in r.index]]
    if data.relatives_above is not None:
        r = r[r <= data.relatives_above]
    return float(r.iloc[0]) if len(r) else None
