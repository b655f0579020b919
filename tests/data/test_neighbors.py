from __future__ import annotations

import numpy as np
import pytest

from simplechrome.data import neighbor_indices, split_by_chromosome, split_random
from simplechrome.errors import InputError


def test_genome_neighbours_are_the_nearest_on_the_chromosome(synthetic):
    data = synthetic.splits["train"]
    k = 5
    idx = neighbor_indices(data, k, by="genome")
    tss = synthetic.tss.loc[data.gene_ids]
    chrom, pos = tss["chrom"].to_numpy(), tss["tss"].to_numpy()
    for i in range(0, data.n_genes, 37):  # brute force on a sample of genes
        others = np.flatnonzero((chrom == chrom[i]) & (np.arange(data.n_genes) != i))
        expected = np.sort(np.abs(pos[others] - pos[i]))[:k]
        got = np.abs(pos[idx[i]] - pos[i])
        assert (chrom[idx[i]] == chrom[i]).all()
        np.testing.assert_array_equal(np.sort(got), expected)
        assert i not in idx[i]


def test_accessor_returns_neighbour_matrices(synthetic):
    data = synthetic.splits["train"]
    x, ids = data.get_neighbors_data(data.gene_ids[3], 4, by="genome")
    assert x.shape == (4, data.n_marks, data.n_bins) and len(ids) == 4
    np.testing.assert_array_equal(x[0], data.get_gene_data(ids[0])[0])


def test_coexpression_leaves_the_target_cell_out(synthetic):
    data = synthetic.splits["train"]
    before = neighbor_indices(data, 5, by="coexpression")
    # scrambling the target cell's own column (the label) must change nothing
    expr = synthetic.expression.copy()
    expr[data.cell] = np.random.default_rng(0).permutation(expr[data.cell].to_numpy())
    after = neighbor_indices(data.replace(expression=expr), 5, by="coexpression")
    np.testing.assert_array_equal(before, after)
    # ... while another cell's column does count
    expr2 = synthetic.expression.copy()
    other = [c for c in expr2.columns if c != data.cell][0]
    expr2[other] = np.random.default_rng(0).permutation(expr2[other].to_numpy()) * 1e3
    changed = neighbor_indices(data.replace(expression=expr2), 5, by="coexpression")
    assert not np.array_equal(before, changed)


def test_neighbourhoods_share_activity(synthetic):
    """The planted truth: genomic and co-expression neighbours are more alike than random genes."""
    data = synthetic.splits["train"]
    act = synthetic.activity.loc[data.gene_ids].to_numpy()
    corr = {}
    for by in ("genome", "coexpression", "random"):
        nb = neighbor_indices(data, 5, by=by)
        corr[by] = np.corrcoef(act, act[nb].mean(axis=1))[0, 1]
    assert corr["genome"] > 0.3 and corr["coexpression"] > 0.3
    assert abs(corr["random"]) < 0.15


def test_random_neighbours_are_seeded_and_exclude_self(synthetic):
    data = synthetic.splits["valid"]
    a = neighbor_indices(data, 6, by="random", seed=3)
    b = neighbor_indices(data, 6, by="random", seed=3)
    np.testing.assert_array_equal(a, b)
    assert not (a == np.arange(data.n_genes)[:, None]).any()


def test_neighbours_need_annotation(synthetic):
    data = synthetic.splits["train"].subset(slice(0, 10)).replace(tss=None)
    with pytest.raises(InputError, match="TSS table"):
        neighbor_indices(data, 3, by="genome")
    with pytest.raises(InputError, match="unknown neighbour"):
        neighbor_indices(data, 3, by="id-order")  # type: ignore[arg-type]


def test_chromosome_split_is_disjoint(synthetic):
    from simplechrome.data import concat

    whole = concat(list(synthetic.splits.values()))
    parts = split_by_chromosome(whole, valid_chroms=("chr2",), test_chroms=("chr3",))
    chroms = {k: set(synthetic.tss.loc[v.gene_ids, "chrom"]) for k, v in parts.items()}
    assert chroms["valid"] == {"chr2"} and chroms["test"] == {"chr3"}
    assert not chroms["train"] & {"chr2", "chr3"}
    assert sum(p.n_genes for p in parts.values()) == whole.n_genes


def test_random_split_is_a_seeded_partition(synthetic):
    from simplechrome.data import concat

    whole = concat(list(synthetic.splits.values()))
    a = split_random(whole, seed=5)
    b = split_random(whole, seed=5)
    ids = np.concatenate([p.gene_ids for p in a.values()])
    assert sorted(ids) == sorted(whole.gene_ids)
    for k in a:
        np.testing.assert_array_equal(a[k].gene_ids, b[k].gene_ids)
    assert a["train"].n_genes == 540


def test_histone_data_is_immutable(synthetic):
    import dataclasses

    data = synthetic.splits["train"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.expression = None  # type: ignore[misc]
    renamed = data.replace(cell="other")
    assert renamed.cell == "other" and data.cell == "SYN01"
