"""Report sections for a conditional GAN, drawn from the run's stored quality tables: is it any
good, and what does it show?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiments.results import Results
from .html import Section
from .plots import figure_png
from .plots_gan import plot_correlation_pair, plot_examples, plot_profile_panels, plot_walks

QUALITY_ROWS = [
    ("two_sample_auroc", "two-sample AUROC, real test vs generated (0.5: indistinguishable)"),
    ("two_sample_reference", "the same, real training vs real test genes (real data's own)"),
    ("tstr_auroc", "logistic regression trained on generated genes: real test AUROC"),
    ("trtr_auroc", "the same trained on the real training genes"),
    ("sliced_wasserstein", "sliced Wasserstein distance to the real test genes (per class)"),
]


def _arrays(table: pd.DataFrame, by: str) -> list[tuple[str, np.ndarray]]:
    """Tidy ``mark, bin, value`` rows grouped by ``by`` -> ``(name, (marks, bins))`` pairs."""
    out = []
    for name, part in table.groupby(by, sort=False):
        marks = list(dict.fromkeys(part["mark"]))
        out.append((str(name), part["value"].to_numpy().reshape(len(marks), -1)))
    return out


def gan_report(tables: dict, *, title: str) -> list[Section]:
    """The GAN's two sections from its stored analysis tables (``interpret.analyses``)."""
    q = tables["gan_quality"]
    rows = [(label, q[key]) for key, label in QUALITY_ROWS if q.get(key) is not None]
    rows += [
        (f"largest mark-mark correlation gap, {cls}", gap) for cls, gap in q["max_corr_gap"].items()
    ]
    if "reference" in q:  # runs measured before the real-data references have none
        rows += [
            (f"the same, real training vs real test genes, {cls}", gap)
            for cls, gap in q["reference"]["max_corr_gap"].items()
        ] + [
            (f"the same, generated vs real training genes, {cls}", gap)
            for cls, gap in q["max_corr_gap_train"].items()
        ]
    numbers = pd.DataFrame(rows, columns=["measure", "value"]).round(4)
    p = tables["gan_profiles"]
    profiles_r = p.pivot(index="mark", columns="class", values="pearson_r").add_prefix(
        "generated, "
    )
    ceiling = p.pivot(index="mark", columns="class", values="ceiling")
    profiles_r = profiles_r.join(ceiling.add_prefix("real training genes, ")).round(4).reset_index()
    # measured before the count was recorded (2026-12-06): one draw
    profile_draws = q.get("profile_draws", 1)
    zeros = pd.DataFrame(q["zero_fraction"]).rename_axis("mark").reset_index().round(4)
    trend = q["walk_trend_r"]
    corr = tables["gan_mark_correlations"]
    marks = list(dict.fromkeys(corr["mark_a"]))
    quality = Section(
        "GAN: how close are generated genes to real ones?",
        text=(
            f"{title} (conditioned on the expression {q['conditioned_on']}): one generated gene "
            f"per real test gene under its condition ({q['n_test_genes']} of each), compared in "
            "the transformed space every model reads (log1p, per-mark standardisation). The "
            "two-sample test is a gradient-boosted classifier told to separate real from "
            "generated genes, scored by 2-fold cross-validation; beside it, the same test "
            "between real training and real test genes. The test genes are a block of the "
            "gene IDs, not a random draw, so real training genes miss real test genes too: "
            "the 'real training' rows say by how much."
        ),
        tables=[
            ("Quality", numbers),
            (
                "Mean-profile Pearson r with the real test genes, per mark and class: generated "
                f"genes ({profile_draws} per test gene, averaged), and the real training genes "
                "(the ceiling sampling noise allows)",
                profiles_r,
            ),
            (
                "Fraction of bins reading exactly zero: real test genes, generated genes, and "
                "(where measured) the real training genes in the test genes' class mix",
                zeros,
            ),
        ],
        images=[
            (
                "mean profiles, real vs generated",
                figure_png(plot_profile_panels(tables["gan_mean_profiles"])),
            )
        ],
    )
    for cls, part in corr.groupby("class", sort=False):
        matrices = {
            source: grp.pivot(index="mark_a", columns="mark_b", values="r").loc[marks, marks]
            for source, grp in part.groupby("source")
        }
        quality.images.append(
            (
                f"mark-mark correlations, {cls}",
                figure_png(
                    plot_correlation_pair(
                        matrices["real"].to_numpy(),
                        matrices["generated"].to_numpy(),
                        marks,
                        title=str(cls),
                    )
                ),
            )
        )
    examples = [
        (name.rsplit(" ", 1)[0], x) for name, x in _arrays(tables["gan_examples"], "example")
    ]
    walk = tables["gan_walk"]
    walks = []
    for name, label in (("generated", "generated: condition walk"),
                        ("real", "real: genes by rising expression")):  # fmt: skip
        steps = _arrays(walk[walk["walk"] == name], "step")
        walks.append((label, np.stack([x for _, x in steps])))
    # measured before the count was recorded (2026-12-05): 256 draws
    draws = f"{q.get('walk_draws', 256):,} draws, averaged"
    views = Section(
        "GAN: what combinations of marks go with expression?",
        text=(
            "Left of each pair of rows: genes the GAN generates, right: real test genes. The walk "
            f"holds the generator's noise fixed ({draws}) and moves its condition from "
            "low to high expression; the real view averages real genes in "
            f"{len(walks[1][1])} groups of rising expression. Each mark's row is labelled with "
            "the correlation between the two trends of its mean signal. Marks that brighten or "
            "darken together along the walk are the combinations the GAN learnt."
        ),
        tables=[
            (
                "Per-mark trend correlation, generated walk vs real test genes (and, where "
                "measured, the real training genes' trend vs the real test genes': the ceiling; "
                "and the generated walk vs the real training genes, whose trend it learnt)",
                pd.DataFrame(
                    {"mark": list(trend), "trend r": list(trend.values())}
                    | {
                        column: [q[key][m] for m in trend]
                        for key, column in (
                            ("walk_ceiling", "ceiling"),
                            ("walk_trend_r_train", "trend r, training genes"),
                        )
                        if key in q
                    }  # fmt: skip
                ).round(4),
            )
        ],
        images=[
            ("generated and real genes per class", figure_png(plot_examples(examples, marks))),
            (
                "walk from low to high expression, generated vs real",
                figure_png(plot_walks(walks, marks, trend_r=trend)),
            ),
        ],
    )
    return [quality, views]


GAN_TABLES = (
    "gan_quality",
    "gan_profiles",
    "gan_mean_profiles",
    "gan_mark_correlations",
    "gan_examples",
    "gan_walk",
)


def gan_sections(found: Results) -> list[Section]:
    """The GAN sections for the first seed's GAN run of an experiment, if there is one."""
    if not found.has_runs:
        return []
    run = found.first_run(found.table["source"] == "same", analysis="gan_quality")
    if run is None:
        return []
    tables = {name: found.analysis(run["run_id"], name) for name in GAN_TABLES}
    return gan_report(tables, title=f"{run['model']} on {run['test_cell']}")
