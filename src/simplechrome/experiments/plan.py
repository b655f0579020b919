"""Expand an ``ExperimentSpec`` into its runs."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data.cell import load_cell, marks_of
from ..errors import ConfigError, InputError
from .spec import ExperimentSpec, RunSpec, Source


def plan(spec: ExperimentSpec) -> list[RunSpec]:
    """Every run of the experiment, in a stable order (cells, sources, models, sizes, seeds)."""
    train_cfg = dataclasses.replace(spec.train, threads=spec.threads_per_run, progress=False)
    paths = {c: spec.path_of(c) for c in spec.cells}
    marks = shared_marks(paths) if spec.marks == "shared" else spec.marks
    runs: list[RunSpec] = []
    known: dict[str, tuple[str, ...]] = {}  # each cell's marks, read once

    def add(train_cells: tuple[str, ...], test: str, source: str, seed: int, size, model) -> None:
        needed = sorted(set(train_cells) | {test})
        for ceiling in spec.relatives_above if model.compendium else (None,):
            runs.append(_run(train_cells, test, source, seed, size, model, needed, ceiling))

    def _run(train_cells, test, source, seed, size, model, needed, ceiling) -> RunSpec:
        # without `marks`, a cross-cell run reads the marks its test cell shares with its
        # training cells, and names them: runs that share a model (training_key) then read
        # the same marks as each would trained alone
        run_marks = marks
        if run_marks is None and spec.kind == "cross_cell":
            run_marks = _common_marks([paths[c] for c in (test, *train_cells)], known)
        return RunSpec(
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
            marks=run_marks,  # type: ignore[arg-type]
            compendium=spec.compendium_exclude if model.compendium else None,
            epigenomes=spec.epigenomes,
            normalize=spec.normalize,
            relatives_above=ceiling,
        )

    if spec.kind in ("grid", "learning_curve"):
        for cell in spec.cells:
            for model in spec.models:
                for size in spec.sizes:
                    for seed in spec.seeds:
                        add((cell,), cell, "same", seed, size, model)
        return runs

    similar = (
        histone_similarity(paths, marks)  # type: ignore[arg-type]
        if any(s.how == "most_similar" for s in spec.sources)
        else None
    )
    targets = spec.targets or tuple(spec.cells)
    for target in targets:
        others = [c for c in spec.cells if c != target]
        for source in spec.sources:
            for seed in spec.seeds:
                for train_cells, tag in _sources_for(source, target, others, seed, similar):
                    for model in spec.models:
                        for size in spec.sizes:
                            add(train_cells, target, tag, seed, size, model)
    return runs


def _common_marks(paths: list[str], known: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    """The first cell's marks that every cell holds (``None`` where a cell's marks are only
    known once it is loaded: a synthetic or downloaded cell). ``known``: marks read so far."""
    try:
        found = [known[p] if p in known else known.setdefault(p, marks_of(p)) for p in paths]
    except (InputError, OSError):
        return None
    common = tuple(m for m in found[0] if all(m in f for f in found[1:]))
    return common or None


def shared_marks(paths: dict[str, str]) -> tuple[str, ...]:
    """The marks every cell holds, in the first cell's order."""
    found = {c: marks_of(p) for c, p in paths.items()}
    first = next(iter(found.values()))
    common = tuple(m for m in first if all(m in ms for ms in found.values()))
    if not common:
        raise ConfigError(f"marks: shared: the cells share no mark ({found})")
    return common


def _sources_for(
    source: Source, target: str, others: list[str], seed: int, similar: dict | None
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
    # most_similar
    assert similar is not None
    ranked = sorted(others, key=lambda c: (-similar[target][c], c))
    return [(tuple(ranked[:k]), f"most_similar{k}")]


def histone_similarity(
    paths: dict[str, str], marks: tuple[str, ...] | None
) -> dict[str, dict[str, float]]:
    """How alike two cells' histone signals are, without any RNA-seq: over the training genes
    both cells hold, Pearson r of each gene's ``log1p`` mean signal per mark (each mark
    standardised within its cell), the marks concatenated. Labels are never read."""
    marks = marks or shared_marks(paths)
    levels = {}
    for cell, path in paths.items():
        train = load_cell(path)["train"].select_marks(marks)
        f = np.log1p(train.x.mean(axis=2))  # (genes, marks)
        f = (f - f.mean(0)) / np.where(f.std(0) > 0, f.std(0), 1.0)
        levels[cell] = dict(zip(train.gene_ids.tolist(), f, strict=True))
    out: dict[str, dict[str, float]] = {c: {} for c in paths}
    for a in paths:
        for b in paths:
            common = sorted(set(levels[a]) & set(levels[b]))
            if a == b or len(common) < 10:
                out[a][b] = 1.0 if a == b else -np.inf
                continue
            va = np.stack([levels[a][g] for g in common]).ravel()
            vb = np.stack([levels[b][g] for g in common]).ravel()
            out[a][b] = float(np.corrcoef(va, vb)[0, 1])
    return out
