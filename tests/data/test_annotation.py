from __future__ import annotations

import gzip

import pytest

from simplechrome.data import read_expression, read_gtf_tss, regression_targets
from simplechrome.errors import InputError

MATRIX = (
    "gene_id\tE000\tE003\tE012\n"
    "ENSG00000000003\t1.0\t3.0\t7.0\t\n"
    "ENSG00000000005\t0.0\t0.5\t0.0\t\n"
)


def test_expression_trailing_tab(tmp_path):
    path = tmp_path / "m.pc"
    path.write_text(MATRIX)
    expr = read_expression(path)
    assert expr.columns.tolist() == ["E000", "E003", "E012"]
    assert expr.loc["ENSG00000000003", "E012"] == 7.0
    assert regression_targets(expr, "E012").loc["ENSG00000000003"] == pytest.approx(3.0)


def test_expression_gz_and_bad_value(tmp_path):
    path = tmp_path / "m.pc.gz"
    path.write_bytes(gzip.compress(MATRIX.replace("0.5", "-2").encode()))
    with pytest.raises(
        InputError,
        match=r"m.pc.gz:3: gene ENSG00000000005: column E003: value -2.0 is not a non-negative",
    ):
        read_expression(path)


def test_expression_duplicate_gene(tmp_path):
    path = tmp_path / "m.pc"
    path.write_text(MATRIX + "ENSG00000000003\t1\t1\t1\t\n")
    with pytest.raises(InputError, match="m.pc:4: gene ENSG00000000003: duplicate gene"):
        read_expression(path)


def test_gtf_tss_by_strand(tmp_path):
    gtf = tmp_path / "g.gtf"
    attrs = 'gene_id "{}.1"; gene_type "protein_coding"; gene_name "{}";'
    gtf.write_text(
        "#comment\n"
        f"chr1\tX\tgene\t100\t500\t.\t+\t.\t{attrs.format('ENSG1', 'A')}\n"
        f"chr1\tX\ttranscript\t100\t500\t.\t+\t.\t{attrs.format('ENSG1', 'A')}\n"
        f"chr2\tX\tgene\t1000\t2000\t.\t-\t.\t{attrs.format('ENSG2', 'B')}\n"
    )
    tss = read_gtf_tss(gtf)
    assert tss.loc["ENSG1", "tss"] == 100 and tss.loc["ENSG2", "tss"] == 2000
    assert tss.loc["ENSG2", "chrom"] == "chr2" and tss.loc["ENSG1", "gene_name"] == "A"


def test_gtf_without_genes(tmp_path):
    gtf = tmp_path / "g.gtf"
    gtf.write_text('chr1\tX\texon\t1\t2\t.\t+\t.\tgene_id "E";\n')
    with pytest.raises(InputError, match="no 'gene' records"):
        read_gtf_tss(gtf)
