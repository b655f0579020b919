"""One place builds a run's inputs: a run that reuses another run's model, ``evaluate`` and
``predict`` on another cell all score exactly what the same run trained alone would score.

These tests were written against a bug (issue 35): runs sharing a trained model were scored on
their target's raw test split (no depth normalisation, their target's RNA-seq column still in
the expression matrix), and ``evaluate RUN --data OTHER`` read the other cell raw too. Each
test below fails on that code. Caches are off, so two fits are two fits.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import simplechrome as sc
from simplechrome.api import predict_run
from simplechrome.config import RunConfig
from simplechrome.data import make_synthetic, write_cell
from simplechrome.experiments import load_spec, run_experiment
from simplechrome.experiments.runner import run_data
from simplechrome.experiments.runs import make_run
from tests.test_leaks import _write_matrix as write_matrix

# three synthetic cells drawn from one expression matrix, each the signals of its own column;
# E003's values are 4x deeper, so that scoring it without depth normalisation shows
COLUMNS = {"E012": "SYN01", "E003": "SYN02", "E123": "SYN03"}
OTHER_EIDS = ["E027", "E028", "E066", "E070", "E087", "E094", "E100", "E113", "E119"]


@pytest.fixture(autouse=True)
def _no_caches(monkeypatch):
    monkeypatch.setenv("SIMPLECHROME_CACHE", "off")


def _write_matrix(expr: pd.DataFrame, path: Path) -> Path:
    write_matrix(expr, path)
    return path


@pytest.fixture(scope="module")
def related(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("related")
    cells, expr = {}, None
    for eid, column in COLUMNS.items():
        syn = make_synthetic(450, seed=4, target_cell=column)
        splits = syn.splits
        if eid == "E003":
            splits = {k: s.replace(x=s.x * 4.0) for k, s in splits.items()}
        cells[eid] = write_cell(splits, root / eid)
        expr = syn.expression
    names = {c: e for e, c in COLUMNS.items()}
    others = iter(OTHER_EIDS)
    expr = expr.rename(columns=lambda c: names.get(c) or next(others))
    matrix = _write_matrix(expr, root / "rpkm.pc")
    return {"cells": cells, "expr": expr, "matrix": matrix, "root": root}


def _spec(path: Path, cells: dict, **extra) -> Path:
    spec = {
        "name": "inputs",
        "kind": "cross_cell",
        "cells": {k: str(v) for k, v in cells.items()},
        "models": ["logreg"],
        "seeds": [0],
        "sources": ["same", "each"],
        "normalize": "depth",
        "train": {"max_epochs": 3, "patience": 2},
    }
    spec.update(extra)
    path.write_text(yaml.safe_dump(spec))
    return path


def _test_predictions(run_dir: Path) -> pd.DataFrame:
    table = pd.read_csv(run_dir / "predictions.tsv", sep="\t", dtype={"gene_id": str})
    return table[table["split"] == "test"].reset_index(drop=True)


@pytest.mark.parametrize("compendium", [False, True], ids=["histone", "compendium"])
def test_every_run_scores_what_the_same_run_trained_alone_scores(tmp_path, related, compendium):
    """Each run of a cross-cell study (those that reuse the model trained for another target
    included) holds the test predictions of the same run made alone by ``make_run``."""
    extra = {}
    if compendium:
        extra = {"models": [{"name": "logreg", "compendium": True}],
                 "expression": str(related["matrix"])}  # fmt: skip
    spec = load_spec(_spec(tmp_path / "s.yaml", related["cells"], **extra))
    result = run_experiment(spec, tmp_path / "out", workers=1)
    assert len(result.table) == 9
    shared = result.table[result.table["trained_in"] != result.table["run_id"]]
    if not compendium:  # the histone model is trained once per source and shared
        assert len(shared) == 6
    _assert_each_run_as_if_alone(spec, tmp_path / "out")


def _assert_each_run_as_if_alone(spec, out: Path) -> None:
    from simplechrome.experiments.plan import plan

    for run in plan(spec):
        alone = make_run(RunConfig(run.model.name, run.model.params, run.train), run_data(run),
                         analyses=False)  # fmt: skip
        expected = alone.model.predict(alone.splits.test)
        stored = _test_predictions(out / "runs" / run.run_id)
        assert list(stored["gene_id"]) == list(expected["gene_id"]), run.run_id
        np.testing.assert_allclose(stored["score"], expected["score"], rtol=1e-5, atol=1e-6,
                                   err_msg=run.run_id)  # fmt: skip


def test_without_marks_each_cross_cell_run_reads_its_target_marks(tmp_path, related):
    """With no ``marks`` in the spec, a run reads its test cell's marks: a cell with one mark
    fewer gets models of its own (a shared model would read the trainer's five)."""
    cell = sc.load_cell(related["cells"]["E123"])
    fewer = {k: s.select_marks(s.marks[:4]) for k, s in cell.items()}
    from simplechrome.data.writers import write_deepchrome_csv

    for split, data in fewer.items():  # a header names the four marks
        write_deepchrome_csv(data, tmp_path / "E123" / "classification" / f"{split}.csv",
                             header=True)  # fmt: skip
    cells = {**related["cells"], "E123": tmp_path / "E123"}
    spec = load_spec(_spec(tmp_path / "s.yaml", cells))
    table = run_experiment(spec, tmp_path / "out", workers=1).table.set_index("run_id")
    to_four = table[table["test_cell"] == "E123"]
    assert (to_four["trained_in"] == to_four.index).all()  # none reuses a five-mark model
    assert (to_four["marks"].str.count(r"\+") == 3).all()
    _assert_each_run_as_if_alone(spec, tmp_path / "out")


def test_evaluate_a_run_on_another_cell_equals_that_cells_record(tmp_path, related):
    """``evaluate RUN`` gives the run's record; ``evaluate RUN --data OTHER`` gives the record
    of the run that scored the same model on OTHER; scaling OTHER's every value by 3 changes
    no prediction (depth normalisation)."""
    spec = load_spec(_spec(tmp_path / "s.yaml", related["cells"]))
    table = run_experiment(spec, tmp_path / "out", workers=1).table.set_index("run_id")
    runs = tmp_path / "out" / "runs"
    for run_id, row in table.iterrows():
        own = sc.evaluate_run(runs / run_id)
        assert own["test"]["auroc"] == pytest.approx(row["test_auroc"], abs=1e-9), run_id
    trainer = table[(table["source"] == "same") & (table["test_cell"] == "E012")].index[0]
    sibling = table[(table["train_cells"] == "E012") & (table["test_cell"] == "E003")]
    other = sc.evaluate_run(runs / trainer, related["cells"]["E003"])
    assert other["test"]["auroc"] == pytest.approx(sibling["test_auroc"].iloc[0], abs=1e-9)

    scaled = tmp_path / "E003"
    cell = sc.load_cell(related["cells"]["E003"])
    write_cell({k: s.replace(x=s.x * 3.0) for k, s in cell.items()}, scaled)
    before = predict_run(runs / trainer, related["cells"]["E003"], tmp_path / "a.tsv")[0]
    after = predict_run(runs / trainer, scaled, tmp_path / "b.tsv")[0]
    assert list(before["gene_id"]) == list(after["gene_id"])
    np.testing.assert_allclose(before["score"], after["score"], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_no_run_tested_on_a_cell_changes_when_its_rnaseq_column_is_scrambled(tmp_path, related):
    """Neighbours, compendium channels and similarity weights of every run tested on E003 are
    built without E003's expression column: replacing it by noise changes no score."""
    scrambled = related["expr"].copy()
    scrambled["E003"] = np.random.default_rng(0).permutation(scrambled["E003"].to_numpy()) * 7
    matrices = {"real": related["matrix"],
                "scrambled": _write_matrix(scrambled, tmp_path / "scrambled.pc")}  # fmt: skip
    models = [
        {"name": "vae_neighbors", "params": {"by": "coexpression", "k": 5}, "label": "coexp"},
        {"name": "logreg", "label": "logreg+compendium", "compendium": True},
        "prior",
    ]
    tables = {}
    for name, matrix in matrices.items():
        cells = {k: shutil.copytree(v, tmp_path / name / k) for k, v in related["cells"].items()}
        # every cell a target: a model trained for another target must not serve E003
        spec = _spec(tmp_path / f"{name}.yaml", cells, models=models, expression=str(matrix),
                     sources=["same", "each", "all_others"])  # fmt: skip
        table = run_experiment(load_spec(spec), tmp_path / f"out-{name}", workers=1).table
        table = table[table["test_cell"] == "E003"]
        tables[name] = table.set_index("run_id")[["test_auroc", "test_auprc"]]
    assert len(tables["real"]) == 3 * 4
    pd.testing.assert_frame_equal(tables["real"], tables["scrambled"])


def test_records_say_which_runs_reused_a_model(tmp_path, related):
    """A run that reuses a model names the run that trained it (and so does its record)."""
    spec = load_spec(_spec(tmp_path / "s.yaml", related["cells"]))
    run_experiment(spec, tmp_path / "out", workers=1)
    for record in (tmp_path / "out" / "records").glob("*.json"):
        r = json.loads(record.read_text())
        assert r["trained_in"].split("__to__")[0] == r["run_id"].split("__to__")[0]


def test_relatives_above_holds_close_relatives_out_and_records_the_nearest_left(tmp_path, related):
    """With a ceiling, a noisy copy of the target's column (a sibling cell) leaves every
    compendium; the record names the nearest relative left, which lies under the ceiling."""
    from simplechrome.data import compendium as comp
    from simplechrome.data.run_splits import load_run_splits

    expr = related["expr"].copy()
    noise = np.random.default_rng(1).lognormal(0, 0.3, len(expr))
    expr["E027"] = expr["E003"] * noise  # a sibling of E003
    matrix = _write_matrix(expr, tmp_path / "sibling.pc")
    r = comp.relative_correlations(expr, "E003")
    assert r.index[0] == "E027" and r.iloc[0] > 0.9 > r.iloc[1]
    spec = load_spec(
        _spec(tmp_path / "s.yaml", related["cells"], expression=str(matrix), targets=["E003"],
              sources=["all_others"], relatives_above=["none", 0.9],
              models=["logreg", {"name": "logreg", "compendium": True, "label": "both"}])
    )  # fmt: skip
    from simplechrome.experiments.plan import plan

    runs = plan(spec)
    assert [(r.model.tag, r.relatives_above) for r in runs] == [
        ("logreg", None), ("both", None), ("both", 0.9)]  # fmt: skip
    table = run_experiment(spec, tmp_path / "out", workers=1).table.set_index("model")
    kept = table[table["relatives_above"].isna()]
    assert kept["nearest_relative_r"].tolist() == pytest.approx([r.iloc[0]] * 2)
    held = table[table["relatives_above"] == 0.9]
    assert held["nearest_relative_r"].iloc[0] == pytest.approx(r.iloc[1])
    # the sibling's column feeds the compendium without the ceiling, not with it
    both, held_out = (load_run_splits(run_data(run)).test for run in runs[1:])
    mean = list(both.marks).index("compendium:mean")
    rows = np.isin(expr.index, both.gene_ids)
    without = np.log2(expr.loc[rows].drop(columns=["E000", "E003", "E027"], errors="ignore") + 1)
    np.testing.assert_allclose(held_out.x[:, mean, 0], without.mean(axis=1), rtol=1e-5)
    assert not np.allclose(both.x[:, mean, 0], without.mean(axis=1), rtol=1e-5)


def test_relatives_above_is_checked():
    from simplechrome.errors import ConfigError
    from simplechrome.experiments.spec import parse_spec

    base = {"cells": {"E012": "x"}, "models": ["logreg"], "relatives_above": [0.9]}
    with pytest.raises(ConfigError, match="no model reads the compendium"):
        parse_spec(base)
    with pytest.raises(ConfigError, match="between -1 and 1"):
        parse_spec({**base, "models": ["prior"], "expression": "m", "relatives_above": [2]})


def test_most_similar_picks_a_noisy_copy_of_the_target_over_decoys(tmp_path, related):
    """``most_similar`` ranks cells by histone signals alone: a noisy copy of the target's
    tracks wins over two other cells, whatever their names' order."""
    from simplechrome.experiments.plan import histone_similarity, plan

    cell = sc.load_cell(related["cells"]["E012"])
    rng = np.random.default_rng(2)
    noisy = {k: s.replace(x=(s.x * rng.lognormal(0, 0.3, s.x.shape)).astype(np.float32))
             for k, s in cell.items()}  # fmt: skip
    cells = {**related["cells"], "E100": write_cell(noisy, tmp_path / "E100")}
    sim = histone_similarity({k: str(v) for k, v in cells.items()}, None)
    assert max((c for c in cells if c != "E012"), key=lambda c: sim["E012"][c]) == "E100"
    spec = load_spec(_spec(tmp_path / "s.yaml", cells, targets=["E012"],
                           sources=[{"most_similar": 1}]))  # fmt: skip
    assert [r.train_cells for r in plan(spec)] == [("E100",)]


def test_resuming_a_group_whose_trainer_finished_loads_it_and_scores_the_rest(tmp_path, related):
    """A killed study may leave a shared model's trainer finished and a sibling not: the
    resume loads the trained model (not retrained), scores the sibling exactly as before."""
    spec = load_spec(_spec(tmp_path / "s.yaml", related["cells"]))
    first = run_experiment(spec, tmp_path / "out", workers=1).table.set_index("run_id")
    runs, records = tmp_path / "out" / "runs", tmp_path / "out" / "records"
    sibling = "logreg__E012__to__E003__each__nall__s0"
    trainer = first.loc[sibling, "trained_in"]
    assert trainer != sibling
    shutil.rmtree(runs / sibling)
    (records / f"{sibling}.json").unlink()
    model_file = runs / trainer / "model.pt"
    stamp = model_file.stat().st_mtime_ns
    again = run_experiment(spec, tmp_path / "out", workers=1, resume=True)
    assert again.ran == 1 and model_file.stat().st_mtime_ns == stamp
    table = again.table.set_index("run_id")
    columns = ["test_auroc", "test_auprc", "n_test", "trained_in", "nearest_relative_r"]
    pd.testing.assert_frame_equal(table[columns], first[columns])


def test_the_relatives_claim_is_judged_per_ceiling_across_folders(tmp_path, related):
    """``verdicts`` pairs each histone+compendium model with ``prior`` at each ceiling, also
    when the model is a study of its own in another folder."""
    from simplechrome.experiments import Results
    from simplechrome.experiments.claims import verdicts

    common = dict(expression=str(related["matrix"]), sources=["all_others"],
                  relatives_above=["none", 0.8])  # fmt: skip
    base = _spec(tmp_path / "a.yaml", related["cells"], models=["prior"], **common)
    other = _spec(
        tmp_path / "b.yaml",
        related["cells"],
        name="other",
        **common,
        models=[{"name": "logreg", "label": "logreg+compendium", "compendium": True}],
    )
    run_experiment(load_spec(base), tmp_path / "a", workers=1)
    run_experiment(load_spec(other), tmp_path / "b", workers=1)
    found = verdicts([Results(tmp_path / "a"), Results(tmp_path / "b")])
    found = found[found["paper"] == "SimpleChrome / issue 35"]
    assert len(found) == 2
    assert found["claim"].str.contains("no ceiling").sum() == 1
    assert found["claim"].str.contains("above r = 0.8").sum() == 1
    assert found["numbers"].str.contains("over 3 cells").all()
    # the report draws the runs by relatedness (a folder with no `same` runs: none to pair)
    from simplechrome.report import build_report

    page = build_report([tmp_path / "a", tmp_path / "b"], tmp_path / "r.html").read_text()
    assert "New cell type by relatedness" in page and "histone signals add" in page


def test_a_compendium_run_warns_when_scored_on_a_roadmap_cell_it_was_trained_beside(
    tmp_path, related, caplog
):
    """A within-cell run with the compendium trained with E003's column in its inputs: scored
    on E003 it says the numbers are optimistic; a relatives ceiling is never applied there."""
    import dataclasses

    from simplechrome.config import RunData
    from simplechrome.data.run_splits import cell_inputs

    data = RunData.one_cell(str(related["cells"]["E012"]), expression=str(related["matrix"]),
                            compendium="self", normalize="depth")  # fmt: skip
    run = sc.train_run("logreg", data, out=tmp_path / "run")
    with caplog.at_level("WARNING"):
        sc.evaluate_run(tmp_path / "run", related["cells"]["E003"])
    assert "optimistic for a new cell type" in caplog.text
    ceiling = dataclasses.replace(data, relatives_above=0.5)  # would leave < 3 columns
    cell = cell_inputs(ceiling, str(related["cells"]["E003"]), marks=run.model.marks)
    assert cell["test"].n_genes > 0
