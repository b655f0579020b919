"""The public reader of results folders, and the statistics a report shows.

A results folder (written by ``run_experiment``) holds one record per run and one run directory
per run. ``Results`` reads them; the functions below turn them into the tables the report
draws: summaries with intervals, paired comparisons, ROC points, cross-cell matrices, learning
curves. Nothing here trains or fits a model: every number comes from the stored records,
predictions and analysis tables.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .. import models
from ..errors import ConfigError
from ..ids import eid_in
from ..train.metrics import roc_table
from ..train.run_dir import read_analysis
from .stats import paired_auroc_difference, seed_gene_interval, summarise
from .stored import stored

REFERENCE = "deepchrome"


def read_table(results: str | Path) -> pd.DataFrame:
    """A results folder's table (or a table file itself)."""
    path = Path(results)
    if path.is_dir():
        path = path / "table.parquet" if (path / "table.parquet").exists() else path / "table.csv"
    if not path.exists():
        raise ConfigError(f"{results}: no results table (run `simplechrome experiment` first)")
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@dataclasses.dataclass
class Results:
    """One results folder: its spec, its table of run records, and each run's stored files."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    @cached_property
    def table(self) -> pd.DataFrame:
        return read_table(self.path)

    @cached_property
    def spec(self) -> dict[str, Any]:
        folder = self.path if self.path.is_dir() else self.path.parent
        for name in ("spec.resolved.yaml", "spec.yaml"):
            if (folder / name).exists():
                return yaml.safe_load((folder / name).read_text()) or {}
        return {}

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or self.path.name)

    @property
    def has_runs(self) -> bool:
        return (self.path / "runs").is_dir()

    @property
    def predictors(self) -> pd.DataFrame:
        """Records of runs whose model scores genes (generators are not among them)."""
        t = self.table
        if "model_name" not in t:
            return t
        return t[[models.get(n).predicts for n in t["model_name"]]]

    @property
    def metric(self) -> str:
        t = self.predictors
        return "test_auroc" if "test_auroc" in t else "test_pearson"

    def run_dir(self, run_id: str) -> Path:
        return self.path / "runs" / run_id

    def test_predictions(self, run_id: str) -> pd.DataFrame | None:
        """The test-split rows of a run's ``predictions.tsv``."""
        path = self.run_dir(run_id) / "predictions.tsv"
        if not path.exists():
            return None
        preds = pd.read_csv(path, sep="\t")
        return preds[preds["split"] == "test"]

    def analysis(self, run_id: str, name: str):
        """A stored analysis of a run (a table or a mapping), or ``None``."""
        return read_analysis(self.run_dir(run_id), name)

    def first_run(self, where: pd.Series, *, analysis: str) -> pd.Series | None:
        """The record (lowest seed, then smallest size) among ``where`` whose run stored
        ``analysis``."""
        t = self.table[where].sort_values(["seed", "size"])
        for _, row in t.iterrows():
            if self.analysis(row["run_id"], analysis) is not None:
                return row
        return None


INTERVAL_NOTE = (
    "Intervals: 95% two-level bootstrap over the seeds and the test genes (each resample draws "
    "seeds and genes with replacement); for a single run, the genes alone."
)


def summary(
    results: Results, table: pd.DataFrame, by: list[str], metric: str | None = None
) -> pd.DataFrame:
    """Mean score per group of ``by`` over its runs, with the seed-and-gene interval from the
    runs' stored test predictions (``stats.seed_gene_interval``); where a run has no stored
    predictions, the interval over seeds from the records alone (column ``interval`` says
    which)."""
    metric = metric or results.metric
    name = metric.removeprefix("test_")
    rows = []
    for key, part in table.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        preds = [results.test_predictions(r) for r in part["run_id"]] if results.has_runs else []
        if preds and all(p is not None and len(p) for p in preds):
            runs = [(p["label"].to_numpy(), p["score"].to_numpy(dtype=np.float64)) for p in preds]
            mean, low, high = seed_gene_interval(runs, metric=name)
            interval = "seeds and genes" if len(runs) > 1 else "genes (one run)"
        else:
            row = summarise(part, by, metric).iloc[0]
            mean, low, high = row["mean"], row["low"], row["high"]
            interval = "seeds" if len(part) > 1 else "none (one run)"
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "mean": mean,
                "low": low,
                "high": high,
                "n_seeds": int(part["seed"].nunique()) if "seed" in part else len(part),
                "n_runs": len(part),
                "interval": interval,
            }
        )
    return pd.DataFrame(rows)


