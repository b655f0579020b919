"""Neighbour genes defined by biology: genomic proximity of TSSs, or co-expression across cells.

Never by gene-id order. Indices are computed for many genes at once (vectorised), so a model can
gather neighbour tensors by index from the in-memory split.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..errors import InputError
from .histone import isin

if TYPE_CHECKING:
    from .histone import HistoneData

log = logging.getLogger(__name__)

NeighborBy = Literal["genome", "coexpression", "random"]


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
    candidates. A gene is never its own neighbour. Where fewer than k candidates exist (a
    chromosome with few genes), the list is padded by repeating the last neighbour found.

    - ``genome``: the k nearest TSSs on the same chromosome (``data.tss`` needed).
    - ``coexpression``: the k highest Pearson correlations of log2(RPKM+1) across the cells of
      ``data.expression`` other than ``data.cell`` (that column is the label: always left out).
    - ``random``: k random other genes (a control), seeded.
    """
    if k < 1:
        raise InputError(f"k must be at least 1, not {k}")
    pool = data if pool is None else pool
    query = np.asarray(data.gene_ids if genes is None else list(genes)).astype(str)
    if by == "genome":
        return _by_genome(data, pool, query, k)
    if by == "coexpression":
        return _by_coexpression(data, pool, query, k)
    if by == "random":
        return _at_random(pool, query, k, seed)
    raise InputError(f"unknown neighbour definition {by!r}: use genome, coexpression or random")


def _pad(rows: list[np.ndarray], k: int, self_index: np.ndarray) -> np.ndarray:
    out = np.empty((len(rows), k), dtype=np.int64)
    for i, r in enumerate(rows):
        if r.size == 0:
            r = self_index[i : i + 1]
        out[i, : min(k, r.size)] = r[:k]
        out[i, r.size :] = r[-1]
    return out


def _self_rows(pool: HistoneData, query: np.ndarray) -> np.ndarray:
    index = pool._index
    return np.array([index.get(g, -1) for g in query.tolist()], dtype=np.int64)


def _by_genome(data: HistoneData, pool: HistoneData, query: np.ndarray, k: int) -> np.ndarray:
    tss = data.tss if data.tss is not None else pool.tss
    if tss is None:
        raise InputError("genomic neighbours need a TSS table: load the cell with gtf=...")
    missing = ~isin(query, tss.index)
    if missing.any():
        raise InputError("has no TSS in the annotation", gene=str(query[missing][0]))
    q = tss.loc[query]
    known = isin(pool.gene_ids, tss.index)
    cand_rows = np.flatnonzero(known)
    cand = tss.loc[pool.gene_ids[cand_rows]]
    self_rows = _self_rows(pool, query)
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


def _by_coexpression(data: HistoneData, pool: HistoneData, query: np.ndarray, k: int) -> np.ndarray:
    expr = data.expression if data.expression is not None else pool.expression
    if expr is None:
        raise InputError("co-expression neighbours need an expression matrix: expression=...")
    others = [c for c in expr.columns if c != data.cell and c != "E000"]
    if data.cell not in expr.columns:
        log.warning("cell %s is not a column of the expression matrix; using all cells", data.cell)
    if len(others) < 3:
        raise InputError("co-expression needs at least 3 other cells in the expression matrix")
    missing = ~isin(query, expr.index)
    if missing.any():
        raise InputError("has no row in the expression matrix", gene=str(query[missing][0]))
    cand_rows = np.flatnonzero(isin(pool.gene_ids, expr.index))
    zq = _zscore(np.log2(expr.loc[query, others].to_numpy(np.float64) + 1.0))
    zp = _zscore(np.log2(expr.loc[pool.gene_ids[cand_rows], others].to_numpy(np.float64) + 1.0))
    self_rows = _self_rows(pool, query)
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


def _at_random(pool: HistoneData, query: np.ndarray, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    self_rows = _self_rows(pool, query)
    n = pool.n_genes
    if n < 2:
        raise InputError("random neighbours need at least two genes")
    take = min(k, n - 1)
    picks = np.stack([rng.choice(n - 1, size=take, replace=False) for _ in range(len(query))])
    # skip the gene itself: shift draws at or above its own row by one
    picks = picks + (picks >= self_rows[:, None]) * (self_rows[:, None] >= 0)
    return _pad(list(picks), k, self_rows)
