"""Input transform: log1p, then per-mark standardisation, with statistics fitted on train only."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class InputTransform:
    """``x -> (log1p(x) - mean[mark]) / std[mark]``; both steps optional.

    Regression targets are standardised too (``y_mean``, ``y_std``) so that one learning rate
    suits any expression scale; predictions are mapped back.
    """

    log1p: bool = True
    standardize: bool = True
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    y_mean: float = 0.0
    y_std: float = 1.0

    def fit(
        self, x: np.ndarray, y: np.ndarray | None = None, *, regression: bool = False
    ) -> InputTransform:
        """Fit on the training split ``x`` of ``(genes, marks, bins)``."""
        z = np.log1p(x) if self.log1p else x
        if self.standardize:
            self.mean = z.mean(axis=(0, 2), dtype=np.float64).astype(np.float32)
            std = z.std(axis=(0, 2), dtype=np.float64).astype(np.float32)
            self.std = np.where(std > 0, std, 1.0).astype(np.float32)
        if regression and y is not None:
            self.y_mean = float(np.mean(y))
            self.y_std = float(np.std(y)) or 1.0
        return self

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = np.log1p(x) if self.log1p else np.asarray(x, dtype=np.float32)
        if self.standardize:
            if self.mean is None or self.std is None:
                raise RuntimeError("InputTransform used before fit()")
            z = (z - self.mean[None, :, None]) / self.std[None, :, None]
        return np.ascontiguousarray(z, dtype=np.float32)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Back to the input's scale (read counts): undo the standardisation, then log1p.
        Negative results (a generator can go below zero counts) are clipped to 0, and so are
        values within float32 rounding of a transformed zero (``-mean / std`` is not exactly
        representable, so an exact zero would otherwise come back as about 1e-8 counts)."""
        x = np.asarray(z, dtype=np.float64)
        if self.standardize:
            if self.mean is None or self.std is None:
                raise RuntimeError("InputTransform used before fit()")
            x = x * self.std[None, :, None] + self.mean[None, :, None]
            rounding = 1e-6 * (np.abs(self.mean) + 1.0)[None, :, None]
            x = np.where(np.abs(x) <= rounding, 0.0, x)
        if self.log1p:
            x = np.expm1(x)
        return np.clip(x, 0.0, None).astype(np.float32)

    def scale_y(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.y_mean) / self.y_std).astype(np.float32)

    def unscale_y(self, y: np.ndarray) -> np.ndarray:
        return y * self.y_std + self.y_mean

    def state(self) -> dict:
        return {
            "log1p": self.log1p,
            "standardize": self.standardize,
            "mean": None if self.mean is None else self.mean.tolist(),
            "std": None if self.std is None else self.std.tolist(),
            "y_mean": self.y_mean,
            "y_std": self.y_std,
        }

    @classmethod
    def from_state(cls, state: dict) -> InputTransform:
        def arr(v: list | None) -> np.ndarray | None:
            return None if v is None else np.asarray(v, dtype=np.float32)

        return cls(
            log1p=state["log1p"],
            standardize=state["standardize"],
            mean=arr(state["mean"]),
            std=arr(state["std"]),
            y_mean=state["y_mean"],
            y_std=state["y_std"],
        )
