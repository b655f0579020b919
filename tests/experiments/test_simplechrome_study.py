"""SimpleChrome pieces end to end on synthetic cells: embed, neighbour experiments, report."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from simplechrome import models
from simplechrome.cli import main
from simplechrome.data import make_synthetic, write_cell
from simplechrome.experiments import load_spec, run_experiment
from simplechrome.report import build_report


def test_neighbour_model_shapes():
    m = models.create("vae_neighbors", n_marks=5, n_bins=100, k=4, by="genome")
    out = m(torch.randn(3, 10, 5))
    assert out.logits.shape == (3, 2) and out.attention.shape == (3, 4)
    assert torch.allclose(out.attention.sum(1), torch.ones(3))
    alone = models.create("vae_neighbors", n_marks=5, n_bins=100, by="none")
    out = alone(torch.randn(3, 10, 1))
    assert out.logits.shape == (3, 2) and out.attention.shape == (3, 0)


@pytest.fixture(scope="module")
def annotated_cell(tmp_path_factory):
    """A synthetic cell on disk with a GTF and a Roadmap-style expression matrix beside it."""
    root = tmp_path_factory.mktemp("annotated")
    cell = make_synthetic(900, seed=21)
    folder = write_cell(cell.splits, root / "E012-syn")
    lines = []
    for gene, row in cell.tss.iterrows():
        start = end = int(row["tss"])
        start, end = (start, start + 1000) if row["strand"] == "+" else (end - 1000, end)
        lines.append(
            f"{row['chrom']}\tSYN\tgene\t{start}\t{end}\t.\t{row['strand']}\t.\t"
            f'gene_id "{gene}.1"; gene_type "protein_coding"; gene_name "{gene}";\n'
        )
    (root / "genes.gtf").write_text("".join(lines))
    expr = cell.expression.rename(columns={"SYN01": "E012"})
    text = "gene_id\t" + "\t".join(expr.columns) + "\n"
    text += "".join(
        f"{g}\t" + "\t".join(f"{v:.3f}" for v in row) + "\t\n" for g, row in expr.iterrows()
    )
    (root / "rpkm.pc").write_text(text)
    return root, folder


def test_neighbour_experiment_and_report(tmp_path, annotated_cell):
    root, folder = annotated_cell
    spec = {
        "name": "nb",
        "kind": "grid",
        "cells": {"E012-syn": str(folder)},
        "gtf": str(root / "genes.gtf"),
        "expression": str(root / "rpkm.pc"),
        "models": [
            {"name": "vae_neighbors", "params": {"by": "none"}, "label": "no-neighbours"},
            {"name": "vae_neighbors", "params": {"by": "genome", "k": 3}, "label": "genome-3"},
            {"name": "vae_neighbors", "params": {"by": "random", "k": 3}, "label": "random-3"},
            "vae_logreg",
        ],
        "seeds": [0],
        "train": {"max_epochs": 4, "patience": 2},
    }
    (tmp_path / "nb.yaml").write_text(yaml.safe_dump(spec))
    result = run_experiment(load_spec(tmp_path / "nb.yaml"), tmp_path / "out", workers=1)
    assert len(result.table) == 4 and (result.table["test_auroc"] > 0.8).all()
    run = result.table.loc[result.table["model"] == "genome-3", "run_id"].iloc[0]
    assert (tmp_path / "out" / "runs" / run / "vae.pt").exists()
    page = build_report(tmp_path / "out", tmp_path / "r.html").read_text()
    assert "Neighbour genes" in page and "vs no neighbours" in page and "vs random, same k" in page
    assert "SimpleChrome VAE: reconstructions and latent space" in page
    assert "latent space by expression" in page

    # embed: the latent means of every gene, the same twice
    out1, out2 = tmp_path / "z1.npz", tmp_path / "z2.npz"
    for out in (out1, out2):
        assert (
            main(
                [
                    "embed",
                    str(tmp_path / "out" / "runs" / run),
                    "--data",
                    str(folder),
                    "-o",
                    str(out),
                ]
            )
            == 0
        )
    a, b = np.load(out1), np.load(out2)
    assert a["latent"].shape == (900, 10) and np.array_equal(a["latent"], b["latent"])
    assert set(a["split"]) == {"train", "valid", "test"}


def test_embed_refuses_a_model_without_latent(tmp_path, cell_dir, capsys):
    run = tmp_path / "run"
    assert (
        main(["-q", "train", "--data", str(cell_dir), "--model", "logreg", "--out", str(run)]) == 0
    )
    code = main(["embed", str(run), "--data", str(cell_dir), "-o", str(tmp_path / "z.npz")])
    assert code == 2 and "no latent space" in capsys.readouterr().err


def test_vae_run_through_the_cli(tmp_path, cell_dir, capsys):
    run = tmp_path / "vae"
    args = ["-q", "train", "--data", str(cell_dir), "--model", "vae", "--set", "train.max_epochs=2"]
    assert main([*args, "--out", str(run)]) == 0
    assert "recon_r2" in capsys.readouterr().out
    code = main(["predict", str(run), str(cell_dir), "-o", str(tmp_path / "p.tsv")])
    err = capsys.readouterr().err
    assert code == 2 and "is a VAE" in err and len(err.strip().splitlines()) == 1
