"""Plots (matplotlib, Agg). Each takes a table or arrays and an optional ``ax``, returns the Axes,
and computes nothing."""

from __future__ import annotations

from .plots import plot_history, plot_roc, save_figure

__all__ = ["plot_history", "plot_roc", "save_figure"]
