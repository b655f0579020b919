"""The protocols' safety properties: a target cell's label (its RNA-seq column, its labels) is
read only where the protocol allows, whatever the folder is called, and no cache hides a leak.

Every test here runs with the on-disk caches off (``SIMPLECHROME_CACHE=off``) unless it tests a
cache, so that two fits are two fits and not one cache entry compared with itself.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from simplechrome.config import RunConfig, RunData, TrainConfig
from simplechrome.data import load_cell, make_synthetic, neighbor_indices, write_cell
from simplechrome.errors import InputError

FAST = TrainConfig(max_epochs=4, patience=1, progress=False)
EIDS = ["E012", "E003", "E123", "E027", "E028", "E066", "E070", "E087", "E094", "E100", "E113",
        "E119"]  # fmt: skip


@pytest.fixture(autouse=True)
def _no_caches(monkeypatch):
    monkeypatch.setenv("SIMPLECHROME_CACHE", "off")


@pytest.fixture(scope="module")
def roadmap_like(tmp_path_factory):
    """A synthetic cell whose compendium columns carry Roadmap EIDs (its own column: E012),
    written to disk with its expression matrix."""
    root = tmp_path_factory.mktemp("roadmap-like")
    cell = make_synthetic(600, seed=4)
    expr = cell.expression.copy()
    expr.columns = EIDS[: expr.shape[1]]  # SYN01, the label column, becomes E012
    path = root / "rpkm.pc"
    _write_matrix(expr, path)
    return cell, expr, path, root


def _write_matrix(expr: pd.DataFrame, path) -> None:
    """A Roadmap-style matrix: tab-separated, a trailing tab on data rows."""
    text = "gene_id\t" + "\t".join(expr.columns) + "\n"
    text += "".join(
        f"{g}\t" + "\t".join(f"{v:.3f}" for v in r) + "\t\n" for g, r in expr.iterrows()
    )
    path.write_text(text)


def _scrambled(expr: pd.DataFrame, column: str) -> pd.DataFrame:
    out = expr.copy()
    out[column] = np.random.default_rng(0).permutation(out[column].to_numpy()) * 7.0
    return out


@pytest.mark.parametrize("folder", ["E012", "E012-mine", "E012_rep2"])
def test_coexpression_neighbours_never_read_the_label_column(roadmap_like, tmp_path, folder):
    """The cell's own column is found from its name's EID, so replacing it by noise changes no
    neighbour, whatever the folder is called."""
    cell, expr, _, _ = roadmap_like
    path = write_cell(cell.splits, tmp_path / folder)
    train = load_cell(path, expression=expr)["train"]

    def neighbours(matrix: pd.DataFrame) -> np.ndarray:
        return neighbor_indices(train.replace(expression=matrix), 5, by="coexpression")

    before = neighbours(expr)
    np.testing.assert_array_equal(before, neighbours(_scrambled(expr, "E012")))
    assert not np.array_equal(before, neighbours(_scrambled(expr, "E003")))  # others count


def test_coexpression_neighbours_refused_when_the_label_column_is_unknown(roadmap_like, tmp_path):
    cell, expr, _, _ = roadmap_like
    path = write_cell(cell.splits, tmp_path / "mycell")
    train = load_cell(path, expression=expr)["train"]
    with pytest.raises(InputError, match="which expression column is cell 'mycell'"):
        neighbor_indices(train, 5, by="coexpression")
    named = load_cell(path, expression=expr, cell="E012")["train"]  # an explicit name resolves
    assert named.eid == "E012"
    np.testing.assert_array_equal(
        neighbor_indices(named, 5, by="coexpression"),
        neighbor_indices(named.replace(expression=_scrambled(expr, "E012")), 5, by="coexpression"),
    )


def test_a_copied_cell_folder_keeps_its_own_name(roadmap_like, tmp_path, monkeypatch):
    """The parse cache holds what the files' bytes determine; the name comes from the path."""
    monkeypatch.setenv("SIMPLECHROME_CACHE", "on")
    cell, _, _, _ = roadmap_like
    first = write_cell(cell.splits, tmp_path / "E003-sample")
    assert load_cell(first)["train"].cell == "E003-sample"  # parsed, and cached
    copy = shutil.copytree(first, tmp_path / "mycell")
    again = load_cell(copy)["train"]  # the same bytes: a cache hit
    assert again.cell == "mycell" and again.eid is None


def test_vae_pretraining_reads_no_labels(synthetic, _isolated_home):
    """Shuffled labels (train and valid) give the very same VAE, fitted twice."""
    from simplechrome.train import pretrained_vae

    s = synthetic.splits
    rng = np.random.default_rng(0)
    shuffled = {k: v.replace(y=rng.permutation(v.y)) for k, v in s.items()}
    a = pretrained_vae(s["train"], s["valid"], FAST, {})
    b = pretrained_vae(shuffled["train"], shuffled["valid"], FAST, {})
    assert not list((_isolated_home / "cache").glob("vae-*.pt"))  # both fitted, none cached
    np.testing.assert_array_equal(a.embed(s["test"]), b.embed(s["test"]))


