"""Plot functions: tables in, Axes out."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
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
    with atomic_write(path, "wb") as fh:
        fh.write(figure_png(ax, dpi=dpi))
    return Path(path)


def figure_png(ax: Axes, *, dpi: int = 110) -> bytes:
    """The Axes' figure as PNG bytes (the figure is closed)."""
    import io

    fig = ax.figure
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def plot_interval_bars(
    summary: pd.DataFrame,
    ax: Axes | None = None,
    *,
    x: str = "cell",
    group: str = "model",
    published: pd.DataFrame | None = None,
    ylabel: str = "test AUROC",
) -> Axes:
    """Grouped bars of ``mean`` with ``low``-``high`` interval whiskers, one group per ``x``.

    ``published`` (columns ``x``, ``auroc``, ``label``) adds hollow bars beside each group.
    """
    groups = list(dict.fromkeys(summary[group]))
    xs = list(dict.fromkeys(summary[x]))
    extra = [] if published is None or published.empty else list(dict.fromkeys(published["label"]))
    slots = len(groups) + len(extra)
    width = 0.8 / max(slots, 1)
    ax = ax or plt.subplots(figsize=(max(5, 1.2 * len(xs) * slots * 0.5 + 3), 4))[1]
    for i, g in enumerate(groups):
        part = summary[summary[group] == g].set_index(x).reindex(xs)
        pos = [j + (i - (slots - 1) / 2) * width for j in range(len(xs))]
        err = [part["mean"] - part["low"], part["high"] - part["mean"]]
        ax.bar(pos, part["mean"], width, yerr=err, capsize=3, label=str(g), color=f"C{i % 10}")
    for k, label in enumerate(extra):
        part = published[published["label"] == label].set_index(x).reindex(xs)
        i = len(groups) + k
        pos = [j + (i - (slots - 1) / 2) * width for j in range(len(xs))]
        ax.bar(pos, part["auroc"], width, fill=False, hatch="//", edgecolor="grey", label=label)
    low = min(summary["low"].min(), published["auroc"].min() if extra else 1.0)
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.set_xticks(range(len(xs)), [str(v) for v in xs], rotation=0 if len(xs) < 8 else 60)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return ax


