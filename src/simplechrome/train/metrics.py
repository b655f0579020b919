"""Evaluation metrics (scikit-learn / scipy), one function per task family."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score, roc_curve


def classification_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float | int | None]:
    """AUROC and AUPRC of the positive-class probability; accuracy at 0.5.

    AUROC and AUPRC are ``None`` when ``y`` holds a single class (they are undefined then).
    """
    y = np.asarray(y)
    both = len(np.unique(y)) == 2
    return {
        "auroc": float(roc_auc_score(y, score)) if both else None,
        "auprc": float(average_precision_score(y, score)) if both else None,
        "accuracy": float(accuracy_score(y, score > 0.5)),
        "n_genes": int(len(y)),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, float | int | None]:
    """Pearson and Spearman correlation and mean squared error."""
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    varied = len(y) > 1 and np.std(y) > 0 and np.std(pred) > 0
    return {
        "pearson": float(stats.pearsonr(y, pred)[0]) if varied else None,
        "spearman": float(stats.spearmanr(y, pred)[0]) if varied else None,
        "mse": float(np.mean((y - pred) ** 2)),
        "n_genes": int(len(y)),
    }


def score_for_monitor(metrics: dict, task: str) -> float:
    """The number early stopping maximises: AUROC (classification) or Pearson (regression)."""
    value = metrics["auroc" if task == "classification" else "pearson"]
    return -math.inf if value is None or math.isnan(value) else float(value)


def compute(task: str, y: np.ndarray, score: np.ndarray) -> dict[str, float | int | None]:
    if task == "classification":
        return classification_metrics(y, score)
    return regression_metrics(y, score)


def roc_table(y: np.ndarray, score: np.ndarray, **labels: str) -> pd.DataFrame:
    """ROC curve points (``fpr``, ``tpr``) with constant label columns, for plotting."""
    fpr, tpr, _ = roc_curve(y, score)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, **labels})
