"""What a shipped model's folder holds, and the small pieces both its builder and its user
need: the stored compendium, checksums, the calibration map."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_write

FORMAT = 1
NETWORKS = ("classifier", "regressor", "histone_classifier", "histone_regressor")
FILES = (*(f"{n}.pt" for n in NETWORKS), "scorer.json", "compendium.npy", "genes.txt")


@dataclasses.dataclass(frozen=True)
class Compendium:
    """``log2(RPKM + 1)`` of ``genes`` x ``columns`` (float16, as shipped)."""

    genes: np.ndarray
    columns: tuple[str, ...]
    log: np.ndarray

    @classmethod
    def from_rpkm(cls, expression: pd.DataFrame, columns: list[str]) -> Compendium:
        logs = np.log2(expression[columns].to_numpy(np.float64) + 1.0).astype(np.float16)
        return cls(expression.index.to_numpy(str), tuple(columns), logs)

    def rpkm(self) -> pd.DataFrame:
        """The matrix as the compendium functions read it (RPKM: ``2**log - 1``, so that their
        ``log2(RPKM + 1)`` gives back the stored values)."""
        values = np.exp2(self.log.astype(np.float64)) - 1.0
        return pd.DataFrame(values, index=self.genes, columns=list(self.columns))

    def write(self, folder: Path) -> None:
        with atomic_write(folder / "compendium.npy", "wb") as fh:
            np.save(fh, self.log, allow_pickle=False)
        with atomic_write(folder / "genes.txt") as fh:
            fh.write("\n".join(self.genes) + "\n")

    @classmethod
    def read(cls, folder: Path, columns: list[str]) -> Compendium:
        logs = np.load(folder / "compendium.npy", allow_pickle=False)
        genes = np.array((folder / "genes.txt").read_text().split())
        return cls(genes, tuple(columns), logs)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over ``bins`` equal-width probability bins,
    weighted by the bins' gene counts."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(y[inside].mean() - p[inside].mean())
    return float(total / len(y))
