"""Classical baselines on scikit-learn, with the same registry and the same fit() path."""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from .registry import register


class PooledFeatures:
    """Estimator over per-mark pooled signals (``pooled``) or the flat matrix (``flat``).

    Inputs are the package's transformed ``(genes, marks, bins)`` arrays. Features are
    standardised inside the estimator. Classification: logistic regression (L2, ``C``);
    regression: ridge (``alpha = 1/C``).
    """

    features: Literal["pooled", "flat"] = "pooled"

    def __init__(
        self,
        *,
        n_marks: int = 5,
        n_bins: int = 100,
        n_outputs: int = 2,
        C: float = 1.0,
        pooling: Literal["max", "mean", "sum"] = "mean",
        max_iter: int = 2000,
    ) -> None:
        if pooling not in ("max", "mean", "sum"):
            raise ValueError(f"pooling must be max, mean or sum, not {pooling!r}")
        self.n_outputs = n_outputs
        self.pooling = pooling
        self.scaler = StandardScaler()
        if n_outputs == 1:
            self.estimator: LogisticRegression | Ridge = Ridge(alpha=1.0 / C)
        else:
            self.estimator = LogisticRegression(C=C, max_iter=max_iter)

    def features_of(self, x: np.ndarray) -> np.ndarray:
        if self.features == "flat":
            return x.reshape(len(x), -1)  # (genes, marks * bins)
        return getattr(np, self.pooling)(x, axis=2)  # (genes, marks)

    def fit(self, x: np.ndarray, y: np.ndarray) -> PooledFeatures:
        f = self.scaler.fit_transform(self.features_of(x))
        self.estimator.fit(f, y)
        self.mean_ = self.scaler.mean_.astype(np.float64)
        self.scale_ = self.scaler.scale_.astype(np.float64)
        self.coef_ = np.atleast_2d(self.estimator.coef_).astype(np.float64)
        self.intercept_ = np.atleast_1d(self.estimator.intercept_).astype(np.float64)
        return self

    def _linear(self, x: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise RuntimeError(f"{type(self).__name__} used before fit()")
        f = (self.features_of(x) - self.mean_) / self.scale_
        return f @ self.coef_[0] + self.intercept_[0]

    def decision(self, x: np.ndarray) -> np.ndarray:
        """Positive-class probability (classification) or the prediction (regression)."""
        z = self._linear(x)
        return z if self.n_outputs == 1 else 1.0 / (1.0 + np.exp(-z))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = self.decision(x)
        return np.column_stack([1 - p, p])

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.n_outputs == 1:
            return self.decision(x)
        return (self.decision(x) > 0.5).astype(np.int64)

    def state(self) -> dict[str, np.ndarray]:
        """The fitted coefficients as arrays (what a checkpoint stores)."""
        return {k: getattr(self, k) for k in ("mean_", "scale_", "coef_", "intercept_")}

    def load_state(self, state: dict[str, np.ndarray]) -> PooledFeatures:
        for k, v in state.items():
            setattr(self, k, np.asarray(v, dtype=np.float64))
        return self

    def n_parameters(self) -> int:
        return int(self.coef_.size + self.intercept_.size) if hasattr(self, "coef_") else 0


@register("logreg", family="classical")
class PooledLogistic(PooledFeatures):
    """Logistic regression on per-mark pooled signals (ridge for regression)."""

    features = "pooled"


@register("prior", family="classical", inputs="compendium")
class CompendiumPrior(PooledFeatures):
    """The compendium prior: logistic regression on the gene's expression across other cells.

    It reads only the compendium profile channels (mean, sd and median of log2(RPKM + 1) over
    the compendium's cells; see ``simplechrome.data.compendium``), never a histone mark: the
    baseline any model given the compendium must beat.
    """

    features = "pooled"


@register("logreg_flat", family="classical")
class FlatLogistic(PooledFeatures):
    """Logistic regression on the flattened marks x bins matrix (ridge for regression)."""

    features = "flat"
