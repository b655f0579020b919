"""predict --attention: tidy TSV, npz, and bedGraphs that pyBigWig turns into a bigWig."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from simplechrome.cli import main
from simplechrome.data import read_gtf_tss


@pytest.mark.real_data
def test_attention_export_on_real_genes(tmp_path, shared, capsys):
    cell = shared / "E003-sample"
    run = tmp_path / "run"
    assert (
        main(
            [
                "-q",
                "train",
                "--data",
                str(cell),
                "--model",
                "attentivechrome",
                "--set",
                "train.max_epochs=2",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    gtf = shared / "roadmap" / "gencode_10_genes.gtf.gz"
    out = tmp_path / "att"
    code = main(
        [
            "predict",
            str(run),
            str(cell),
            "-o",
            str(tmp_path / "p.tsv"),
            "--attention",
            str(out),
            "--gtf",
            str(gtf),
        ]
    )
    assert code == 0, capsys.readouterr().err
    z = np.load(out / "attention.npz")
    assert z["bin_attention"].shape == (600, 5, 100) and z["mark_attention"].shape == (600, 5)
    tidy = pd.read_csv(out / "attention.tsv", sep="\t")
    assert list(tidy.columns) == ["gene_id", "mark", "mark_attention", "bin", "bin_attention"]
    assert len(tidy) == 600 * 5 * 100

    # one gene whose window overlaps no other gene's: its 100 bins are TSS-5kb .. TSS+5kb
    tss = read_gtf_tss(gtf).loc[z["gene_ids"]]
    order = tss.sort_values(["chrom", "tss"])
    gap = order.groupby("chrom")["tss"].diff().fillna(1e9)
    isolated = order[
        (gap > 10_000) & (order.groupby("chrom")["tss"].diff(-1).abs().fillna(1e9) > 10_000)
    ]
    gene = isolated.index[0]
    chrom, t = isolated.loc[gene, "chrom"], int(isolated.loc[gene, "tss"])
    mark = "H3K4me3"
    lines = (out / f"attention.{mark}.bedGraph").read_text().splitlines()
    assert lines[0].startswith("track type=bedGraph")
    rows = pd.DataFrame(
        [line.split("\t") for line in lines[1:]], columns=["chrom", "start", "end", "value"]
    )
    rows[["start", "end"]] = rows[["start", "end"]].astype(int)
    rows["value"] = rows["value"].astype(float)
    mine = rows[
        (rows["chrom"] == chrom) & (rows["start"] >= t - 1 - 5000) & (rows["end"] <= t - 1 + 5000)
    ]
    assert len(mine) == 100
    assert mine["start"].min() == t - 1 - 5000 and mine["end"].max() == t - 1 + 5000
    assert (mine["end"] - mine["start"] == 100).all()

    # the whole file converts to a bigWig, which gives the same values back
    sizes = rows.groupby("chrom")["end"].max().add(1).sort_index()
    bw_path = str(tmp_path / "att.bw")
    bw = pyBigWig.open(bw_path, "w")
    bw.addHeader([(c, int(s)) for c, s in sizes.items()])
    for c in sizes.index:
        part = rows[rows["chrom"] == c].sort_values("start")
        bw.addEntries(
            [c] * len(part),
            part["start"].tolist(),
            ends=part["end"].tolist(),
            values=part["value"].tolist(),
        )
    bw.close()
    bw = pyBigWig.open(bw_path)
    got = np.array(bw.values(chrom, t - 1 - 5000, t - 1 + 5000))[::100]
    bw.close()
    i = list(z["gene_ids"]).index(gene)
    m = list(z["marks"]).index(mark)
    np.testing.assert_allclose(got, z["bin_attention"][i, m], rtol=1e-4)


def test_attention_refused_for_a_model_without_it(tmp_path, cell_dir, capsys):
    run = tmp_path / "run"
    assert (
        main(["-q", "train", "--data", str(cell_dir), "--model", "logreg", "--out", str(run)]) == 0
    )
    code = main(
        [
            "predict",
            str(run),
            str(cell_dir),
            "-o",
            str(tmp_path / "p.tsv"),
            "--attention",
            str(tmp_path / "att"),
        ]
    )
    assert code == 2 and "no attention" in capsys.readouterr().err
