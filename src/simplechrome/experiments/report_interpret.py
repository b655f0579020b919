"""Report section for attention models: attention maps, class-optimisation maps, attributions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..report import (
    Section,
    figure_png,
    plot_class_maps,
    plot_class_profiles,
    plot_gene_attention,
    plot_mark_attention,
)

GROUPS = {1: "high", 0: "low"}


def interpretation_section(table: pd.DataFrame, results: Path) -> Section | None:
    """For the first seed's attention model: what it attends to and what it responds to."""
    from ..data import load_cell
    from ..interpret import class_optimisation_maps, integrated_gradients
    from ..train import TrainedModel

    if not results.is_dir() or "model_name" not in table:
        return None
    runs = table[(table["source"] == "same") & (table["size"] == -1)]
    runs = runs[runs["model_name"] == "attentivechrome"].sort_values("seed")
    if runs.empty:
        return None
    run = runs.iloc[0]
    folder = results / "runs" / run["run_id"]
    model = TrainedModel.load(folder / "model.pt")
    config = yaml.safe_load((folder / "config.yaml").read_text())
    test = load_cell(config["data"]["cells"][run["test_cell"]])["test"].with_marks(model.marks)
    bins, marks_att = model.attention(test)
    marks = list(model.marks)
    images = []

    profiles = pd.concat(
        [
            pd.DataFrame(
                {
                    "mark": np.repeat(marks, model.n_bins),
                    "bin": np.tile(np.arange(1, model.n_bins + 1), len(marks)),
                    "value": bins[test.y == c].mean(axis=0).reshape(-1),
                    "group": GROUPS[c],
                }
            )
            for c in (1, 0)
        ]
    )
    images.append(("mean bin attention, high vs low", figure_png(plot_class_profiles(profiles))))
    dist = pd.concat(
        [
            pd.DataFrame(
                {
                    "mark": np.tile(marks, int((test.y == c).sum())),
                    "attention": marks_att[test.y == c].reshape(-1),
                    "group": GROUPS[c],
                }
            )
            for c in (1, 0)
        ]
    )
    images.append(("mark attention distribution", figure_png(plot_mark_attention(dist))))
    scores = model.predict_scores(test)
    top = int(np.argmax(scores))
    x = model.transform(test.x[top : top + 1])[0]
    images.append(
        (
            f"attention {test.gene_ids[top]}",
            figure_png(
                plot_gene_attention(
                    bins[top],
                    x,
                    marks,
                    title=f"{test.gene_ids[top]} (highest score, label {test.y[top]})",
                )
            ),
        )
    )
    maps = class_optimisation_maps(model, steps=150, starts=4)
    images.append(
        (
            "class-optimisation maps",
            figure_png(
                plot_class_maps(
                    maps,
                    marks,
                    title="class-optimisation maps (standardised input)",
                    label="input value",
                )
            ),
        )
    )
    attributions = integrated_gradients(model, test, max_genes=200, steps=16)
    images.append(
        (
            "attributions",
            figure_png(
                plot_class_maps(
                    attributions,
                    marks,
                    title="integrated gradients toward each gene's own class",
                    label="attribution",
                )
            ),
        )
    )

    def mean_att(c: int) -> str:
        values = marks_att[test.y == c].mean(0)
        return ", ".join(f"{m} {v:.2f}" for m, v in zip(marks, values, strict=True))

    row = {
        "run": run["run_id"],
        "mean mark attention (high)": mean_att(1),
        "mean mark attention (low)": mean_att(0),
    }
    if "H3K4me3" in marks:
        row["H3K4me3 at TSS, map high - low"] = f"{_tss_gap(maps, marks):+.3f}"
        row["H3K4me3 at TSS, attribution high - low"] = f"{_tss_gap(attributions, marks):+.4f}"
    summary = pd.DataFrame([row])
    return Section(
        "AttentiveChrome: attention, class-optimisation maps and attributions",
        "First seed's model on its test genes. Class-optimisation maps: inputs optimised for each "
        "class's logit margin under an L2 penalty (4 starts, averaged). Attributions: integrated "
        "gradients from the average gene (zero in the standardised space), 200 genes per class.",
        tables=[("Summary", summary)],
        images=images,
    )


def _tss_gap(arrays: dict[int, np.ndarray], marks: list[str]) -> float:
    """High minus low class mean of H3K4me3 over the central fifth of the bins (the TSS)."""
    k4 = marks.index("H3K4me3")
    n = arrays[1].shape[1]
    centre = slice(2 * n // 5, 3 * n // 5)
    return float(arrays[1][k4, centre].mean() - arrays[0][k4, centre].mean())