@pytest.mark.parametrize("model", ["deepchrome", "logreg", "vae_logreg"])
def test_a_run_reads_only_the_labels_of_its_labelled_budget(tmp_path, model):
    """With a budget of 60 genes (48 to train, 12 to stop early), scrambling every other label
    (training, validation and test genes) changes no prediction of the run."""
    from simplechrome.data.splits import budget_indices
    from simplechrome.experiments import make_run

    cell = make_synthetic(600, seed=5)
    clean = write_cell(cell.splits, tmp_path / "clean" / "E012-a")
    train, valid, test = (cell.splits[k] for k in ("train", "valid", "test"))
    rows_t, rows_v = budget_indices(train.n_genes, valid.n_genes, 60, seed=0)
    rng = np.random.default_rng(1)

    def scramble(part, keep):
        y = rng.integers(0, 2, part.n_genes)
        y[keep] = part.y[keep]
        return part.replace(y=y)

    dirty = write_cell(
        {"train": scramble(train, rows_t), "valid": scramble(valid, rows_v),
         "test": scramble(test, np.zeros(0, int))},
        tmp_path / "dirty" / "E012-a",
    )  # fmt: skip
    scores = []
    for folder in (clean, dirty):
        data = RunData.one_cell(str(folder), size=60)
        run = make_run(RunConfig(model, {}, FAST), data, analyses=False)
        assert run.splits.train.n_genes == 48 and run.splits.valid.n_genes == 12
        scores.append(run.model.predict_scores(run.splits.test))
    np.testing.assert_array_equal(scores[0], scores[1])


def test_a_learning_curve_pretrains_one_vae_for_every_budget(tmp_path):
    """The VAE reads signals only, fitted on the training split and early-stopped on the whole
    validation split, so budgets of 60 and 200 labelled genes share one VAE (fitted twice here,
    caches off) and record the same unlabelled count."""
    from simplechrome.experiments import make_run

    folder = write_cell(make_synthetic(600, seed=5).splits, tmp_path / "E012-a")
    runs = [
        make_run(RunConfig("vae_logreg", {}, FAST), RunData.one_cell(str(folder), size=n),
                 analyses=False)
        for n in (60, 200)
    ]  # fmt: skip
    first, second = (r.model.pretrained for r in runs)
    # the same stopping signals each epoch (a budget's own 12 or 40 genes would score apart)
    np.testing.assert_array_equal(first.history["val_score"], second.history["val_score"])
    test = runs[0].splits.test
    np.testing.assert_array_equal(first.embed(test), second.embed(test))
    s = runs[0].splits
    assert s.n_unlabelled == s.unlabelled.n_genes + s.unlabelled_valid.n_genes
    assert s.n_unlabelled == runs[1].splits.n_unlabelled > 200


def _cells(root, expr_path):
    """Three synthetic cells on disk named by Roadmap EIDs of the matrix at ``expr_path``."""
    paths = {}
    for i, name in enumerate(("E012", "E003", "E123")):
        paths[name] = str(write_cell(make_synthetic(450, seed=20 + i).splits, root / name))
    return paths


def test_a_new_cell_type_run_never_reads_the_targets_labels_or_column(roadmap_like, tmp_path):
    """Trained on the other cells with the compendium: scrambling the target's labels (every
    split) and its RNA-seq column changes none of its test scores."""
    from simplechrome.experiments import make_run

    _, expr, expr_path, _ = roadmap_like
    paths = _cells(tmp_path / "clean", expr_path)
    # the scrambled world: the target's labels and its own column both replaced
    target = load_cell(paths["E012"])
    rng = np.random.default_rng(3)
    noisy = {k: v.replace(y=rng.permutation(v.y)) for k, v in target.items()}
    dirty_paths = dict(paths, E012=str(write_cell(noisy, tmp_path / "dirty" / "E012")))
    dirty_expr = tmp_path / "dirty.pc"
    _write_matrix(_scrambled(expr, "E012"), dirty_expr)
    scores = []
    for cells, matrix in ((paths, expr_path), (dirty_paths, dirty_expr)):
        data = RunData(
            cells=cells,
            train_cells=("E003", "E123"),
            test_cell="E012",
            expression=str(matrix),
            compendium="self",
        )
        for model in ("prior", "logreg"):
            run = make_run(RunConfig(model, {}, FAST), data, analyses=False)
            scores.append(run.model.predict_scores(run.splits.test))
    np.testing.assert_array_equal(scores[0], scores[2])  # prior
    np.testing.assert_array_equal(scores[1], scores[3])  # logreg + compendium


def test_a_within_cell_run_never_reads_its_own_column(roadmap_like, tmp_path):
    """The compendium of a cell leaves its own column out, in its own run too."""
    from simplechrome.experiments import make_run

    cell, expr, expr_path, _ = roadmap_like
    folder = write_cell(cell.splits, tmp_path / "E012")
    dirty_expr = tmp_path / "dirty.pc"
    _write_matrix(_scrambled(expr, "E012"), dirty_expr)
    scores = []
    for matrix in (expr_path, dirty_expr):
        data = RunData.one_cell(str(folder), expression=str(matrix), compendium="self")
        run = make_run(RunConfig("prior", {}, FAST), data, analyses=False)
        scores.append(run.model.predict_scores(run.splits.test))
    np.testing.assert_array_equal(scores[0], scores[1])
