"""``simplechrome report``: results folders -> one self-contained HTML page.

The page is built from stored tables only: run records, predictions and each run's analysis
tables (read through ``experiments.results``). Nothing here trains, fits or optimises.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..experiments import claims
from ..experiments import results as res
from ..experiments.results import Results, fmt
from .html import Section, write_page
from .plots import (
    figure_png,
    plot_heatmap,
    plot_interval_bars,
    plot_learning_curves,
    plot_params_vs_score,
    plot_relatedness,
    plot_roc,
)
from .sections_gan import gan_sections
from .sections_interpret import interpretation_section
from .sections_latent import neighbors_section, vae_section


def build_report(
    results: str | Path | list[str | Path],
    out: str | Path,
    *,
    published: str | Path | None = None,
) -> Path:
    """Write the HTML report of one results folder, or of several on one page (e.g. an
    architecture grid and a cross-cell experiment).

    ``published``: folder of published per-cell tables (default: each spec's).
    """
    folders = [Path(r) for r in results] if isinstance(results, (list, tuple)) else [Path(results)]
    all_found = [Results(folder) for folder in folders]
    names, intros, sections = [], [], []
    verdict_section = verdicts_section(all_found)
    if verdict_section is not None:
        sections.append(verdict_section)
    for found in all_found:
        parts = experiment_sections(found, published)
        if len(folders) > 1:
            for s in parts:
                s.title = f"{found.name}: {s.title}"
        names.append(found.name)
        intros.append(_intro(found))
        sections += parts
    return write_page(out, f"simplechrome report: {' + '.join(names)}", " ".join(intros), sections)


def verdicts_section(found: list[Results]) -> Section | None:
    """First on the page: each published claim these results hold evidence for, judged."""
    table = claims.verdicts(found)
    if table.empty:
        return None
    return Section(
        "Verdicts on the published claims",
        "Each claim these results can judge, by the rules fixed in advance "
        "(simplechrome.experiments.claims): 'better' needs the paired difference's 95% interval "
        f"above 0 on every cell; 'as good as' needs it within +/-{claims.MARGIN} AUROC.",
        tables=[("Claims", table)],
    )


def _intro(found: Results) -> str:
    t = found.table
    return (
        f"{len(t)} runs of experiment '{found.name}' ({found.spec.get('kind', 'grid')}): models "
        f"{', '.join(dict.fromkeys(t['model']))}; test cells "
        f"{', '.join(dict.fromkeys(t['test_cell']))}; seeds "
        f"{', '.join(map(str, sorted(t['seed'].unique())))}. Every number is a mean over "
        f"seeds. {res.INTERVAL_NOTE}"
    ) + (f" Note: {note}." if (note := res.code_versions_note([t])) else "")


def experiment_sections(found: Results, published: str | Path | None = None) -> list[Section]:
    """Every section one results folder calls for, in page order."""
    published = published or found.spec.get("published")
    sections: list[Section | None] = []
    if len(found.predictors):
        auroc = found.metric == "test_auroc"
        sections += [
            per_cell_section(found, published),
            paired_section(found) if auroc else None,
            roc_section(found) if auroc else None,
            cross_cell_section(found),
            learning_section(found),
            params_section(found),
            neighbors_section(found),
            relatedness_section(found),
            vae_section(found),
            interpretation_section(found),
        ]
    sections += gan_sections(found)
    return [s for s in sections if s is not None]


def relatedness_section(found: Results) -> Section | None:
    """Runs with a relatives ceiling: AUROC against the nearest relative left (records only)."""
    t = found.predictors
    if "nearest_relative_r" not in t or "relatives_above" not in t:
        return None
    t = t[(t["source"] == "all_others") & t["relatives_above"].notna()]
    if t.empty:
        return None
    every = found.predictors[(found.predictors["source"] == "all_others")
                             & found.predictors["test_cell"].isin(t["test_cell"])]  # fmt: skip
    points = (
        every.groupby(["test_cell", "model", "relatives_above"], dropna=False, sort=False)
        .agg(auroc=("test_auroc", "mean"), r=("nearest_relative_r", "first"))
        .reset_index()
        .rename(columns={"test_cell": "cell", "r": "nearest r"})
    )
    points = points[points["model"].isin(t["model"])]
    return Section(
        "New cell type by relatedness: AUROC against the nearest relative left",
        "Each compendium model run once per relatives ceiling (every compendium cell whose log "
        "expression correlates with the target's above it held out); x: the closest relative "
        "left. Means over seeds; intervals and verdicts: tools/relatedness_table.py and the "
        "verdicts section.",
        tables=[("Mean test AUROC per cell, model and ceiling", points)],
        images=[("relatedness", figure_png(plot_relatedness(points)))],
    )


def per_cell_section(found: Results, published) -> Section | None:
    summary = res.per_cell_summary(found)
    if summary.empty:
        return None
    metric = found.metric
    column = metric.replace("test_", "test ")
    shown = summary.assign(**{column: summary.apply(fmt, axis=1)}).rename(
        columns={"test_cell": "cell"}
    )[["cell", "model", column, "n_seeds"]]
    home = res.home_runs(found.predictors)
    cells = list(dict.fromkeys(home["test_cell"]))
    zenodo = bool((home.get("data_source") == "zenodo").all()) if "data_source" in home else False
    pub = res.load_published(published, cells, zenodo) if metric == "test_auroc" else None
    bars = summary.rename(columns={"test_cell": "cell"})
    ax = plot_interval_bars(bars, published=pub, ylabel=metric.replace("_", " "))
    section = Section(
        "Per cell: mean over seeds with 95% interval",
        "Bars: this project's runs (trained and tested on the cell's own splits). Hollow bars: "
        "published values for the same Roadmap cell where one exists; unless the data is the "
        "Zenodo set they come from different preprocessing and are not directly comparable.",
        tables=[("Test score per cell and model", shown)],
        images=[("per-cell bars", figure_png(ax))],
    )
    if pub is not None and not pub.empty:
        section.tables.append(("Published values for these cells", pub))
    return section


def paired_section(found: Results) -> Section | None:
    table = res.paired_differences(found)
    if table.empty:
        return None
    reference = table["minus"].iloc[0]
    shown = table.assign(
        **{
            "AUROC difference": table["difference"].map("{:+.4f}".format),
            "95% interval": [
                f"[{lo:+.4f}, {hi:+.4f}]"
                for lo, hi in zip(table["low"], table["high"], strict=True)
            ],
            "p (bootstrap)": table["p"].map("{:.3f}".format),
        }
    )[["cell", "labelled genes", "model", "minus", "AUROC difference", "95% interval",
       "p (bootstrap)", "seeds"]]  # fmt: skip
    return Section(
        f"Paired comparisons against {reference} on the same genes",
        "Difference of AUROC averaged over seeds; interval from 2,000 bootstrap resamples of the "
        "test genes, the same resample for both models.",
        tables=[("Model minus reference", shown)],
    )


def roc_section(found: Results) -> Section | None:
    images, rows = [], []
    for cell, seed, curves in res.roc_points(found):
        ax = plot_roc(curves)
        ax.set_title(f"{cell} (seed {seed})")
        images.append((f"ROC curves {cell}", figure_png(ax)))
        for model, part in curves.groupby("model", sort=False):
            rows.append({"cell": cell, "seed": seed, "model": model,
                         "test AUROC": f"{part['auroc'].iloc[0]:.4f}"})  # fmt: skip
    if not images:
        return None
    return Section(
        "ROC curves (test split, first seed)",
        tables=[("The curves' test AUROC", pd.DataFrame(rows))],
        images=images,
    )


def cross_cell_section(found: Results) -> Section | None:
    parts = res.cross_cell_tables(found)
    if not parts:
        return None
    images, tables = [], []
    label = found.metric.replace("_", " ")
    for model, matrix, rows in parts:
        ax = plot_heatmap(matrix, label=label)
        ax.set_title(f"{model}: mean over seeds")
        images.append((f"cross-cell heatmap {model}", figure_png(ax)))
        shown_matrix = matrix.map(lambda v: "-" if pd.isna(v) else f"{v:.4f}")
        tables.append(
            (f"{model}: mean over seeds (rows trained on, columns tested on)",
             shown_matrix.reset_index())
        )  # fmt: skip
        if not rows.empty:
            shown = rows.assign(difference=rows["difference"].map(_signed))
            tables.append((f"{model}: trained elsewhere vs trained here", shown))
    return Section(
        "Cross-cell prediction",
        "Rows: the training set (a cell, or a pooled group such as all_others); columns: the "
        "cell whose test split is scored. 'each' sources are averaged over seeds. "
        + res.INTERVAL_NOTE,
        tables=tables,
        images=images,
    )


def _signed(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:+.4f}"


def learning_section(found: Results) -> Section | None:
    curves = res.learning_curves(found)
    if not curves:
        return None
    images, tables = [], []
    for cell, summary in curves:
        ax = plot_learning_curves(summary)
        ax.set_title(cell)
        images.append((f"learning curves {cell}", figure_png(ax)))
        tables.append(
            (cell, summary.assign(value=summary.apply(fmt, axis=1))[
                ["model", "size", "value", "n_seeds"]])
        )  # fmt: skip
    return Section(
        "Learning curves (mean and 95% interval over seeds)",
        "Size: labelled genes a run read, training and early-stopping genes together.",
        tables=tables,
        images=images,
    )


def params_section(found: Results) -> Section | None:
    parts = res.params_summary(found)
    if not parts:
        return None
    images, tables = [], []
    for cell, summary in parts:
        ax = plot_params_vs_score(summary)
        ax.set_title(cell)
        images.append((f"parameters vs score {cell}", figure_png(ax)))
        shown = summary.assign(score=summary.apply(fmt, axis=1))
        tables.append((cell, shown[["model", "n_parameters", "score"]]))
    return Section("Parameters against test score", tables=tables, images=images)
