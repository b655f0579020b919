"""The README's path for a new user, end to end: a sample sheet of bigWig files -> `prepare` ->
`predict roadmap` -> predictions.tsv, running the README's own command lines on generated
tracks (three marks at the TSSs of genes the shipped compendium holds)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simplechrome import pretrained as P
from simplechrome.cli import main
from simplechrome.data import synthetic_tracks as st

README = Path(__file__).resolve().parents[1] / "README.md"
MARKS = ("H3K27me3", "H3K36me3", "H3K9me3")
SIZES = {"chr1": 2_200_000, "chr2": 2_200_000}


def readme_commands() -> list[list[str]]:
    """The `simplechrome` lines of the README's three-command block (comments dropped)."""
    block = re.search(r"<!-- e2e:.*?-->\n```sh\n(.*?)```", README.read_text(), flags=re.S)
    assert block, "the README lost its three-command block"
    lines = [ln.split("#", 1)[0].strip() for ln in block.group(1).splitlines()]
    return [shlex.split(ln)[1:] for ln in lines if ln.startswith("simplechrome ")]


@pytest.mark.skipif(not P.names(), reason="the shipped model is not built in this checkout")
def test_readme_path_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    genes = np.array((P.SHIPPED / "roadmap" / "genes.txt").read_text().split())[::100][:200]
    chrom = np.where(np.arange(len(genes)) < 100, "chr1", "chr2")
    start = 20_000 + (np.arange(len(genes)) % 100) * 20_000
    table = pd.DataFrame(
        {"gene_id": genes, "chrom": chrom, "start": start, "end": start + 3_000,
         "strand": np.where(np.arange(len(genes)) % 2, "-", "+")}
    )  # fmt: skip
    st.write_gtf(tmp_path / "gencode_10_genes.gtf.gz", table)
    rows = []
    for i, mark in enumerate(MARKS):
        reads = st.random_reads(SIZES, 20_000, length=(100, 300), seed=i)
        st.write_bigwig(tmp_path / f"{mark}.bw", st.coverage_intervals(reads), SIZES)
        rows.append(("mycell", mark, f"{mark}.bw"))
    pd.DataFrame(rows, columns=["cell", "mark", "path"]).to_csv("sheet.tsv", sep="\t", index=False)

    commands = readme_commands()
    assert [c[0] for c in commands] == ["prepare", "predict"]
    for args in commands:
        assert main(args) == 0, args
    out = pd.read_csv(tmp_path / "predictions.tsv", sep="\t")
    assert sorted(out["gene_id"]) == sorted(genes)
    assert out["probability"].between(0, 1).all() and out["in_compendium"].all()
    assert "label" not in out  # a new cell type has no RNA-seq: nothing pretends to be a label
    meta = json.loads((tmp_path / "predictions.json").read_text())
    assert meta["new_cell_type"] and meta["cell"] == "mycell"
