"""Ways to split one cell's genes into train / valid / test."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..ids import isin
from .histone import HistoneData

SPLITS = ("train", "valid", "test")
#: Defaults of the chromosome hold-out: about 15% of genes validate and 20% test.
VALID_CHROMS = ("chr2", "chr4", "chr6")
TEST_CHROMS = ("chr1", "chr3", "chr5")


def split_by_chromosome(
    data: HistoneData,
    *,
    valid_chroms: tuple[str, ...] = VALID_CHROMS,
    test_chroms: tuple[str, ...] = TEST_CHROMS,
) -> dict[str, HistoneData]:
    """Hold out whole chromosomes (needs ``data.tss``); genes without a TSS are dropped."""
    if data.tss is None:
        raise InputError("a chromosome split needs a TSS table: load the cell with gtf=...")
    overlap = set(valid_chroms) & set(test_chroms)
    if overlap:
        raise InputError(f"chromosome(s) {sorted(overlap)} are both in valid and test")
    chrom = data.tss["chrom"].reindex(data.gene_ids).to_numpy()
    known = np.array([isinstance(c, str) for c in chrom])
    # "chr1" (UCSC, GENCODE) and "1" (Ensembl) name the same chromosome
    bare = np.array([c.removeprefix("chr") if isinstance(c, str) else "" for c in chrom])
    is_valid = known & isin(bare, [c.removeprefix("chr") for c in valid_chroms])
    is_test = known & isin(bare, [c.removeprefix("chr") for c in test_chroms])
    out = {
        "train": data.subset(known & ~is_valid & ~is_test),
        "valid": data.subset(is_valid),
        "test": data.subset(is_test),
    }
    for name, part in out.items():
        if part.n_genes == 0:
            raise InputError(f"chromosome split leaves {name} empty; check chromosome names")
    return out


def split_random(
    data: HistoneData, *, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2), seed: int = 0
) -> dict[str, HistoneData]:
    """A seeded random split of the genes in the given train/valid/test fractions."""
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise InputError(f"fractions must be three positive numbers summing to 1, not {fractions}")
    order = np.random.default_rng(seed).permutation(data.n_genes)
    n_train = int(round(fractions[0] * data.n_genes))
    n_valid = int(round(fractions[1] * data.n_genes))
    parts = np.split(order, [n_train, n_train + n_valid])
    return {name: data.subset(np.sort(idx)) for name, idx in zip(SPLITS, parts, strict=True)}


def budget_indices(
    n_train: int, n_valid: int, size: int, *, seed: int = 0, valid_fraction: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a labelled budget of ``size`` genes: ``round(valid_fraction * size)``
    early-stopping rows of the valid split and the rest training rows of the train split.

    Each part is a prefix of one seeded permutation of its split, so budgets are nested: the
    genes of a smaller budget are among those of a larger one, in the same roles.
    """
    n_v = max(1, int(round(valid_fraction * size)))
    n_t = size - n_v
    if n_t < 2:
        raise InputError(f"a labelled budget of {size} genes leaves fewer than 2 to train on")
    if n_t > n_train or n_v > n_valid:
        raise InputError(
            f"a labelled budget of {size} genes needs {n_t} training and {n_v} "
            f"early-stopping genes; the splits hold {n_train} and {n_valid}"
        )
    rng = np.random.default_rng(seed)
    train_order = rng.permutation(n_train)
    valid_order = rng.permutation(n_valid)
    return np.sort(train_order[:n_t]), np.sort(valid_order[:n_v])


def labelled_budget(
    train: HistoneData,
    valid: HistoneData,
    size: int,
    *,
    seed: int = 0,
    valid_fraction: float = 0.2,
) -> tuple[HistoneData, HistoneData]:
    """A labelled budget of ``size`` genes (see ``budget_indices``): only the chosen genes'
    labels are ever read, and every model family gets the same genes."""
    rows_t, rows_v = budget_indices(
        train.n_genes, valid.n_genes, size, seed=seed, valid_fraction=valid_fraction
    )
    return train.subset(rows_t), valid.subset(rows_v)
