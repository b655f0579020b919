"""``simplechrome report``: a results folder -> one self-contained HTML page.

Everything computed here (summaries with intervals, paired comparisons, ROC points, matrices)
is handed as tables to the plot functions, which only draw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..report import (
    Section,
    figure_png,
    plot_heatmap,
    plot_interval_bars,
    plot_learning_curves,
    plot_params_vs_score,
    plot_roc,
    write_page,
)
from ..train.metrics import roc_table
from .plan import eid_of
from .runner import read_table
from .stats import paired_auroc_difference, summarise

REFERENCE = "deepchrome"


def build_report(
    results: str | Path | list[str | Path],
    out: str | Path,
    *,
    published: str | Path | None = None,
    expression: str | Path | None = None,
) -> Path:
    """Write the HTML report of one results folder, or of several on one page (e.g. an
    architecture grid and a cross-cell experiment).

    ``published``: folder of published per-cell tables; ``expression``: Roadmap RPKM matrix, to
    colour the latent space by expression (both default to each spec's).
    """
    folders = [Path(r) for r in results] if isinstance(results, (list, tuple)) else [Path(results)]
    names, intros, sections = [], [], []
    for folder in folders:
        name, intro, parts = _experiment(folder, published, expression)
        if len(folders) > 1:
            for s in parts:
                s.title = f"{name}: {s.title}"
        names.append(name)
        intros.append(intro)
        sections += parts
    return write_page(out, f"simplechrome report: {' + '.join(names)}", " ".join(intros), sections)


def _experiment(results: Path, published, expression) -> tuple[str, str, list[Section]]:
    """One results folder's name, introduction and sections."""
    from .report_gan import gan_section

    everything = read_table(results)
    # generative runs predict no expression: they get their own sections
    names = everything.get("model_name", pd.Series("", index=everything.index))
    table = everything[names != "gan"]
    spec = _spec(results)
    published = published or spec.get("published")
    expression = expression or spec.get("expression")
    metric = "test_auroc" if "test_auroc" in table else "test_pearson"
    name = spec.get("name") or results.name
    intro = (
        f"{len(everything)} runs of experiment '{name}' ({spec.get('kind', 'grid')}): models "
        f"{', '.join(dict.fromkeys(everything['model']))}; test cells "
        f"{', '.join(dict.fromkeys(everything['test_cell']))}; seeds "
        f"{', '.join(map(str, sorted(everything['seed'].unique())))}. Every number is a mean over "
        "seeds with its 95% bootstrap interval."
    )
    sections = []
    if len(table):
        sections = _prediction_sections(table, metric, results, published, expression)
    sections += gan_section(everything, results)
    return name, intro, sections


def _prediction_sections(table, metric, results, published, expression) -> list[Section]:
    from .report_interpret import interpretation_section
    from .report_simplechrome import neighbors_section, vae_section  # they use helpers below

    return [
        s
        for s in (
            _per_cell(table, metric, results, published),
            _paired(table, results) if metric == "test_auroc" else None,
            _rocs(table, results) if metric == "test_auroc" else None,
            _cross_cell(table, metric),
            _learning(table, metric),
            _params(table, metric),
            neighbors_section(table, results),
            vae_section(table, results, expression),
            interpretation_section(table, results),
        )
        if s is not None
    ]


def _spec(results: Path) -> dict:
    folder = results if results.is_dir() else results.parent
    for name in ("spec.resolved.yaml", "spec.yaml"):
        if (folder / name).exists():
            return yaml.safe_load((folder / name).read_text()) or {}
    return {}


def _fmt(row: pd.Series) -> str:
    return f"{row['mean']:.4f} [{row['low']:.4f}, {row['high']:.4f}]"


def _home_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Runs trained and tested on the same cell with every training gene."""
    return table[(table["source"] == "same") & (table["size"] == -1)]


def load_published(folder: str | Path | None, cells: list[str], zenodo: bool) -> pd.DataFrame:
    """Published per-cell AUROCs for ``cells`` (matched by EID): ``cell, auroc, label``."""
    if folder is None or not Path(folder).is_dir():
        return pd.DataFrame(columns=["cell", "auroc", "label"])
    suffix = "" if zenodo else " (published, different preprocessing)"
    sources = [
        ("deepchrome_per_cell_auc.csv", "cell_id", "deepchrome_auc_2dp", "DeepChrome paper"),
        ("attentivechrome_reimpl_per_cell_auc.csv", "cell", "auroc", "AttentiveChrome re-impl."),
    ]
    rows = []
    for file, key, col, label in sources:
        path = Path(folder) / file
        if not path.exists():
            continue
        values = pd.read_csv(path).set_index(key)[col]
        for cell in cells:
            eid = eid_of(cell)
            if eid in values.index:
                rows.append({"cell": cell, "auroc": float(values[eid]), "label": label + suffix})
    return pd.DataFrame(rows, columns=["cell", "auroc", "label"])


def _per_cell(table: pd.DataFrame, metric: str, results: Path, published) -> Section | None:
    home = _home_runs(table)
    if home.empty:
        return None
    summary = summarise(home, ["test_cell", "model"], metric)
    shown = summary.assign(**{metric.replace("test_", "test "): summary.apply(_fmt, axis=1)})
    shown = shown.rename(columns={"test_cell": "cell"})[
        ["cell", "model", metric.replace("test_", "test "), "n_seeds"]
    ]
    cells = list(dict.fromkeys(home["test_cell"]))
    zenodo = bool((home.get("data_source") == "zenodo").all()) if "data_source" in home else False
    pub = load_published(published, cells, zenodo) if metric == "test_auroc" else None
    ax = plot_interval_bars(
        summary.rename(columns={"test_cell": "cell"}),
        published=pub,
        ylabel=metric.replace("_", " "),
    )
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


def _test_scores(results: Path, run_id: str) -> pd.DataFrame | None:
    path = results / "runs" / run_id / "predictions.tsv"
    if not path.exists():
        return None
    preds = pd.read_csv(path, sep="\t")
    return preds[preds["split"] == "test"]


def _paired(table: pd.DataFrame, results: Path) -> Section | None:
    home = table[table["source"] == "same"]  # every training-set size: paired at each
    models = list(dict.fromkeys(home["model"]))
    reference = REFERENCE if REFERENCE in models else (models[0] if models else None)
    if reference is None or len(models) < 2 or not results.is_dir():
        return None
    rows = []
    for (cell, _), part in home.groupby(["test_cell", "size"], sort=False):
        ref_runs = part[part["model"] == reference]
        ref = {r.seed: _test_scores(results, r.run_id) for r in ref_runs.itertuples()}
        if any(v is None for v in ref.values()) or not ref:
            continue
        y = next(iter(ref.values()))["label"].to_numpy()
        for model in models:
            if model == reference:
                continue
            runs = part[part["model"] == model]
            other = [_test_scores(results, r.run_id) for r in runs.itertuples()]
            if not other or any(o is None for o in other):
                continue
            d = paired_auroc_difference(
                y,
                [o["score"].to_numpy() for o in other],
                [r["score"].to_numpy() for r in ref.values()],
            )
            rows.append(
                {
                    "cell": cell,
                    "training genes": int(part["n_train"].median()),
                    "model": model,
                    "minus": reference,
                    "AUROC difference": f"{d['difference']:+.4f}",
                    "95% interval": f"[{d['low']:+.4f}, {d['high']:+.4f}]",
                    "p (bootstrap)": f"{d['p_two_sided']:.3f}",
                    "seeds": len(other),
                }
            )
    if not rows:
        return None
    return Section(
        f"Paired comparisons against {reference} on the same genes",
        "Difference of AUROC averaged over seeds; interval from 2,000 bootstrap resamples of the "
        "test genes, the same resample for both models.",
        tables=[("Model minus reference", pd.DataFrame(rows))],
    )


def _rocs(table: pd.DataFrame, results: Path) -> Section | None:
    home = _home_runs(table)
    if home.empty or not results.is_dir():
        return None
    images = []
    for cell, part in list(home.groupby("test_cell", sort=False))[:6]:
        seed = part["seed"].min()
        curves = []
        for r in part[part["seed"] == seed].itertuples():
            preds = _test_scores(results, r.run_id)
            if preds is not None and preds["label"].nunique() == 2:
                curves.append(
                    roc_table(preds["label"], preds["score"], model=r.model).assign(
                        auroc=r.test_auroc
                    )
                )
        if curves:
            ax = plot_roc(pd.concat(curves))
            ax.set_title(f"{cell} (seed {seed})")
            images.append((f"ROC curves {cell}", figure_png(ax)))
    return Section("ROC curves (test split, first seed)", images=images) if images else None


def _cross_cell(table: pd.DataFrame, metric: str) -> Section | None:
    if not (table["source"] != "same").any():
        return None
    t = table[table["size"] == -1].copy()
    # a row per training set: the cell itself for single-cell sources, else the source's name
    t["trained_on"] = np.where(t["source"].isin(["same", "each"]), t["train_cells"], t["source"])
    images, tables = [], []
    for model, part in t.groupby("model", sort=False):
        means = part.groupby(["trained_on", "test_cell"], sort=False)[metric].mean()
        matrix = means.unstack("test_cell")
        ax = plot_heatmap(matrix, label=metric.replace("_", " "))
        ax.set_title(f"{model}: mean over seeds")
        images.append((f"cross-cell heatmap {model}", figure_png(ax)))
        here = summarise(part[part["source"] == "same"], ["test_cell"], metric)
        rows = []
        for (source, target), grp in part[part["source"] != "same"].groupby(
            ["source", "test_cell"], sort=False
        ):
            s = summarise(grp, ["test_cell"], metric).iloc[0]
            h = here[here["test_cell"] == target]
            rows.append(
                {
                    "model": model,
                    "target": target,
                    "trained elsewhere": source,
                    "elsewhere": _fmt(s),
                    "trained here": _fmt(h.iloc[0]) if len(h) else "-",
                    "difference": f"{s['mean'] - h.iloc[0]['mean']:+.4f}" if len(h) else "-",
                }
            )
        if rows:
            tables.append((f"{model}: trained elsewhere vs trained here", pd.DataFrame(rows)))
    return Section(
        "Cross-cell prediction",
        "Rows: the training set (a cell, or a pooled group such as all_others); columns: the "
        "cell whose test split is scored. 'each' sources are averaged over seeds.",
        tables=tables,
        images=images,
    )


def _learning(table: pd.DataFrame, metric: str) -> Section | None:
    t = table[table["source"] == "same"]
    if t["size"].nunique() < 2:
        return None
    t = t.assign(size=t["n_train"])
    images, tables = [], []
    for cell, part in t.groupby("test_cell", sort=False):
        summary = summarise(part, ["model", "size"], metric)
        ax = plot_learning_curves(summary)
        ax.set_title(str(cell))
        images.append((f"learning curves {cell}", figure_png(ax)))
        tables.append(
            (
                str(cell),
                summary.assign(value=summary.apply(_fmt, axis=1))[
                    ["model", "size", "value", "n_seeds"]
                ],
            )
        )
    return Section(
        "Learning curves (mean and 95% interval over seeds)", tables=tables, images=images
    )


def _params(table: pd.DataFrame, metric: str) -> Section | None:
    home = _home_runs(table)
    if home.empty:
        return None
    images = []
    for cell, part in list(home.groupby("test_cell", sort=False))[:6]:
        summary = summarise(part, ["model"], metric)
        summary["n_parameters"] = summary["model"].map(
            part.groupby("model")["n_parameters"].median()
        )
        ax = plot_params_vs_score(summary)
        ax.set_title(str(cell))
        images.append((f"parameters vs score {cell}", figure_png(ax)))
    return Section("Parameters against test score", images=images)
