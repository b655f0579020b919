"""Report sections of the SimpleChrome studies, drawn from stored tables: the VAE's
reconstructions and latent space, and the neighbour-aware models' comparisons and attention."""

from __future__ import annotations

import pandas as pd

from ..experiments import comparisons
from ..experiments import results as res
from ..experiments.results import Results, fmt
from .html import Section
from .plots import figure_png, plot_attention_by_rank, plot_latent, plot_reconstruction


def vae_section(found: Results) -> Section | None:
    """Reconstructions and the latent space of the first run that stored a VAE's analyses."""
    if not found.has_runs:
        return None
    run = found.first_run(found.table["run_id"].notna(), analysis="vae")
    if run is None:
        return None
    run_id = run["run_id"]
    numbers = found.analysis(run_id, "vae")
    examples = found.analysis(run_id, "reconstructions")
    coords = found.analysis(run_id, "latent_pca")
    images = []
    for gene, part in examples.groupby("gene_id", sort=False):
        marks = list(dict.fromkeys(part["mark"]))
        shape = (len(marks), -1)
        x = part["input"].to_numpy().reshape(shape)
        recon = part["reconstruction"].to_numpy().reshape(shape)
        label = int(part["label"].iloc[0])
        title = f"{gene}" + (f", label {label}" if label >= 0 else "")
        ax = plot_reconstruction(x, recon, marks, title=title)
        images.append((f"reconstruction {gene}", figure_png(ax)))
    if "label" in coords:
        ax = plot_latent(coords, color="label", title="latent means (PCA), by label")
        images.append(("latent space by label", figure_png(ax)))
    if "log2_rpkm" in coords:
        shown = coords.dropna(subset=["log2_rpkm"]).rename(columns={"log2_rpkm": "log2 RPKM+1"})
        ax = plot_latent(shown, color="log2 RPKM+1", title="latent means (PCA), by expression")
        images.append(("latent space by expression", figure_png(ax)))
    summary = pd.DataFrame(
        [
            {
                "run": run_id,
                "test genes": numbers["test_genes"],
                "reconstruction R2 (test)": f"{numbers['recon_r2']:.3f}",
                "reconstruction MSE (test)": f"{numbers['recon_mse']:.3f}",
                "epochs": numbers["epochs"],
                "best validation ELBO per gene": "-"
                if numbers.get("best_val_elbo") is None
                else f"{numbers['best_val_elbo']:.1f}",
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


def neighbors_section(found: Results) -> Section | None:
    scores, rows = comparisons.neighbour_comparisons(found)
    if rows.empty:
        return None
    home = res.home_runs(found.predictors)
    first = home[comparisons.neighbour_models(home) & (home["seed"] == home["seed"].min())]
    curves = []
    for r in first.drop_duplicates("model").itertuples():
        table = found.analysis(r.run_id, "neighbor_attention")
        if table is not None and len(table):
            curves.append(table.assign(model=r.model))
    images = []
    if curves:
        images.append(
            ("neighbour attention by rank", figure_png(plot_attention_by_rank(pd.concat(curves))))
        )
    shown = scores.assign(**{"test AUROC": scores.apply(fmt, axis=1)})[
        ["test_cell", "source", "model", "test AUROC", "n_seeds"]
    ]
    return Section(
        "Neighbour genes",
        "Every model per test cell and protocol (same: trained on the cell's own genes; other "
        "sources: trained on other cells, the target's labels never read), then each "
        "neighbour-aware model's differences, paired on the same test genes (gene bootstrap, "
        "mean over seeds; 'excludes 0' when the 95% interval does), against the same model "
        f"without neighbours, random neighbours, the compendium prior and the best model that "
        f"reads no neighbours. {res.INTERVAL_NOTE}",
        tables=[
            ("Test AUROC", shown),
            ("Neighbour-aware models: paired differences", rows),
        ],
        images=images,
    )