def plot_heatmap(
    matrix: pd.DataFrame, ax: Axes | None = None, *, label: str = "test AUROC", fmt: str = "{:.3f}"
) -> Axes:
    """A matrix (rows: trained on, columns: tested on) as an annotated heatmap."""
    ax = ax or plt.subplots(figsize=(1.3 * matrix.shape[1] + 3, 0.8 * matrix.shape[0] + 2))[1]
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(range(matrix.shape[0]), [str(r) for r in matrix.index])
    ax.set_xlabel("tested on")
    ax.set_ylabel("trained on")
    finite = values[~pd.isna(values)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for (i, j), v in pd.DataFrame(values).stack().items():
        ax.text(
            j,
            i,
            fmt.format(v),
            ha="center",
            va="center",
            color="black" if v > mid else "white",
            fontsize="small",
        )
    return ax


def plot_learning_curves(
    summary: pd.DataFrame, ax: Axes | None = None, *, by: str = "model"
) -> Axes:
    """``mean`` against ``size`` (training genes) with a shaded ``low``-``high`` band per ``by``."""
    ax = ax or plt.subplots(figsize=(5.5, 4))[1]
    for i, (name, part) in enumerate(summary.groupby(by, sort=False)):
        part = part.sort_values("size")
        color = f"C{i % 10}"
        ax.plot(part["size"], part["mean"], marker="o", label=str(name), color=color)
        ax.fill_between(part["size"], part["low"], part["high"], alpha=0.2, color=color)
    ax.set_xscale("log")
    ax.set(xlabel="labelled training genes", ylabel="test AUROC")
    ax.legend(fontsize="small")
    return ax


def plot_params_vs_score(
    summary: pd.DataFrame, ax: Axes | None = None, *, by: str = "model"
) -> Axes:
    """``mean`` (with interval) against ``n_parameters`` on a log axis, one point per ``by``."""
    ax = ax or plt.subplots(figsize=(5.5, 4))[1]
    for i, (name, part) in enumerate(summary.groupby(by, sort=False)):
        err = [part["mean"] - part["low"], part["high"] - part["mean"]]
        ax.errorbar(
            part["n_parameters"],
            part["mean"],
            yerr=err,
            fmt="o",
            capsize=3,
            label=str(name),
            color=f"C{i % 10}",
        )
    ax.set_xscale("log")
    ax.set(xlabel="parameters", ylabel="test AUROC")
    ax.legend(fontsize="small")
    return ax


def plot_reconstruction(
    signal: np.ndarray,
    recon: np.ndarray,
    marks: list[str] | tuple[str, ...],
    ax: Axes | None = None,
    *,
    title: str = "",
) -> Axes:
    """One gene's ``(marks, bins)`` input (grey) and reconstruction (colour), marks stacked."""
    ax = ax or plt.subplots(figsize=(6, 1.1 * len(marks) + 1))[1]
    spread = max(float(np.ptp(signal)), 1e-6)
    for i, mark in enumerate(marks):
        offset = -i * spread
        ax.plot(signal[i] + offset, color="grey", lw=1, label="input" if i == 0 else None)
        ax.plot(
            recon[i] + offset,
            color=f"C{i % 10}",
            lw=1.8,
            label="reconstruction" if i == 0 else None,
        )
        ax.text(
            -2,
            offset + float(np.median(signal[i])),
            mark,
            ha="right",
            va="center",
            fontsize="small",
        )
    ax.set_yticks([])
    ax.set_xlabel("bin (TSS in the middle)")
    ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small", loc="upper right")
    return ax


def plot_latent(
    coords: pd.DataFrame, ax: Axes | None = None, *, color: str = "label", title: str = ""
) -> Axes:
    """A 2-D projection (columns ``x``, ``y``) coloured by ``color`` (categorical if few values)."""
    ax = ax or plt.subplots(figsize=(5, 4.5))[1]
    values = coords[color]
    if values.nunique() <= 10:
        for i, (v, part) in enumerate(coords.groupby(color)):
            ax.scatter(
                part["x"], part["y"], s=4, alpha=0.5, color=f"C{i % 10}", label=f"{color} {v}"
            )
        ax.legend(fontsize="small", markerscale=3)
    else:
        sc = ax.scatter(coords["x"], coords["y"], c=values, s=4, alpha=0.6, cmap="viridis")
        ax.figure.colorbar(sc, ax=ax, label=color)
    ax.set(xlabel="component 1", ylabel="component 2")
    ax.set_title(title, fontsize="medium")
    return ax


def plot_attention_by_rank(
    table: pd.DataFrame, ax: Axes | None = None, *, by: str = "model"
) -> Axes:
    """Mean neighbour attention (``attention``) against neighbour ``rank``, one line per ``by``.

    Rank 1 is the nearest TSS (genome) or the most correlated gene (co-expression); a flat line
    at 1/k means the model weighs its neighbours evenly.
    """
    ax = ax or plt.subplots(figsize=(7.5, 4))[1]
    for i, (name, part) in enumerate(table.groupby(by, sort=False)):
        part = part.sort_values("rank")
        ax.plot(part["rank"], part["attention"], marker=".", label=str(name), color=f"C{i % 10}")
    ax.set(xlabel="neighbour rank (1 = nearest / most co-expressed)", ylabel="mean attention")
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
    return ax


def plot_gene_attention(
    attention: np.ndarray, signal: np.ndarray, marks, ax: Axes | None = None, *, title: str = ""
) -> Axes:
    """One gene's bin attention ``(marks, bins)`` as a heatmap, its signal drawn over each row."""
    ax = ax or plt.subplots(figsize=(7, 0.6 * len(marks) + 1.5))[1]
    image = ax.imshow(attention, aspect="auto", cmap="magma", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="bin attention")
    for i in range(len(marks)):
        s = signal[i]
        span = float(np.ptp(s)) or 1.0
        ax.plot(i + 0.4 - 0.8 * (s - s.min()) / span, color="cyan", lw=0.8)
    ax.set_yticks(range(len(marks)), list(marks))
    ax.set_xlabel("bin (TSS in the middle); cyan: signal")
    ax.set_title(title, fontsize="medium")
    return ax


def plot_class_profiles(
    profiles: pd.DataFrame, ax: Axes | None = None, *, ylabel: str = "mean bin attention"
) -> Axes:
    """Per-mark profiles over bins (``mark, bin, value, group``): one colour per mark, solid for
    the first group and dashed for the second (e.g. high vs low expression)."""
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    groups = list(dict.fromkeys(profiles["group"]))
    for i, (mark, part) in enumerate(profiles.groupby("mark", sort=False)):
        for j, g in enumerate(groups):
            p = part[part["group"] == g].sort_values("bin")
            ax.plot(
                p["bin"],
                p["value"],
                color=f"C{i % 10}",
                ls="-" if j == 0 else "--",
                label=f"{mark} ({g})",
            )
    ax.set(xlabel="bin (TSS in the middle)", ylabel=ylabel)
    ax.legend(fontsize="x-small", ncol=2, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return ax


def plot_mark_attention(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Distribution of mark attention per mark (``mark, attention, group``) as box plots."""
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    marks = list(dict.fromkeys(table["mark"]))
    groups = list(dict.fromkeys(table["group"]))
    width = 0.8 / len(groups)
    for j, g in enumerate(groups):
        data = [table[(table["mark"] == m) & (table["group"] == g)]["attention"] for m in marks]
        pos = [i + (j - (len(groups) - 1) / 2) * width for i in range(len(marks))]
        box = ax.boxplot(
            data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=False
        )
        for patch in box["boxes"]:
            patch.set_facecolor(f"C{j}")
        ax.plot([], [], color=f"C{j}", lw=6, label=str(g))
    ax.set_xticks(range(len(marks)), marks)
    ax.set_ylabel("mark attention")
    ax.legend(fontsize="small")
    return ax


def plot_class_maps(
    maps: dict, marks, ax: Axes | None = None, *, title: str = "", label: str = "value"
) -> Axes:
    """Two ``(marks, bins)`` maps side by side (low class left, high class right), one scale."""
    ax = ax or plt.subplots(figsize=(9, 0.6 * len(marks) + 1.8))[1]
    low, high = maps[0], maps[1]
    gap = np.full((low.shape[0], 4), np.nan)
    joined = np.concatenate([low, gap, high], axis=1)
    limit = float(np.nanmax(np.abs(joined))) or 1.0
    image = ax.imshow(
        joined, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest"
    )
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_yticks(range(len(marks)), list(marks))
    b = low.shape[1]
    ax.set_xticks([b / 2, b + 4 + b / 2], ["low expression (class 0)", "high expression (class 1)"])
    ax.set_title(title, fontsize="medium")
    return ax


def plot_relatedness(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Test AUROC against the nearest relative left in the compendium (``nearest r``): one
    line per cell and model (models by colour, cells by marker), across relatives ceilings.
    ``table``: columns ``cell``, ``model``, ``nearest r``, ``auroc``."""
    ax = ax or plt.subplots(figsize=(7, 4.5))[1]
    markers = "os^vD<>ph*"
    cells = list(dict.fromkeys(table["cell"]))
    for i, (model, part) in enumerate(table.groupby("model", sort=False)):
        for j, cell in enumerate(cells):
            line = part[part["cell"] == cell].sort_values("nearest r")
            ax.plot(line["nearest r"], line["auroc"], color=f"C{i % 10}", lw=1, alpha=0.8,
                    marker=markers[j % len(markers)], ms=4,
                    label=str(model) if j == 0 else None)  # fmt: skip
            if i == 0 and len(line):  # name each cell once, at its no-ceiling end
                ax.annotate(str(cell), (line["nearest r"].iloc[-1], line["auroc"].iloc[-1]),
                            fontsize=7, xytext=(3, -3), textcoords="offset points")  # fmt: skip
    ax.set(xlabel="nearest relative left in the compendium (Pearson r of log expression)",
           ylabel="test AUROC (new cell type)")  # fmt: skip
    ax.legend(fontsize="small")
    return ax
