"""Plots (matplotlib, Agg) and the HTML page. Each plot takes a table or arrays and an optional
``ax``, returns the Axes, and computes nothing."""

from __future__ import annotations

from .html import Section, render, write_page
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

__all__ = [
    "Section",
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
