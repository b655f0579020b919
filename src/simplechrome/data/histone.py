"""``HistoneData``: one cell type, one split, in the one layout the package uses.

``HistoneData`` is immutable: methods return new objects (``subset``, ``with_marks``,
``replace``), so a split shared by several users (a cached load, a test fixture) never changes
under them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InputError, ModelMismatchError
from ..ids import isin, normalise_gene_id
from .neighbors import NeighborBy, neighbor_rows

DEEPCHROME_MARKS: tuple[str, ...] = ("H3K27me3", "H3K36me3", "H3K4me1", "H3K4me3", "H3K9me3")


@dataclasses.dataclass(frozen=True, eq=False)
class HistoneData:
    """Histone signals of the genes of one cell type and split.

    Attributes:
        x: float32 ``(n_genes, n_marks, n_bins)``, channels first as ``torch.nn.Conv1d`` wants.
        y: int64 labels (classification), float32 targets (regression) or ``None`` (unlabelled).
        gene_ids: ``(n_genes,)`` strings, Ensembl ``ENSG...`` once mapped.
        marks: mark names in channel order.
        cell: the cell type (a Roadmap EID such as ``E012``, or a free name).
        bin_size: base pairs per bin.
        tss: optional TSS table (gene_id, chrom, tss, strand) for genomic neighbours.
        expression: optional expression matrix (genes x cells) for co-expression neighbours.
        pool: optional whole-cell ``HistoneData`` that neighbours are drawn from (signals only).
        eid: the Roadmap EID of the cell when known (resolved from its name, manifest or an
            explicit ``cell=``): the expression column that is this cell's label.
    """

    x: np.ndarray
    y: np.ndarray | None
    gene_ids: np.ndarray
    marks: tuple[str, ...]
    cell: str = "unknown"
    bin_size: int = 100
    task: Literal["classification", "regression"] = "classification"
    tss: pd.DataFrame | None = None
    expression: pd.DataFrame | None = None
    pool: HistoneData | None = None  # the whole cell's genes: where neighbours are drawn from
    eid: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # normalising the fields of a frozen instance, once
        set_(self, "x", np.asarray(self.x, dtype=np.float32))
        if self.x.ndim != 3:
            raise ValueError(f"x must be (genes, marks, bins), got shape {self.x.shape}")
        set_(self, "gene_ids", np.asarray(self.gene_ids).astype(str))
        set_(self, "marks", tuple(self.marks))
        n = self.x.shape[0]
        if self.gene_ids.shape != (n,):
            raise ValueError(f"{len(self.gene_ids)} gene ids for {n} genes")
        if len(self.marks) != self.x.shape[1]:
            raise ValueError(f"{len(self.marks)} mark names for {self.x.shape[1]} marks")
        if self.y is not None:
            dtype = np.int64 if self.task == "classification" else np.float32
            set_(self, "y", np.asarray(self.y, dtype=dtype))
            if self.y.shape != (n,):
                raise ValueError(f"y has shape {self.y.shape}, expected ({n},)")
        # frozen all the way down: the arrays are read-only views (the caller's own arrays
        # stay writable); `replace(x=...)` makes a new instance instead
        for name in ("x", "y", "gene_ids"):
            value = getattr(self, name)
            if value is not None and value.flags.writeable:
                view = value.view()
                view.flags.writeable = False
                set_(self, name, view)

    # -- shape ---------------------------------------------------------------------------
    @property
    def n_genes(self) -> int:
        return self.x.shape[0]

    @property
    def n_marks(self) -> int:
        return self.x.shape[1]

    @property
    def n_bins(self) -> int:
        return self.x.shape[2]

    def __len__(self) -> int:
        return self.n_genes

    def __repr__(self) -> str:
        labels = "unlabelled" if self.y is None else self.task
        return (
            f"HistoneData(cell={self.cell!r}, genes={self.n_genes}, marks={list(self.marks)}, "
            f"bins={self.n_bins}, bin_size={self.bin_size}, {labels})"
        )

    # -- lookup --------------------------------------------------------------------------
    @cached_property
    def _index(self) -> dict[str, int]:
        return {g: i for i, g in enumerate(self.gene_ids.tolist())}

    def rows_of(self, gene_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        """Rows of ``gene_ids`` (already normalised), ``-1`` for genes not in this split."""
        index = self._index
        return np.array([index.get(g, -1) for g in np.asarray(gene_ids).tolist()], dtype=np.int64)

    def index_of(self, gene_id: str) -> int:
        """Row of ``gene_id`` (``ENSG...``, a bare number, or with a version suffix)."""
        key = normalise_gene_id(gene_id)
        try:
            return self._index[key]
        except KeyError:
            raise InputError(f"not in {self.cell} ({self.n_genes} genes)", gene=key) from None

    def get_gene_data(self, gene_id: str) -> tuple[np.ndarray, int | float | None]:
        """One gene's ``(marks, bins)`` matrix and its label (``None`` when unlabelled)."""
        i = self.index_of(gene_id)
        label = None if self.y is None else self.y[i].item()
        return self.x[i], label

    def get_neighbors_data(
        self, gene_id: str, k: int, by: NeighborBy = "genome", *, pool: HistoneData | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``(k, marks, bins)`` matrices of the k neighbour genes of ``gene_id``, and their ids.

        ``by="genome"``: nearest TSSs on the same chromosome (needs ``tss``).
        ``by="coexpression"``: highest correlation of expression across the other cells (needs
        ``expression`` and the cell's EID; this cell's own column is always left out, it is the
        label). Neighbours are drawn from ``pool`` (default: this split).
        """
        pool = self if pool is None else pool
        self.index_of(gene_id)  # a clear error for an unknown gene
        idx = neighbor_indices(self, k, by=by, genes=[normalise_gene_id(gene_id)], pool=pool)[0]
        return pool.x[idx], pool.gene_ids[idx]

    # -- derived data --------------------------------------------------------------------
    def replace(self, **changes: Any) -> HistoneData:
        """A copy with ``changes`` (``dataclasses.replace``; this object is left as it is)."""
        return dataclasses.replace(self, **changes)

    def subset(self, rows: np.ndarray | slice) -> HistoneData:
        """The genes at ``rows`` (indices, a boolean mask or a slice), sharing annotations."""
        return dataclasses.replace(
            self,
            x=self.x[rows],
            y=None if self.y is None else self.y[rows],
            gene_ids=self.gene_ids[rows],
        )

    def with_marks(self, marks: tuple[str, ...] | list[str]) -> HistoneData:
        """The same genes with channels in the order of ``marks``.

        Marks are matched by name; data lacking one of them, or holding others, is refused.
        """
        marks = tuple(marks)
        if marks == self.marks:
            return self
        if sorted(marks) != sorted(self.marks):
            raise ModelMismatchError(
                f"data of {self.cell} has marks {list(self.marks)}, expected {list(marks)}"
            )
        return self.select_marks(marks)

    def select_marks(self, marks: tuple[str, ...] | list[str]) -> HistoneData:
        """The same genes with only ``marks`` (in that order); every one must be present."""
        marks = tuple(marks)
        if marks == self.marks:
            return self
        missing = [m for m in marks if m not in self.marks]
        if missing:
            raise ModelMismatchError(
                f"data of {self.cell} has marks {list(self.marks)}, lacking {missing}"
            )
        order = [self.marks.index(m) for m in marks]
        return dataclasses.replace(self, x=np.ascontiguousarray(self.x[:, order]), marks=marks)


def concat(parts: list[HistoneData]) -> HistoneData:
    """Genes of several ``HistoneData`` of one cell, in order (marks must agree)."""
    first = parts[0]
    parts = [p.with_marks(first.marks) for p in parts]
    ys = [p.y for p in parts]
    y = None if any(v is None for v in ys) else np.concatenate(ys)  # type: ignore[arg-type]
    return dataclasses.replace(
        first,
        x=np.concatenate([p.x for p in parts]),
        y=y,
        gene_ids=np.concatenate([p.gene_ids for p in parts]),
    )


def neighbor_indices(
    data: HistoneData,
    k: int,
    *,
    by: NeighborBy = "genome",
    genes: Sequence[str] | None = None,
    pool: HistoneData | None = None,
    seed: int = 0,
) -> np.ndarray:
    """``(n_query, k)`` row indices into ``pool`` of each query gene's k neighbours.

    Query genes default to every gene of ``data``; ``pool`` (default ``data``) supplies the
    candidates. See ``simplechrome.data.neighbors.neighbor_rows`` for the definitions.
    """
    pool = data if pool is None else pool
    query = np.asarray(data.gene_ids if genes is None else list(genes)).astype(str)
    return neighbor_rows(
        query,
        pool.gene_ids,
        pool.rows_of(query),
        k,
        by=by,
        tss=data.tss if data.tss is not None else pool.tss,
        expression=data.expression if data.expression is not None else pool.expression,
        cell=data.cell,
        eid=data.eid,
        seed=seed,
    )


__all__ = [
    "DEEPCHROME_MARKS",
    "HistoneData",
    "concat",
    "isin",
    "neighbor_indices",
    "normalise_gene_id",
]
