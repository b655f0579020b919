"""Expand an ``ExperimentSpec`` into its runs."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data.annotation import read_expression
from ..errors import ConfigError
from ..ids import eid_in
from .spec import ExperimentSpec, RunSpec, Source


def plan(spec: ExperimentSpec) -> list[RunSpec]:
    """Every run of the experiment, in a stable order (cells, sources, models, sizes, seeds)."""
    train_cfg = dataclasses.replace(spec.train, threads=spec.threads_per_run, progress=False)
    paths = {c: spec.path_of(c) for c in spec.cells}
    runs: list[RunSpec] = []

    def add(train_cells: tuple[str, ...], test: str, source: str, seed: int, size, model) -> None:
        needed = sorted(set(train_cells) | {test})
        runs.append(
            RunSpec(
                experiment=spec.name,
                kind=spec.kind,
                model=model,
                train_cells=train_cells,
                test_cell=test,
                source=source,
                seed=seed,
                size=size,
                train=dataclasses.replace(train_cfg, seed=seed, **model.train),
                cell_paths=tuple((c, paths[c]) for c in needed),
                transductive=spec.transductive,
                gtf=spec.gtf,
                expression=spec.expression,
            )
        )

    if spec.kind in ("grid", "learning_curve"):
        for cell in spec.cells:
            for model in spec.models:
                for size in spec.sizes:
                    for seed in spec.seeds:
                        add((cell,), cell, "same", seed, size, model)
        return runs

    correlations = _expression_correlations(spec) if spec.expression else None
    targets = spec.targets or tuple(spec.cells)
    for target in targets:
        others = [c for c in spec.cells if c != target]
        for source in spec.sources:
            for seed in spec.seeds:
                for train_cells, tag in _sources_for(source, target, others, seed, correlations):
                    for model in spec.models:
                        for size in spec.sizes:
                            add(train_cells, target, tag, seed, size, model)
    return runs


def _sources_for(
    source: Source, target: str, others: list[str], seed: int, correlations: dict | None
) -> list[tuple[tuple[str, ...], str]]:
    if source.how == "same":
        return [((target,), "same")]
    if source.how == "each":
        return [((c,), "each") for c in others]
    if source.how == "all_others":
        return [(tuple(others), "all_others")] if others else []
    if source.how == "list":
        chosen = tuple(c for c in source.cells if c != target)
        return [(chosen, "list")] if chosen else []
    k = min(source.k, len(others))
    if k == 0:
        return []
    if source.how == "random":
        # seeded by the run's seed and the target, so each target gets its own draw
        rng = np.random.default_rng([seed, sum(map(ord, target))])
        picked = sorted(rng.choice(len(others), size=k, replace=False))
        return [(tuple(others[i] for i in picked), f"random{k}")]
    # most_correlated
    assert correlations is not None
    ranked = sorted(others, key=lambda c: -correlations[target].get(c, -np.inf))
    return [(tuple(ranked[:k]), f"most_correlated{k}")]


def _expression_correlations(spec: ExperimentSpec) -> dict[str, dict[str, float]]:
    """Pearson r of log2(RPKM+1) across genes between every pair of the spec's cells."""
    expr = read_expression(spec.expression)  # type: ignore[arg-type]
    eids = {c: eid_in(c) for c in spec.cells}
    missing = [c for c, e in eids.items() if e is None or e not in expr.columns]
    if missing:
        raise ConfigError(
            f"most_correlated: cell(s) {missing} have no EID column in {spec.expression}"
        )
    logged = np.log2(expr[[eids[c] for c in spec.cells]].to_numpy() + 1.0)
    r = np.corrcoef(logged.T)
    names = list(spec.cells)
    return {a: {b: float(r[i, j]) for j, b in enumerate(names)} for i, a in enumerate(names)}
