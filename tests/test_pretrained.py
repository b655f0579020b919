"""Shipped models (``roadmap``): built from a recipe bit for bit, and used on any cell folder.

A small model is built here from slices of three real cells (300 genes per split) with the
real expression matrix, so each test reads the same code path as the shipped model at a
fraction of its cost; the shipped files themselves are checked against ``../shared/data``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simplechrome import pretrained as P
from simplechrome.cli import main
from simplechrome.data import load_cell
from simplechrome.data.writers import write_deepchrome_csv
from simplechrome.errors import ConfigError, InputError, ModelMismatchError

pytestmark = pytest.mark.real_data
TRAIN_CELLS = ("E027", "E066", "E119")


def _slice(source: Path, out: Path, n: int = 300, *, scale: float = 1.0, ids=None) -> Path:
    """The first ``n`` genes of every split of a real cell, as a DeepChrome folder with a header
    line naming its marks; ``ids`` rewrites the gene IDs as written (full Ensembl IDs)."""
    for k, s in load_cell(source).items():
        path = write_deepchrome_csv(
            s.subset(slice(0, n)).replace(x=s.x[:n] * scale),
            out / "classification" / f"{k}.csv",
            header=True,
        )
        if ids is not None:
            rows = pd.read_csv(path, dtype={"gene_id": str})
            rows["gene_id"] = [ids("ENSG" + g.zfill(11)) for g in rows["gene_id"]]
            rows.to_csv(path, index=False)
    return out


@pytest.fixture(scope="module")
def small(shared, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("shipped")
    cells = {c: _slice(shared / c, root / "cells" / c) for c in TRAIN_CELLS}
    recipe = root / "recipe.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "name": "roadmap",
                "cells": {c: str(p) for c, p in cells.items()},
                "expression": str(shared / "roadmap" / "57epigenomes.RPKM.pc.gz"),
                "model_params": {"hidden": [16]},
            }
        )
    )
    model = P.build(P.load_recipe(recipe), root / "model")
    e012 = _slice(shared / "E012", root / "cells" / "E012")
    return {"root": root, "recipe": recipe, "model": model, "e012": e012, "cells": cells}


def test_rebuild_is_bit_for_bit(small, tmp_path):
    """The same recipe twice gives the same bytes; a rebuild replaces only a model's folder."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not a shipped model's folder"):
        P.build(P.load_recipe(small["recipe"]), mine)
    assert (mine / "notes.txt").read_text() == "keep me"
    again = P.build(P.load_recipe(small["recipe"]), tmp_path / "again")
    names = sorted(p.name for p in small["model"].iterdir())
    assert names == sorted(["manifest.json", *P.FILES])
    for name in names:
        assert (again / name).read_bytes() == (small["model"] / name).read_bytes(), name


def test_outputs_and_metadata(small):
    model = P.ShippedModel(small["model"])
    table, meta = model.predict(small["e012"])
    assert list(table.columns[:4]) == ["gene_id", "probability", "log2_rpkm", "in_compendium"]
    assert len(table) == 900 and set(table["split"]) == {"train", "valid", "test"}
    assert table["probability"].between(0, 1).all() and table["in_compendium"].all()
    assert meta["n_not_in_compendium"] == 0
    assert meta["nearest_compendium_cell"] == next(iter(meta["top_compendium_cells"]))
    assert any("H3K4me3" in n and "ignored" in n for n in meta["notes"])
    # histone signals carry the prediction: it is better than chance on real genes
    metrics = model.evaluate(small["e012"])
    assert metrics["all"]["auroc"] > 0.8 and 0 <= metrics["all"]["ece"] < 0.5


