"""``prepare``: sample sheet + GTF (+ expression) -> a cell folder that ``load_cell`` reads."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simplechrome.cli import main
from simplechrome.data import PrepareOptions, load_cell, prepare
from simplechrome.data import synthetic_tracks as st
from simplechrome.data.cache import file_hash
from simplechrome.data.preparation import gene_windows
from simplechrome.errors import InputError
from tests.conftest import require

from .test_tracks import SIZES, brute, make_genes

require("pysam")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """One cell, the same reads as four marks in the four formats; a GTF; expression."""
    d = tmp_path_factory.mktemp("prepare")
    genes = make_genes()
    extra = pd.DataFrame(  # a non-coding gene: left out of the protein-coding default
        {"chrom": ["chr2"], "start": [30_000], "end": [31_000], "strand": ["+"], "tss": [30_000]},
        index=pd.Index(["ENSG00000000099"], name="gene_id"),
    ).assign(gene_type="lincRNA")
    table = pd.concat([genes.assign(gene_type="protein_coding"), extra]).reset_index()
    st.write_gtf(d / "genes.gtf.gz", table)
    reads = st.random_reads(SIZES, 4_000, length=(20, 250), seed=11)
    cover = st.coverage_intervals(reads)
    st.write_tagalign(d / "a.tagAlign.gz", reads)
    st.write_bam(d / "b.bam", reads, SIZES)
    st.write_bedgraph(d / "c.bedGraph", cover)
    st.write_bigwig(d / "d.bw", cover, SIZES)
    sheet = pd.DataFrame(
        {
            "cell": ["E1"] * 4,
            "mark": ["M4_bigwig", "M1_tagalign", "M3_bedgraph", "M2_bam"],  # sorted on output
            "path": ["d.bw", "a.tagAlign.gz", "c.bedGraph", "b.bam"],
        }
    )
    sheet.to_csv(d / "sheet.tsv", sep="\t", index=False)
    rng = np.random.default_rng(0)
    expr = pd.DataFrame(
        {"E1": rng.gamma(1.0, 5.0, len(table)), "E2": rng.gamma(1.0, 5.0, len(table))},
        index=table["gene_id"],
    )
    lines = ["gene_id\tE1\tE2"] + [
        f"{g}\t{a:.3f}\t{b:.3f}\t" for g, a, b in zip(expr.index, expr.E1, expr.E2, strict=True)
    ]
    (d / "expr.pc").write_text("\n".join(lines) + "\n")
    return {"dir": d, "genes": genes, "reads": reads}


COVERAGE = PrepareOptions(reads="coverage", signal="sum", genes="protein_coding", split="random")


def test_cell_folder_round_trip(inputs, tmp_path):
    d = inputs["dir"]
    splits = prepare(
        d / "sheet.tsv",
        d / "genes.gtf.gz",
        expression=d / "expr.pc",
        out=tmp_path,
        options=COVERAGE,
    )
    folder = tmp_path / "E1"
    loaded = load_cell(folder)
    assert loaded["train"].marks == ("M1_tagalign", "M2_bam", "M3_bedgraph", "M4_bigwig")
    for name, part in splits.items():
        np.testing.assert_array_equal(loaded[name].x, part.x)
        np.testing.assert_array_equal(loaded[name].y, part.y)
        np.testing.assert_array_equal(loaded[name].gene_ids, part.gene_ids)
    # the four formats of the same reads give one matrix, equal to brute force
    whole = np.concatenate([p.x for p in splits.values()])
    ids = np.concatenate([p.gene_ids for p in splits.values()])

    want = brute(inputs["reads"], gene_windows(inputs["genes"].loc[ids], COVERAGE), "coverage")
    for m in range(4):
        np.testing.assert_array_equal(whole[:, m], want.astype(np.float32))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["marks"] == list(loaded["train"].marks) and manifest["labels"] == "median"
    by_mark = {t["mark"]: t for t in manifest["tracks"]}
    assert by_mark["M1_tagalign"]["sha256"] == file_hash(d / "a.tagAlign.gz")
    assert manifest["gtf"]["sha256"] == file_hash(d / "genes.gtf.gz")
    assert manifest["options"]["reads"] == "coverage" and manifest["version"]
    table = pd.read_csv(folder / "genes.tsv", sep="\t", index_col="gene_id")
    assert "ENSG00000000099" not in table.index  # protein-coding only
    # windows off the chromosome start (TSS 2,000 and 5,000: the window starts at base -1)
    # and end (TSS 59,000 on a 60 kb chr1)
    assert set(table.index[table["near_chromosome_end"] == 1]) == {
        "ENSG00000000001",
        "ENSG00000000006",
        "ENSG00000000007",
    }


def test_labels_are_the_median_of_the_expression_column(inputs):
    d = inputs["dir"]
    opts = PrepareOptions(split="random")
    splits = prepare(d / "sheet.tsv", d / "genes.gtf.gz", expression=d / "expr.pc", options=opts)
    expr = pd.read_csv(d / "expr.pc", sep="\t", index_col=False).set_index("gene_id")["E1"]
    for part in splits.values():
        np.testing.assert_array_equal(part.y, (expr.loc[part.gene_ids] > expr.median()).astype(int))
    # the expression's genes by default: the non-coding gene is in
    assert "ENSG00000000099" in np.concatenate([p.gene_ids for p in splits.values()])


def test_regression_targets_and_unlabelled_folders(inputs, tmp_path):
    d = inputs["dir"]
    opts = PrepareOptions(split="random")
    prepare(
        d / "sheet.tsv", d / "genes.gtf.gz", expression=d / "expr.pc", out=tmp_path / "a",
        options=opts,
    )  # fmt: skip
    reg = load_cell(tmp_path / "a" / "E1", task="regression")
    expr = pd.read_csv(d / "expr.pc", sep="\t", index_col=False).set_index("gene_id")["E1"]
    np.testing.assert_allclose(
        reg["test"].y, np.log2(expr.loc[reg["test"].gene_ids] + 1), rtol=1e-6
    )
    direct = prepare(
        d / "sheet.tsv", d / "genes.gtf.gz", expression=d / "expr.pc", options=opts,
        task="regression",
    )  # fmt: skip
    np.testing.assert_array_equal(direct["test"].y, reg["test"].y)
    assert direct["test"].task == "regression"
    prepare(d / "sheet.tsv", d / "genes.gtf.gz", out=tmp_path / "b", options=opts)
    bare = load_cell(tmp_path / "b" / "E1")
    assert all(p.y is None for p in bare.values())
    assert json.loads((tmp_path / "b" / "E1" / "manifest.json").read_text())["labels"] == "none"


def test_strand_order_reverses_minus_strand_bins(inputs):
    d = inputs["dir"]
    kw = {"genes": "protein_coding", "split": "random", "reads": "start"}
    genomic = prepare(d / "sheet.tsv", d / "genes.gtf.gz", options=PrepareOptions(**kw))
    strand = prepare(
        d / "sheet.tsv", d / "genes.gtf.gz", options=PrepareOptions(order="strand", **kw)
    )

    for name in genomic:
        ids = strand[name].gene_ids
        minus = (inputs["genes"].loc[ids, "strand"] == "-").to_numpy()
        # plus strand: unchanged; minus: the mirrored window, read from its right end
        np.testing.assert_array_equal(strand[name].x[~minus], genomic[name].x[~minus])
        mirrored = gene_windows(inputs["genes"].loc[ids[minus]], PrepareOptions(order="strand"))
        want = brute(inputs["reads"], mirrored, "start")[:, ::-1]
        np.testing.assert_array_equal(strand[name].x[minus][:, 0], want)


def test_window_and_bin_size(inputs):
    d = inputs["dir"]
    opts = PrepareOptions(window=1_000, bin_size=50, split="random")
    splits = prepare(d / "sheet.tsv", d / "genes.gtf.gz", options=opts)
    assert splits["train"].n_bins == 40 and splits["train"].bin_size == 50
    with pytest.raises(InputError, match="multiple of the bin size"):
        PrepareOptions(window=1_000, bin_size=300)


def test_cli_prepare_and_its_bad_inputs(inputs, tmp_path, capsys):
    d = inputs["dir"]
    args = ["prepare", str(d / "sheet.tsv"), "--gtf", str(d / "genes.gtf.gz")]
    out = ["--out", str(tmp_path / "cells"), "--split", "random"]
    assert main([*args, "--expression", str(d / "expr.pc"), *out]) == 0
    assert "E1: train" in capsys.readouterr().out
    assert load_cell(tmp_path / "cells" / "E1")["train"].n_marks == 4
    # a second run does not overwrite a finished folder unless asked
    assert main([*args, *out]) == 2
    assert "exists" in capsys.readouterr().err
    assert main([*args, *out, "--overwrite"]) == 0
    capsys.readouterr()
    out = ["--out", str(tmp_path / "never"), "--split", "random"]

    def fails(argv: list[str], message: str) -> None:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err

    fails([*args[:1], str(tmp_path / "none.tsv"), *args[2:], *out], "none.tsv: file not found")
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(f"cell\tmark\tpath\nE1\tH3K4me3\t{d / 'missing.bw'}\n")
    fails(["prepare", str(sheet), *args[2:], *out], "sheet.tsv:2: track not found")
    junk = tmp_path / "junk.bw"
    junk.write_bytes(b"garbage" * 100)
    sheet.write_text(f"cell\tmark\tpath\nE1\tH3K4me3\t{junk}\n")
    fails(["prepare", str(sheet), *args[2:], *out], "junk.bw: not a readable bigWig")
    # chromosome names without the 'chr' prefix in the GTF
    gtf = tmp_path / "nochr.gtf"
    bare = inputs["genes"].reset_index().assign(chrom=lambda t: t["chrom"].str[3:])
    st.write_gtf(gtf, bare)
    sheet.write_text(f"cell\tmark\tpath\nE1\tH3K4me3\t{d / 'a.tagAlign.gz'}\n")
    fails(["prepare", str(sheet), "--gtf", str(gtf), *out], "'chr' prefix")
    ids = tmp_path / "ids.txt"
    ids.write_text("ENSG99999999999\n")
    fails([*args, *out, "--genes", str(ids)], "match no gene of the GTF")
    fails([*args, *out, "--expression", str(d / "expr.pc"), "--cell", "E9"], "no column 'E9'")
    sheet.write_text("cell\tpath\nE1\tx.bw\n")
    fails(["prepare", str(sheet), *args[2:], *out], "missing column(s) mark")
    bad = tmp_path / "bad.tagAlign"
    bad.write_text("chr1\t10\t50\tN\t0\t+\nchr1\t10\n")
    sheet.write_text(f"cell\tmark\tpath\nE1\tH3K4me3\t{bad}\n")
    fails(["prepare", str(sheet), *args[2:], *out], "bad.tagAlign:2: expected 6")
    assert not (tmp_path / "never").exists()  # nothing half-written


def test_a_progress_bar_per_track(inputs, capsys):
    d = inputs["dir"]
    prepare(
        d / "sheet.tsv", d / "genes.gtf.gz", options=PrepareOptions(split="random"), progress=True
    )
    err = capsys.readouterr().err
    for mark in ("M1_tagalign", "M2_bam", "M3_bedgraph", "M4_bigwig"):
        assert f"E1 {mark}" in err


def test_ensembl_style_annotation_and_chromosome_split(inputs, tmp_path):
    """Ensembl GTFs say gene_biotype and name chromosomes without 'chr'; tracks agree here."""
    genes = inputs["genes"].reset_index()
    genes = genes.assign(chrom=genes["chrom"].str[3:], gene_id=genes["gene_id"].str[4:])
    genes["gene_id"] = "ENSMUSG" + genes["gene_id"]
    text = "".join(
        f'{r.chrom}\tensembl\tgene\t{r.start}\t{r.end}\t.\t{r.strand}\t.\tgene_id "{r.gene_id}"; '
        'gene_biotype "protein_coding";\n'
        for r in genes.itertuples()
    )
    (tmp_path / "mm.gtf").write_text(text)
    reads = inputs["reads"].assign(chrom=lambda t: t["chrom"].astype(str).str[3:])
    st.write_tagalign(tmp_path / "r.tagAlign", reads)
    (tmp_path / "sheet.tsv").write_text("cell\tmark\tpath\nM1\tH3K4me3\tr.tagAlign\n")
    opts = PrepareOptions(split="chromosome")
    # chr2 validates and chr1 tests by default, whatever the naming; nothing is left to train
    with pytest.raises(InputError, match="leaves train empty"):
        prepare(tmp_path / "sheet.tsv", tmp_path / "mm.gtf", options=opts)
    splits = prepare(
        tmp_path / "sheet.tsv", tmp_path / "mm.gtf", options=PrepareOptions(split="random")
    )
    assert sum(s.n_genes for s in splits.values()) == len(genes)
    assert all(g.startswith("ENSMUSG") for s in splits.values() for g in s.gene_ids)
