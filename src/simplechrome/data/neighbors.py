"""Neighbour genes defined by biology: genomic proximity of TSSs, or co-expression across cells.

Never by gene-id order. Indices are computed for many genes at once (vectorised), over plain
arrays (query IDs, candidate IDs, a TSS table, an expression matrix), so a model can gather
neighbour tensors by index from the in-memory split.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import InputError
from ..ids import eid_in, isin

log = logging.getLogger(__name__)

NeighborBy = Literal["genome", "coexpression", "random"]


def neighbor_rows(
    query: np.ndarray,
    pool_ids: np.ndarray,
    self_rows: np.ndarray,
    k: int,
    *,
    by: NeighborBy = "genome",
    tss: pd.DataFrame | None = None,
    expression: pd.DataFrame | None = None,
    cell: str = "unknown",
    eid: str | None = None,
    seed: int = 0,
) -> np.ndarray:
    """``(n_query, k)`` indices into ``pool_ids`` of each query gene's k neighbours.

    ``self_rows`` is each query gene's own row in the pool (``-1`` when absent): a gene is
    never its own neighbour. Where fewer than k candidates exist (a chromosome with few genes),
    the list is padded by repeating the last neighbour found.

    - ``genome``: the k nearest TSSs on the same chromosome (``tss`` needed).
    - ``coexpression``: the k highest Pearson correlations of log2(RPKM+1) across the cells of
      ``expression`` other than the target cell's own column (its label: always left out).
      The column is the cell's Roadmap EID (``eid``), else a column named exactly as the cell,
      else the EID its name carries (``E012-mine`` -> ``E012``); a cell whose column cannot be
      resolved is refused rather than risk reading its label.
    - ``random``: k random other genes (a control), seeded.
    """
    if k < 1:
        raise InputError(f"k must be at least 1, not {k}")
    if by == "genome":
        return _by_genome(query, pool_ids, self_rows, k, tss)
    if by == "coexpression":
        return _by_coexpression(query, pool_ids, self_rows, k, expression, cell, eid)
    if by == "random":
        return _at_random(len(pool_ids), self_rows, k, seed)
    raise InputError(f"unknown neighbour definition {by!r}: use genome, coexpression or random")


def label_column(cell: str, eid: str | None, expression: pd.DataFrame) -> str | None:
    """The expression column that holds ``cell``'s own expression (its label), or ``None``
    when the cell's EID is known and the matrix has no such column. Refuses a cell whose EID
    cannot be resolved: any column might then be its label."""
    if eid is None and cell in expression.columns:
        return cell  # a column named exactly as the cell (e.g. a synthetic compendium)
    resolved = eid or eid_in(cell)
    if resolved is None:
        raise InputError(
            f"cannot tell which expression column is cell {cell!r}'s own (its label, which must "
            "never choose neighbours): name the cell by its Roadmap EID (load_cell(..., "
            "cell='E012')) or use genome or random neighbours"
        )
    return resolved if resolved in expression.columns else None


def _pad(rows: list[np.ndarray], k: int, self_index: np.ndarray) -> np.ndarray:
    out = np.empty((len(rows), k), dtype=np.int64)
    for i, r in enumerate(rows):
        if r.size == 0:
            r = self_index[i : i + 1]
        out[i, : min(k, r.size)] = r[:k]
        out[i, r.size :] = r[-1]
    return out


def _by_genome(
    query: np.ndarray,
    pool_ids: np.ndarray,
    self_rows: np.ndarray,
    k: int,
    tss: pd.DataFrame | None,
) -> np.ndarray:
    if tss is None:
        raise InputError("genomic neighbours need a TSS table: load the cell with gtf=...")
    missing = ~isin(query, tss.index)
    if missing.any():
        raise InputError("has no TSS in the annotation", gene=str(query[missing][0]))
    q = tss.loc[query]
    known = isin(pool_ids, tss.index)
    cand_rows = np.flatnonzero(known)
    cand = tss.loc[pool_ids[cand_rows]]
    result = np.empty((len(query), k), dtype=np.int64)
    for chrom, q_pos in q.groupby("chrom", sort=False).indices.items():
        on = np.flatnonzero(cand["chrom"].to_numpy() == chrom)
        order = np.argsort(cand["tss"].to_numpy()[on], kind="stable")
        rows = cand_rows[on][order]  # pool rows on this chromosome, by TSS
        pos = cand["tss"].to_numpy()[on][order].astype(np.int64)
        qt = q["tss"].to_numpy()[q_pos].astype(np.int64)
        at = np.searchsorted(pos, qt)
        # the k nearest lie within k+1 places either side of the insertion point
        window = at[:, None] + np.arange(-k - 1, k + 1)[None, :]
        valid = (window >= 0) & (window < len(pos))
        window = np.clip(window, 0, max(len(pos) - 1, 0))
        if len(pos):
            dist = np.abs(pos[window] - qt[:, None]).astype(np.float64)
            wrows = rows[window]
        else:
            dist = np.full(window.shape, np.inf)
            wrows = np.zeros(window.shape, dtype=np.int64)
        valid &= wrows != self_rows[q_pos][:, None]
        dist[~valid] = np.inf
        best = np.argsort(dist, axis=1, kind="stable")
        # window places are distinct pool rows, so the finite ones in distance order are the answer
        chosen = [wrows[i, b[np.isfinite(dist[i, b])]] for i, b in enumerate(best)]
        result[q_pos] = _pad(chosen, k, self_rows[q_pos])
    return result


def _by_coexpression(
    query: np.ndarray,
    pool_ids: np.ndarray,
    self_rows: np.ndarray,
    k: int,
    expr: pd.DataFrame | None,
    cell: str,
    eid: str | None,
) -> np.ndarray:
    if expr is None:
        raise InputError("co-expression neighbours need an expression matrix: expression=...")
    own = label_column(cell, eid, expr)
    others = [c for c in expr.columns if c != own and c != "E000"]
    if len(others) < 3:
        raise InputError("co-expression needs at least 3 other cells in the expression matrix")
    missing = ~isin(query, expr.index)
    if missing.any():
        raise InputError("has no row in the expression matrix", gene=str(query[missing][0]))
    cand_rows = np.flatnonzero(isin(pool_ids, expr.index))
    zq = _zscore(np.log2(expr.loc[query, others].to_numpy(np.float64) + 1.0))
    zp = _zscore(np.log2(expr.loc[pool_ids[cand_rows], others].to_numpy(np.float64) + 1.0))
    take = min(k, max(len(cand_rows) - 1, 1))
    out = []
    for lo in range(0, len(query), 1024):
        corr = zq[lo : lo + 1024] @ zp.T / len(others)
        corr[cand_rows[None, :] == self_rows[lo : lo + 1024, None]] = -np.inf
        top = np.argpartition(-corr, take - 1, axis=1)[:, :take]
        vals = np.take_along_axis(corr, top, axis=1)
        # best first; ties broken by row so the result is deterministic
        order = np.lexsort((cand_rows[top], -vals), axis=1)
        out.extend(cand_rows[np.take_along_axis(top, order, axis=1)])
    return _pad(out, k, self_rows)


def _zscore(m: np.ndarray) -> np.ndarray:
    centred = m - m.mean(axis=1, keepdims=True)
    sd = centred.std(axis=1, keepdims=True)
    return np.divide(centred, sd, out=np.zeros_like(centred), where=sd > 0)


def _at_random(n: int, self_rows: np.ndarray, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if n < 2:
        raise InputError("random neighbours need at least two genes")
    take = min(k, n - 1)
    picks = np.stack([rng.choice(n - 1, size=take, replace=False) for _ in range(len(self_rows))])
    # skip the gene itself: shift draws at or above its own row by one
    picks = picks + (picks >= self_rows[:, None]) * (self_rows[:, None] >= 0)
    return _pad(list(picks), k, self_rows)