def test_depth_invariance(small, shared, tmp_path):
    """Every track's depth multiplied by 3: the same predictions."""
    deeper = _slice(shared / "E012", tmp_path / "E012", scale=3.0)
    model = P.ShippedModel(small["model"])
    a, _ = model.predict(small["e012"])
    b, _ = model.predict(deeper)
    np.testing.assert_allclose(a["probability"], b["probability"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a["log2_rpkm"], b["log2_rpkm"], rtol=1e-5, atol=1e-5)


@pytest.fixture
def as_shipped(small, monkeypatch) -> None:
    """The small model in the place of the shipped ``roadmap`` (for the command line)."""
    shipped = small["root"] / "shipped"
    shutil.copytree(small["model"], shipped / "roadmap", dirs_exist_ok=True)
    monkeypatch.setattr(P, "SHIPPED", shipped)


def test_missing_mark_is_an_error_naming_it(small, as_shipped, tmp_path, capsys):
    cell = load_cell(small["e012"])
    two = tmp_path / "E012"
    for k, s in cell.items():
        write_deepchrome_csv(
            s.select_marks(("H3K27me3", "H3K9me3")),
            two / "classification" / f"{k}.csv",
            header=True,
        )
    with pytest.raises(ModelMismatchError, match="H3K36me3 missing"):
        P.ShippedModel(small["model"]).predict(two)
    assert main(["predict", "roadmap", str(two), "-o", str(tmp_path / "p.tsv")]) == 2
    assert "H3K36me3 missing" in capsys.readouterr().err
    assert not (tmp_path / "p.tsv").exists()


def test_unknown_gene_ids_are_refused(small, shared, tmp_path):
    made_up = _slice(shared / "E012", tmp_path / "E012", ids=lambda g: g.replace("ENSG0", "ENSG9"))
    with pytest.raises(InputError, match="0 of 900 genes are in the compendium"):
        P.ShippedModel(small["model"]).predict(made_up)


def test_version_suffixes_change_nothing(small, shared, tmp_path):
    suffixed = _slice(shared / "E012", tmp_path / "E012", ids=lambda g: f"{g}.7")
    model = P.ShippedModel(small["model"])
    a, _ = model.predict(small["e012"])
    b, _ = model.predict(suffixed)
    assert (b["gene_id"] == a["gene_id"]).all() and not b["gene_id"].str.contains(
        ".", regex=False
    ).any()
    np.testing.assert_array_equal(a["probability"], b["probability"])


def test_own_column_rule(small, tmp_path):
    """A Roadmap cell (named by its EID, or --cell) loses its own column; another name is a new
    cell type that keeps every column, and says so."""
    model = P.ShippedModel(small["model"])
    _, named = model.predict(small["e012"])
    assert named["own_column_left_out"] == "E012" and not named["new_cell_type"]
    mine = shutil.copytree(small["e012"], tmp_path / "mycell")
    _, new = model.predict(mine)
    assert new["new_cell_type"] and any("new cell type" in n for n in new["notes"])
    _, told = model.predict(mine, cell="E012")
    assert told["own_column_left_out"] == "E012"
    info_named = model.inputs(model.read(small["e012"]))[1]["weights"]
    info_new = model.inputs(model.read(mine))[1]["weights"]
    assert "E012" not in info_named and "E012" in info_new
    assert len(info_new) == len(info_named) + 1


def test_tampered_file_is_refused(small, tmp_path):
    copy = shutil.copytree(small["model"], tmp_path / "m")
    data = bytearray((copy / "compendium.npy").read_bytes())
    data[-1] ^= 1
    (copy / "compendium.npy").write_bytes(bytes(data))
    with pytest.raises(InputError, match="compendium.npy does not match its checksum"):
        P.ShippedModel(copy)


def test_shipped_model_matches_its_recipe_data(shared):
    """The shipped compendium is the shared expression matrix (float16, E000 out), and the
    shipped manifest names the recipe's cells and marks."""
    import io

    from simplechrome.data.annotation import read_expression

    recipe = P.load_recipe(Path(__file__).resolve().parents[1] / "configs/roadmap_model.yaml")
    manifest = P.manifest("roadmap")
    assert manifest["training_cells"] == list(recipe.cells) and manifest["left_out"] is None
    assert manifest["marks"] == ["H3K27me3", "H3K36me3", "H3K9me3"]
    expression = read_expression(recipe.expression)
    rebuilt = P.Compendium.from_rpkm(expression, manifest["compendium_columns"])
    buf = io.BytesIO()
    np.save(buf, rebuilt.log, allow_pickle=False)
    assert buf.getvalue() == (P.SHIPPED / "roadmap" / "compendium.npy").read_bytes()
    assert (
        "E000" not in manifest["compendium_columns"] and len(manifest["compendium_columns"]) == 56
    )
    model = P.load_pretrained("roadmap")  # checksums verified on load
    assert model.marks == tuple(manifest["marks"])


def test_cli_models_predict_evaluate(small, as_shipped, tmp_path, capsys):
    assert main(["models", "--pretrained"]) == 0
    assert "roadmap" in capsys.readouterr().out
    out = tmp_path / "predictions.tsv"
    assert main(["predict", "roadmap", str(small["e012"]), "-o", str(out)]) == 0
    table = pd.read_csv(out, sep="\t")
    meta = json.loads(out.with_suffix(".json").read_text())
    assert len(table) == 900 and meta["own_column_left_out"] == "E012"
    assert (
        main(["evaluate", "roadmap", "--data", str(small["e012"]), "-o", str(tmp_path / "m.json")])
        == 0
    )
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert set(metrics) == {"all", "train", "valid", "test"} and "ece" in metrics["test"]
    assert main(["evaluate", "roadmap"]) == 2


def test_genes_outside_the_compendium_are_flagged_not_dropped(small, shared, tmp_path):
    """A fifth of the genes renamed out of the compendium: still predicted, flagged, and by
    the histone-only pair."""
    renamed = _slice(
        shared / "E012",
        tmp_path / "E012",
        ids=lambda g: g.replace("ENSG0", "ENSG9") if int(g[-3:]) % 5 == 0 else g,
    )
    model = P.ShippedModel(small["model"])
    table, meta = model.predict(renamed)
    out = table["in_compendium"] == 0
    assert len(table) == 900 and 0 < out.sum() == meta["n_not_in_compendium"] < 900
    assert table.loc[out, "gene_id"].str.startswith("ENSG9").all()
    x, _ = model.inputs(model.read(renamed))
    p, level = model.outputs(x.subset(out.to_numpy()).select_marks(model.marks), histone_only=True)
    np.testing.assert_allclose(table.loc[out, "probability"], p)
    np.testing.assert_allclose(table.loc[out, "log2_rpkm"], level, rtol=1e-6)
