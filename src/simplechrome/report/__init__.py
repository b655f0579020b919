"""The report: plots (matplotlib, Agg) and the HTML page, built from stored tables.

Each plot takes a table or arrays and an optional ``ax``, returns the Axes, and computes
nothing; ``build_report`` assembles the page of one or more results folders from their records,
predictions and analysis tables (read through ``simplechrome.experiments.results``).
"""

from __future__ import annotations

from .html import Section, render, write_page
from .page import build_report
from .plots import (
    figure_png,
    plot_attention_by_rank,
    plot_class_maps,
    plot_class_profiles,
    plot_gene_attention,
    plot_heatmap,
    plot_history,
    plot_interval_bars,
    plot_latent,
    plot_learning_curves,
    plot_mark_attention,
    plot_params_vs_score,
    plot_reconstruction,
    plot_roc,
    save_figure,
)
from .sections_gan import gan_report

__all__ = [
    "Section",
    "build_report",
    "gan_report",
    "figure_png",
    "plot_class_maps",
    "plot_class_profiles",
    "plot_gene_attention",
    "plot_mark_attention",
    "plot_attention_by_rank",
    "plot_heatmap",
    "plot_history",
    "plot_interval_bars",
    "plot_latent",
    "plot_learning_curves",
    "plot_params_vs_score",
    "plot_reconstruction",
    "plot_roc",
    "render",
    "save_figure",
    "write_page",
]