class ResultsSet:
    """Several results folders read as one, for comparisons across studies (a model run as a
    study of its own against a baseline of another): the members ``summary`` and
    ``paired_groups`` read. Two studies may hold runs of the same id, so each record's
    ``run_id`` here is ``<folder index>:<run id>`` and its files are read from that folder."""

    def __init__(self, found: list[Results]) -> None:
        self.found = found
        self.predictors = pd.concat(
            [f.predictors.assign(run_id=[f"{i}:{r}" for r in f.predictors["run_id"]], folder=i)
             for i, f in enumerate(found)],
            ignore_index=True,
        )  # fmt: skip
        self.has_runs = all(f.has_runs for f in found)
        self.metric = "test_auroc" if "test_auroc" in self.predictors else "test_pearson"

    def test_predictions(self, run_id: str) -> pd.DataFrame | None:
        folder, _, name = run_id.partition(":")
        return self.found[int(folder)].test_predictions(name)


def home_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Runs trained and tested on the same cell with every training gene."""
    return table[(table["source"] == "same") & (table["size"] == -1)]


def fmt(row: pd.Series) -> str:
    """``mean [low, high]``, or the bare value for a single run (no interval to show)."""
    if pd.isna(row.get("low")) or row.get("low") == row.get("high"):
        return f"{row['mean']:.4f}"
    return f"{row['mean']:.4f} [{row['low']:.4f}, {row['high']:.4f}]"


@stored
def per_cell_summary(results: Results) -> pd.DataFrame:
    """Mean test score per cell and model over seeds, with its interval."""
    home = home_runs(results.predictors)
    if home.empty:
        return pd.DataFrame()
    return summary(results, home, ["test_cell", "model"])


@stored
def paired_differences(results: Results, reference: str = REFERENCE) -> pd.DataFrame:
    """Each model minus the reference model on the same test genes, at every training size:
    AUROC averaged over seeds, interval from resampling seeds and genes."""
    home = results.predictors
    home = home[home["source"] == "same"]
    models_seen = list(dict.fromkeys(home["model"]))
    reference = reference if reference in models_seen else (models_seen or [None])[0]
    if reference is None or len(models_seen) < 2 or not results.has_runs:
        return pd.DataFrame()
    rows = []
    for (cell, _), part in home.groupby(["test_cell", "size"], sort=False):
        part = part.sort_values("seed")  # run i of each model: seed i (paired seeds)
        ref_runs = part[part["model"] == reference]
        ref = [results.test_predictions(r) for r in ref_runs["run_id"]]
        if not ref or any(v is None for v in ref):
            continue
        y = ref[0]["label"].to_numpy()
        for model in models_seen:
            if model == reference:
                continue
            runs = part[part["model"] == model]
            other = [results.test_predictions(r) for r in runs["run_id"]]
            if not other or any(o is None for o in other):
                continue
            d = paired_auroc_difference(
                y,
                [o["score"].to_numpy() for o in other],
                [r["score"].to_numpy() for r in ref],
                paired_seeds=list(runs["seed"]) == list(ref_runs["seed"]),
            )
            labelled = "n_labelled" if "n_labelled" in part else "n_train"
            rows.append(
                {
                    "cell": cell,
                    "labelled genes": int(part[labelled].median()),
                    "model": model,
                    "minus": reference,
                    "difference": d["difference"],
                    "low": d["low"],
                    "high": d["high"],
                    "p": d["p_two_sided"],
                    "seeds": len(other),
                }
            )
    return pd.DataFrame(rows)


@stored
def roc_points(results: Results, *, max_cells: int = 6) -> list[tuple[str, int, pd.DataFrame]]:
    """``(cell, seed, curves)`` for the first seed's home runs of up to ``max_cells`` cells;
    each curve labelled by model, with the run's recorded AUROC."""
    home = home_runs(results.predictors)
    if home.empty or not results.has_runs or "test_auroc" not in home:
        return []
    out = []
    for cell, part in list(home.groupby("test_cell", sort=False))[:max_cells]:
        seed = int(part["seed"].min())
        curves = []
        for r in part[part["seed"] == seed].itertuples():
            preds = results.test_predictions(r.run_id)
            if preds is not None and preds["label"].nunique() == 2:
                curves.append(
                    roc_table(preds["label"], preds["score"], model=r.model).assign(
                        auroc=r.test_auroc
                    )
                )
        if curves:
            out.append((str(cell), seed, pd.concat(curves)))
    return out


