"""Report sections of the SimpleChrome studies: the VAE's reconstructions and latent space,
and the neighbour-aware models' comparisons and attention."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..report import Section, figure_png, plot_attention_by_rank, plot_latent, plot_reconstruction
from .plan import eid_of
from .report import _fmt, _home_runs, _spec, _test_scores
from .stats import paired_auroc_difference, summarise


def vae_section(table: pd.DataFrame, results: Path, expression) -> Section | None:
    """Reconstructions and the latent space of the first VAE found among the runs."""
    if not results.is_dir():
        return None
    runs = table.sort_values(["seed", "size"], ascending=[True, True])
    found = [r for r in runs.itertuples() if (results / "runs" / r.run_id / "vae.pt").exists()]
    if not found:
        return None
    from sklearn.decomposition import PCA

    from ..data import load_cell, read_expression
    from ..train import TrainedModel

    run = found[0]
    folder = results / "runs" / run.run_id
    vae = TrainedModel.load(folder / "vae.pt")
    config = yaml.safe_load((folder / "config.yaml").read_text())
    test = load_cell(config["data"]["cells"][run.test_cell])["test"]
    x, recon = vae.reconstruct(test)
    metrics = vae.evaluate(test)
    # examples: the strongest-signal gene of each class and a gene of median strength
    strength = x.reshape(len(x), -1).std(axis=1)
    picks = []
    if test.y is not None:
        for label in (1, 0):
            idx = np.flatnonzero(test.y == label)
            if idx.size:
                picks.append(int(idx[np.argmax(strength[idx])]))
    picks.append(int(np.argsort(strength)[len(strength) // 2]))
    images = []
    for i in dict.fromkeys(picks):
        label = "" if test.y is None else f", label {test.y[i]}"
        ax = plot_reconstruction(x[i], recon[i], vae.marks, title=f"{test.gene_ids[i]}{label}")
        images.append((f"reconstruction {test.gene_ids[i]}", figure_png(ax)))
    xy = PCA(n_components=2, random_state=0).fit_transform(vae.embed(test))
    coords = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    if test.y is not None:
        coords["label"] = test.y
        ax = plot_latent(coords, color="label", title="latent means (PCA), by label")
        images.append(("latent space by label", figure_png(ax)))
    eid = eid_of(run.test_cell)
    if expression is not None and Path(expression).exists() and eid is not None:
        expr = read_expression(expression)
        if eid in expr.columns:
            coords["log2 RPKM+1"] = np.log2(expr[eid].reindex(test.gene_ids).to_numpy() + 1)
            ax = plot_latent(
                coords.dropna(), color="log2 RPKM+1", title="latent means (PCA), by expression"
            )
            images.append(("latent space by expression", figure_png(ax)))
    history = pd.read_csv(folder / "vae_history.csv")
    summary = pd.DataFrame(
        [
            {
                "run": run.run_id,
                "test genes": metrics["n_genes"],
                "reconstruction R2 (test)": f"{metrics['recon_r2']:.3f}",
                "reconstruction MSE (test)": f"{metrics['recon_mse']:.3f}",
                "epochs": len(history),
                "best validation ELBO per gene": f"{history['val_elbo'].max():.1f}",
            }
        ]
    )
    return Section(
        "SimpleChrome VAE: reconstructions and latent space",
        "Input (grey) and reconstruction from the latent mean (colour) on the transformed scale "
        "(log1p, per-mark standardised), for test genes the VAE never saw; below, the latent "
        "means projected on their first two principal components.",
        tables=[("The VAE behind the first seed's runs", summary)],
        images=images,
    )


def _neighbor_setting(params: str) -> tuple[str, int]:
    p = json.loads(params)
    by = p.get("by", "genome")
    return by, 0 if by == "none" else int(p.get("k", 10))


def _paired_row(results: Path, a: pd.DataFrame, b: pd.DataFrame) -> dict[str, str] | None:
    """Paired AUROC difference of runs ``a`` minus runs ``b`` (same seeds, same test genes)."""
    seeds = sorted(set(a["seed"]) & set(b["seed"]))
    sa = [_test_scores(results, a[a["seed"] == s]["run_id"].iloc[0]) for s in seeds]
    sb = [_test_scores(results, b[b["seed"] == s]["run_id"].iloc[0]) for s in seeds]
    if not seeds or any(x is None for x in sa + sb):
        return None
    d = paired_auroc_difference(
        sa[0]["label"].to_numpy(),
        [x["score"].to_numpy() for x in sa],
        [x["score"].to_numpy() for x in sb],
    )
    return {
        "difference": f"{d['difference']:+.4f}",
        "interval": f"[{d['low']:+.4f}, {d['high']:+.4f}]",
        "excludes 0": str(d["low"] > 0 or d["high"] < 0),
    }


def neighbors_section(table: pd.DataFrame, results: Path) -> Section | None:
    home = _home_runs(table)
    nb = home[home["model_name"] == "vae_neighbors"].copy()
    if nb.empty or not results.is_dir():
        return None
    nb[["by", "k"]] = [_neighbor_setting(p) for p in nb["model_params"]]
    summary = summarise(nb, ["model"], "test_auroc").set_index("model")
    none = nb[nb["by"] == "none"]
    singles = home[home["model_name"] != "vae_neighbors"]
    best_single = None
    if not singles.empty:
        best_single = (
            summarise(singles, ["model"], "test_auroc").sort_values("mean").iloc[-1]["model"]
        )
    rows = []
    for model, part in nb.groupby("model", sort=False):
        by, k = part["by"].iloc[0], part["k"].iloc[0]
        row = {"model": model, "neighbours": by, "k": k, "test AUROC": _fmt(summary.loc[model])}
        comparisons = {
            "vs no neighbours": none if by != "none" else None,
            "vs random, same k": nb[(nb["by"] == "random") & (nb["k"] == k)]
            if by not in ("random", "none")
            else None,
            f"vs {best_single}": singles[singles["model"] == best_single] if best_single else None,
        }
        for name, other in comparisons.items():
            if other is not None and not other.empty:
                d = _paired_row(results, part, other)
                if d:
                    mark = " (excludes 0)" if d["excludes 0"] == "True" else ""
                    row[name] = f"{d['difference']} {d['interval']}{mark}"
        rows.append(row)
    # attention by neighbour rank, first seed, on the test genes
    from ..data import load_cell
    from ..train import TrainedModel

    curves = []
    first = nb[(nb["k"] > 0) & (nb["seed"] == nb["seed"].min())]
    for r in first.itertuples():
        folder = results / "runs" / r.run_id
        config = yaml.safe_load((folder / "config.yaml").read_text())
        spec = _spec(results)
        test = load_cell(
            config["data"]["cells"][r.test_cell],
            gtf=spec.get("gtf"),
            expression=spec.get("expression"),
        )["test"]
        attention = TrainedModel.load(folder / "model.pt").neighbor_attention(test)
        curves.append(
            pd.DataFrame(
                {
                    "model": r.model,
                    "rank": np.arange(1, attention.shape[1] + 1),
                    "attention": attention.mean(axis=0),
                }
            )
        )
    images = []
    if curves:
        images.append(
            ("neighbour attention by rank", figure_png(plot_attention_by_rank(pd.concat(curves))))
        )
    best = summary["mean"].idxmax()
    return Section(
        "Neighbour genes",
        f"Best neighbour-aware model: {best}, test AUROC {_fmt(summary.loc[best])}. Differences "
        "are paired on the same test genes (gene bootstrap, mean over seeds); 'excludes 0' when "
        "the 95% interval does.",
        tables=[("Neighbour-aware models: AUROC and paired differences", pd.DataFrame(rows))],
        images=images,
    )
