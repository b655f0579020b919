"""Plots for generated signals beside real ones: arrays or tables in, Axes out, nothing computed."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

CLASS_COLOURS = {"high": "C3", "low": "C0", "all": "C2"}


def plot_profile_panels(
    profiles: pd.DataFrame,
    axes: Sequence[Axes] | None = None,
    *,
    ylabel: str = "mean signal (transformed)",
) -> Axes:
    """Mean profiles (``mark, bin, value, class, source``): one panel per mark (``axes``, one
    per mark, or new ones), a colour per class, real solid and generated dashed. Returns the
    first panel's Axes."""
    marks = list(dict.fromkeys(profiles["mark"]))
    if axes is None:
        _, axes = plt.subplots(1, len(marks), figsize=(2.6 * len(marks) + 1, 3), sharex=True)
    axes = np.atleast_1d(axes)
    fig = axes[0].figure
    for ax, mark in zip(axes, marks, strict=True):
        part = profiles[profiles["mark"] == mark]
        for (cls, source), p in part.groupby(["class", "source"], sort=False):
            p = p.sort_values("bin")
            ax.plot(
                p["bin"],
                p["value"],
                color=CLASS_COLOURS.get(str(cls), "C7"),
                ls="-" if source == "real" else "--",
                label=f"{cls}, {source}",
            )
        ax.set_title(mark, fontsize="medium")
        ax.set_xlabel("bin (TSS in the middle)")
    axes[0].set_ylabel(ylabel)
    axes[-1].legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    return axes[0]


def plot_correlation_pair(
    real: np.ndarray,
    generated: np.ndarray,
    marks,
    axes: Sequence[Axes] | None = None,
    *,
    title: str = "",
) -> Axes:
    """Two mark-by-mark correlation matrices, real left and generated right (``axes``: two, or
    new ones), annotated."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    fig = axes[0].figure
    for ax, matrix, name in zip(axes, (real, generated), ("real", "generated"), strict=True):
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_xticks(range(len(marks)), list(marks), rotation=40, ha="right")
        ax.set_yticks(range(len(marks)), list(marks))
        ax.set_title(f"{title} {name}".strip(), fontsize="medium")
        for i in range(len(marks)):
            for j in range(len(marks)):
                ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize="x-small")
    fig.colorbar(image, ax=axes[1], label="Pearson r across genes")
    return axes[0]


def plot_examples(
    examples: list[tuple[str, np.ndarray]],
    marks,
    axes: np.ndarray | None = None,
    *,
    columns: int = 4,
) -> Axes:
    """Single genes ``(marks, bins)`` as heatmaps on one colour scale, titled by their label
    (``axes``: a grid with at least one Axes per gene, or a new one)."""
    rows = (len(examples) + columns - 1) // columns
    if axes is None:
        _, axes = plt.subplots(rows, columns, figsize=(3 * columns, 1.9 * rows), squeeze=False)
    axes = np.atleast_2d(axes)
    fig = axes[0, 0].figure
    values = np.concatenate([x.ravel() for _, x in examples]) if examples else np.zeros(1)
    lo, hi = np.percentile(values, [1, 99])
    for ax, (name, x) in zip(axes.ravel(), examples, strict=False):
        ax.imshow(x, aspect="auto", cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_yticks(range(len(marks)), list(marks), fontsize="x-small")
        ax.set_xticks([])
        ax.set_title(name, fontsize="small")
    for ax in axes.ravel()[len(examples) :]:
        ax.axis("off")
    fig.tight_layout()
    return axes[0, 0]


def plot_walks(
    walks: list[tuple[str, np.ndarray]],
    marks,
    axes: np.ndarray | None = None,
    *,
    trend_r: dict[str, float] | None = None,
) -> Axes:
    """Walks from low to high expression, ``(steps, marks, bins)`` each: a column per walk and
    a row per mark (``axes``: a marks x walks grid, or a new one), each a steps x bins heatmap
    (one colour scale per mark across walks); ``trend_r`` (per mark) labels each row."""
    if axes is None:
        _, axes = plt.subplots(
            len(marks),
            len(walks),
            figsize=(4.2 * len(walks), 1.5 * len(marks) + 0.8),
            squeeze=False,
        )
    axes = np.atleast_2d(axes)
    fig = axes[0, 0].figure
    for m, mark in enumerate(marks):
        values = np.concatenate([w[:, m].ravel() for _, w in walks])
        lo, hi = float(values.min()), float(values.max())
        for j, (name, w) in enumerate(walks):
            ax: Axes = axes[m, j]
            ax.imshow(w[:, m], aspect="auto", cmap="viridis", vmin=lo, vmax=hi, origin="lower")
            ax.set_yticks([0, len(w) - 1], ["low", "high"], fontsize="x-small")
            ax.set_xticks([])
            if j == 0:
                r = "" if trend_r is None or mark not in trend_r else f"\nr = {trend_r[mark]:.2f}"
                ax.set_ylabel(f"{mark}{r}", fontsize="small")
            if m == 0:
                ax.set_title(name, fontsize="small")
    for ax in axes[-1]:
        ax.set_xlabel("bin (TSS in the middle)", fontsize="small")
    fig.tight_layout()
    return axes[0, 0]