@stored
def cross_cell_tables(results: Results) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """Per model: the train x test matrix of mean test scores (rows: a cell, or a pooled
    source such as ``all_others``), and trained-elsewhere vs trained-here rows."""
    t = results.predictors
    metric = results.metric
    if not (t["source"] != "same").any():
        return []
    t = t[t["size"] == -1].copy()
    t["trained_on"] = np.where(t["source"].isin(["same", "each"]), t["train_cells"], t["source"])
    out = []
    for model, part in t.groupby("model", sort=False):
        matrix = part.groupby(["trained_on", "test_cell"], sort=False)[metric].mean()
        here = summary(results, part[part["source"] == "same"], ["test_cell"])
        rows = []
        for (source, target), grp in part[part["source"] != "same"].groupby(
            ["source", "test_cell"], sort=False
        ):
            s = summary(results, grp, ["test_cell"]).iloc[0]
            h = here[here["test_cell"] == target] if len(here) else here  # no runs "here"
            rows.append(
                {
                    "model": model,
                    "target": target,
                    "trained elsewhere": source,
                    "elsewhere": fmt(s),
                    "trained here": fmt(h.iloc[0]) if len(h) else "-",
                    "difference": s["mean"] - h.iloc[0]["mean"] if len(h) else None,
                }
            )
        out.append((str(model), matrix.unstack("test_cell"), pd.DataFrame(rows)))
    return out


@stored
def learning_curves(results: Results) -> list[tuple[str, pd.DataFrame]]:
    """Per cell: mean score per model and labelled-budget size, with intervals."""
    t = results.predictors
    t = t[t["source"] == "same"]
    if t["size"].nunique() < 2:
        return []
    labelled = "n_labelled" if "n_labelled" in t else "n_train"
    t = t.assign(size=t[labelled])
    return [
        (str(cell), summary(results, part, ["model", "size"]))
        for cell, part in t.groupby("test_cell", sort=False)
    ]


@stored
def params_summary(results: Results, *, max_cells: int = 6) -> list[tuple[str, pd.DataFrame]]:
    """Per cell: mean score per model beside its parameter count."""
    home = home_runs(results.predictors)
    out = []
    for cell, part in list(home.groupby("test_cell", sort=False))[:max_cells]:
        table = summary(results, part, ["model"])
        table["n_parameters"] = table["model"].map(
            part.groupby("model")["n_parameters"].median().round().astype(int)
        )
        out.append((str(cell), table))
    return out


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
            eid = eid_in(cell)
            if eid in values.index:
                rows.append({"cell": cell, "auroc": float(values[eid]), "label": label + suffix})
    return pd.DataFrame(rows, columns=["cell", "auroc", "label"])


def code_versions_note(tables: list[pd.DataFrame]) -> str | None:
    """A line saying that the records of these tables were made by different code (package
    version and commit, ``code_version``; records written before it count as ``unrecorded``),
    or ``None`` when they all share one."""
    versions = pd.concat(
        [t["code_version"] if "code_version" in t else pd.Series("", index=t.index) for t in tables]
    )
    counts = versions.fillna("").replace("", "unrecorded").value_counts()
    if len(counts) < 2:
        return None
    listed = ", ".join(f"{v} ({n} run{'s' * (n > 1)})" for v, n in counts.items())
    return f"these records mix code versions: {listed}"


def experiment_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The summary the ``experiment`` verb prints: each setting's mean test score over seeds
    with its interval (generators left out: they score no genes)."""
    if "model_name" in table:
        table = table[[models.get(n).predicts for n in table["model_name"]]]
    if table.empty:
        return pd.DataFrame()
    metric = "test_auroc" if "test_auroc" in table else "test_pearson"
    by = ["test_cell", "source", "train_cells", "model", "size"]
    if "relatives_above" in table and table["relatives_above"].notna().any():
        table = table.assign(relatives_above=table["relatives_above"].fillna("none").astype(str))
        by.append("relatives_above")
    summary = summarise(table, by, metric)
    summary["metric"] = metric
    return summary
