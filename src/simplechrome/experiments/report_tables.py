"""Every statistic a report shows, computed and stored when a study finishes
(``stored.stored`` keeps each in the results folder; the report then only reads them)."""

from __future__ import annotations

from pathlib import Path

from . import claims, comparisons, results


def store(out: str | Path) -> None:
    """Compute and store every table a report of this results folder shows (called by
    ``experiment`` when a study finishes)."""
    found = results.Results(Path(out))
    if not len(found.predictors):
        return
    for compute in (
        results.per_cell_summary,
        results.paired_differences,
        results.roc_points,
        results.cross_cell_tables,
        results.learning_curves,
        results.params_summary,
        comparisons.neighbour_comparisons,
    ):
        compute(found)
    claims.verdicts([found])
