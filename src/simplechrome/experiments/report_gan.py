"""Report sections for a conditional GAN: is it any good, and what does it show?"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..report import Section, figure_png
from ..report.plots_gan import (
    plot_correlation_pair,
    plot_examples,
    plot_profile_panels,
    plot_walks,
)


def gan_sections(gan, train, test, *, seed: int = 0) -> list[Section]:
    """Quality (numbers and plots) and the visualisation views of ``gan`` on a cell's genes."""
    from ..interpret.gan import condition_walk, expression_walk, gan_quality

    q = gan_quality(gan, train, test, seed=seed)
    marks = list(gan.marks)
    rows = [
        (
            "sliced Wasserstein distance to real test genes (per class, mean)",
            q["sliced_wasserstein"],
        ),
        ("smallest mean-profile Pearson r (any class, any mark)", q["profile_r_min"]),
        ("largest |r real - r generated| in the mark-mark correlations", q["mark_corr_max_diff"]),
        ("two-sample AUROC (real vs generated; 0.5 is ideal)", q["two_sample_auroc"]),
    ]
    if "synthetic_auroc" in q:
        rows += [
            (
                "logistic regression trained on generated genes: real test AUROC",
                q["synthetic_auroc"],
            ),
            ("the same trained on the real training genes: real test AUROC", q["real_auroc"]),
        ]
    numbers = pd.DataFrame(rows, columns=["measure", "value"]).round(4)
    p = q["profiles"]
    profiles_r = p.pivot(index="mark", columns="class", values="pearson_r").add_prefix(
        "generated, "
    )
    ceiling = p.pivot(index="mark", columns="class", values="real_train_r")
    profiles_r = profiles_r.join(ceiling.add_prefix("real training genes, ")).round(4).reset_index()
    tidy = []
    for cls, (real, fake) in q["mean_profiles"].items():
        for source, arr in (("real", real), ("generated", fake)):
            tidy.append(
                pd.DataFrame(
                    {
                        "mark": np.repeat(marks, gan.n_bins),
                        "bin": np.tile(np.arange(1, gan.n_bins + 1), len(marks)),
                        "value": arr.reshape(-1),
                        "class": cls,
                        "source": source,
                    }
                )
            )
    quality = Section(
        "GAN: how close are generated genes to real ones?",
        text=(
            f"{gan.name} on {test.cell}: one generated gene per real test gene under the same "
            f"label ({test.n_genes} of each), compared in the transformed space every model "
            "reads (log1p, per-mark standardisation). The two-sample test is a gradient-boosted "
            "classifier told to separate real from generated genes, scored by 2-fold "
            "cross-validation."
        ),
        tables=[
            ("Quality", numbers),
            (
                "Mean-profile Pearson r with the real test genes, per mark and class: generated "
                "genes, and the real training genes (the ceiling sampling noise allows)",
                profiles_r,
            ),
        ],
        images=[
            ("mean profiles, real vs generated", figure_png(plot_profile_panels(pd.concat(tidy))))
        ],
    )
    for cls, (real_c, fake_c) in q["mark_correlations"].items():
        quality.images.append(
            (
                f"mark-mark correlations, {cls}",
                figure_png(plot_correlation_pair(real_c, fake_c, marks, title=cls)),
            )
        )

    real, fake, y = q["samples"]
    examples = []
    rng = np.random.default_rng(seed)
    for k, name in ((1, "high"), (0, "low")):
        idx = np.flatnonzero(y == k) if gan.task == "classification" else np.arange(len(y))
        if idx.size == 0:
            continue
        for i in rng.choice(idx, size=min(4, idx.size), replace=False):
            examples.append((f"generated, {name}", fake[i]))
        for i in rng.choice(idx, size=min(4, idx.size), replace=False):
            examples.append((f"real, {name}", real[i]))
    _, walk = condition_walk(gan, seed=seed)
    _, real_walk = expression_walk(gan, test)
    views = Section(
        "GAN: what combinations of marks go with expression?",
        text=(
            "Left of each pair of rows: genes the GAN generates, right: real test genes. The walk "
            "holds the generator's noise fixed (256 draws, averaged) and moves its condition from "
            "the low to the high class; the real view averages real genes in "
            f"{len(real_walk)} groups from the lowest to the highest expression. Marks that "
            "brighten or darken together along the walk are the combinations the GAN learnt."
        ),
        images=[
            ("generated and real genes per class", figure_png(plot_examples(examples, marks))),
            (
                "walk from low to high expression, generated vs real",
                figure_png(
                    plot_walks(
                        [
                            ("generated: condition walk", walk),
                            ("real: expression groups", real_walk),
                        ],
                        marks,
                    )
                ),
            ),
        ],
    )
    return [quality, views]


def gan_section(table: pd.DataFrame, results: Path) -> list[Section]:
    """The GAN sections for the first seed's GAN run of an experiment, if there is one."""
    from ..data import load_cell
    from ..train import TrainedModel

    if not results.is_dir() or "model_name" not in table:
        return []
    runs = table[(table["model_name"] == "gan") & (table["source"] == "same")]
    if runs.empty:
        return []
    run = runs.sort_values("seed").iloc[0]
    folder = results / "runs" / run["run_id"]
    gan = TrainedModel.load(folder / "model.pt")
    config = yaml.safe_load((folder / "config.yaml").read_text())
    cell = config["data"]["cells"][run["test_cell"]]
    splits = load_cell(cell, expression=config["data"].get("expression"))
    return gan_sections(gan, splits["train"], splits["test"], seed=int(run["seed"]))
