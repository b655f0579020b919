from __future__ import annotations

import pytest

from simplechrome.errors import ConfigError
from simplechrome.experiments import load_spec, parse_spec, plan
from simplechrome.train import resolve_config
from tests.conftest import write_spec


def test_grid_plan(tmp_path, three_cells):
    spec = load_spec(write_spec(tmp_path / "s.yaml", three_cells, sizes=[100, "all"]))
    runs = plan(spec)
    assert len(runs) == 3 * 2 * 2 * 2
    assert len({r.run_id for r in runs}) == len(runs)
    assert {r.size for r in runs} == {100, None}
    assert all(r.train.seed == r.seed and r.train.threads == 1 for r in runs)


def test_a_model_can_override_training_settings(tmp_path, three_cells):
    gan = {"name": "gan", "train": {"batch_size": 64, "max_epochs": 9}}
    spec = load_spec(write_spec(tmp_path / "s.yaml", three_cells, models=["logreg", gan]))
    runs = plan(spec)
    by_model = {r.model.tag: r.train for r in runs}
    assert (by_model["gan"].batch_size, by_model["gan"].max_epochs) == (64, 9)
    logreg = resolve_config(by_model["logreg"], "logreg")  # open settings: the model's own
    assert (logreg.batch_size, logreg.max_epochs) == (256, 3)
    assert all(r.train.seed == r.seed and r.train.threads == 1 for r in runs)


def test_cross_cell_plan(tmp_path, three_cells):
    spec = load_spec(
        write_spec(
            tmp_path / "s.yaml",
            three_cells,
            kind="cross_cell",
            targets=["E003-syn"],
            sources=["same", "each", "all_others", {"random": 1}, {"list": ["E012-syn"]}],
            seeds=[0],
            models=["logreg"],
        )
    )
    runs = plan(spec)
    got = sorted((r.source, r.train_cells) for r in runs)
    assert ("same", ("E003-syn",)) in got
    assert ("each", ("E012-syn",)) in got and ("each", ("E123-syn",)) in got
    assert ("all_others", ("E012-syn", "E123-syn")) in got
    assert ("list", ("E012-syn",)) in got
    assert sum(1 for s, _ in got if s == "random1") == 1
    assert all(r.test_cell == "E003-syn" for r in runs)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"kindd": "grid"}, "unknown key"),
        ({"kind": "matrix"}, "kind must be one of"),
        ({"models": ["resnet"]}, "unknown model"),
        ({"models": [{"name": "deepchrome", "params": {"kernal": 3}}]}, "no parameter"),
        ({"models": ["logreg", "logreg"]}, "share a label"),
        ({"sizes": [0]}, "positive integers"),
        ({"sources": ["each"]}, "belong to cross_cell"),
        ({"kind": "cross_cell"}, "needs sources"),
        ({"kind": "cross_cell", "sources": ["sideways"]}, "unknown"),
        # choosing training cells by the target's RNA-seq reads its labels: refused
        ({"kind": "cross_cell", "sources": [{"most_correlated": 1}]}, "its labels"),
        ({"models": ["prior"]}, "reads the compendium: give `expression`"),
        ({"compendium_exclude": "tissue"}, "self or group"),
        ({"compendium_exclude": "group", "expression": "m"}, "needs `epigenomes`"),
        ({"gpus_per_run": -1}, "gpus_per_run"),
        ({"kind": "learning_curve"}, "needs sizes"),
        ({"train": {"epochs": 3}}, "unknown key"),
        ({"models": [{"name": "gan", "train": {"epochz": 3}}]}, "unknown key"),
        ({"models": [{"name": "gan", "train": {"seed": 3}}]}, "whole experiment"),
        ({"models": [{"name": "gan", "train": {"batch_size": 0}}]}, "at least 1"),
        ({"cells": {}}, "at least one cell"),
    ],
)
def test_strict_spec(patch, message):
    base = {"kind": "grid", "cells": {"E003": "x"}, "models": ["logreg"]}
    base.update(patch)
    with pytest.raises(ConfigError, match=message):
        parse_spec(base)


def test_example_configs_parse():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "configs"
    names = sorted(p.name for p in root.glob("*.yaml"))
    assert {
        "grid.yaml",
        "cross_cell.yaml",
        "learning_curve.yaml",
        "deepchrome_56_cells.yaml",
    } <= set(names)
    from simplechrome.pretrained import load_recipe

    for path in root.glob("*.yaml"):
        if path.name.endswith("_model.yaml"):  # a shipped model's recipe, not a study
            assert load_recipe(path).cells
            continue
        spec = load_spec(path)
        assert spec.models
    assert len(load_spec(root / "deepchrome_56_cells.yaml").cells) == 56
