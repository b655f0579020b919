"""Report section for attention models, drawn from the run's stored interpretation tables:
attention profiles and distributions, one gene's attention, class-optimisation maps and
attributions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments.results import Results, home_runs
from .html import Section
from .plots import (
    figure_png,
    plot_class_maps,
    plot_class_profiles,
    plot_gene_attention,
    plot_mark_attention,
)


def _maps(table: pd.DataFrame, marks: list[str]) -> dict[int, np.ndarray]:
    """Tidy ``class, mark, bin, value`` rows -> ``{0: (marks, bins), 1: (marks, bins)}``."""
    out = {}
    for c, name in ((0, "low"), (1, "high")):
        part = table[table["class"] == name]
        out[c] = part.pivot(index="mark", columns="bin", values="value").loc[marks].to_numpy()
    return out


def interpretation_section(found: Results) -> Section | None:
    """For the first seed's run that stored interpretation tables (an attention model)."""
    if not found.has_runs:
        return None
    home = home_runs(found.table)
    run = found.first_run(found.table["run_id"].isin(home["run_id"]), analysis="interpretation")
    if run is None:
        return None

    def get(name: str):
        return found.analysis(run["run_id"], name)

    profiles, per_gene = get("attention_profiles"), get("mark_attention")
    example, summary = get("example_gene"), get("interpretation")
    marks = list(dict.fromkeys(example["mark"]))
    images = [
        (
            "mean bin attention, high vs low",
            figure_png(plot_class_profiles(profiles.rename(columns={"class": "group"}))),
        ),
        (
            "mark attention distribution",
            figure_png(plot_mark_attention(per_gene.rename(columns={"class": "group"}))),
        ),
    ]
    gene = example["gene_id"].iloc[0]
    shape = (len(marks), -1)
    images.append(
        (
            f"attention {gene}",
            figure_png(
                plot_gene_attention(
                    example["attention"].to_numpy().reshape(shape),
                    example["input"].to_numpy().reshape(shape),
                    marks,
                    title=f"{gene} (highest score, label {int(example['label'].iloc[0])})",
                )
            ),
        )
    )
    images.append(
        (
            "class-optimisation maps",
            figure_png(
                plot_class_maps(
                    _maps(get("class_maps"), marks),
                    marks,
                    title="class-optimisation maps (standardised input)",
                    label="input value",
                )
            ),
        )
    )
    images.append(
        (
            "attributions",
            figure_png(
                plot_class_maps(
                    _maps(get("attributions"), marks),
                    marks,
                    title="integrated gradients toward each gene's own class",
                    label="attribution",
                )
            ),
        )
    )
    means = summary["mean_mark_attention"]
    row = {"run": run["run_id"]}
    for group in ("high", "low"):
        if group in means:
            row[f"mean mark attention ({group})"] = ", ".join(
                f"{m} {v:.2f}" for m, v in means[group].items()
            )
    if "h3k4me3_tss_map_high_minus_low" in summary:
        row["H3K4me3 at TSS, map high - low"] = f"{summary['h3k4me3_tss_map_high_minus_low']:+.3f}"
        row["H3K4me3 at TSS, attribution high - low"] = (
            f"{summary['h3k4me3_tss_attribution_high_minus_low']:+.4f}"
        )
    return Section(
        "AttentiveChrome: attention, class-optimisation maps and attributions",
        "First seed's model on its test genes. Class-optimisation maps: inputs optimised for each "
        "class's logit margin under an L2 penalty (4 starts, averaged). Attributions: integrated "
        "gradients from the average gene (zero in the standardised space), 200 genes per class.",
        tables=[("Summary", pd.DataFrame([row]))],
        images=images,
    )
