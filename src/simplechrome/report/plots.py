"""Plot functions: tables in, Axes out."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from .._io import atomic_write  # noqa: E402


def plot_roc(curves: pd.DataFrame, ax: Axes | None = None, *, by: str = "model") -> Axes:
    """ROC curves from a table with ``fpr``, ``tpr`` and a ``by`` column (one line per value).

    A legend entry may carry the AUROC when the table has an ``auroc`` column.
    """
    ax = ax or plt.subplots(figsize=(4.5, 4.5))[1]
    for i, (name, part) in enumerate(curves.groupby(by, sort=False)):
        label = str(name)
        if "auroc" in part:
            label += f" (AUROC {part['auroc'].iloc[0]:.3f})"
        ax.plot(part["fpr"], part["tpr"], label=label, lw=1.5, color=f"C{i % 10}")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1))
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_history(history: pd.DataFrame, ax: Axes | None = None, *, by: str = "model") -> Axes:
    """Validation score per epoch from a table with ``epoch``, ``val_auroc`` or ``val_pearson``."""
    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    col = "val_auroc" if "val_auroc" in history else "val_pearson"
    # colour by order of appearance, as plot_roc does, so one model keeps one colour
    for i, (name, part) in enumerate(history.groupby(by, sort=False)):
        if len(part) > 1:
            ax.plot(part["epoch"], part[col], marker=".", label=str(name), color=f"C{i % 10}")
    ax.set(xlabel="epoch", ylabel=col.replace("_", " "))
    ax.legend(fontsize="small")
    return ax


def save_figure(ax: Axes, path: str | Path, *, dpi: int = 120) -> Path:
    """Write the Axes' figure as PNG atomically and close it."""
    fig = ax.figure
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=dpi)
    plt.close(fig)
    return Path(path)
