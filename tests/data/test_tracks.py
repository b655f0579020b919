"""Every track format's bins against a brute-force count of the same reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simplechrome.data import bigwig_bam, tracks
from simplechrome.data import synthetic_tracks as st
from simplechrome.data.preparation import PrepareOptions, gene_windows
from simplechrome.errors import InputError
from tests.conftest import require

pysam = require("pysam")

SIZES = {"chr1": 60_000, "chr2": 40_000, "chrX": 30_000}  # no genes on chrX


def make_genes() -> pd.DataFrame:
    """Genes on both strands, overlapping windows, and windows off both chromosome ends."""
    start = [2_000, 10_000, 13_000, 13_050, 30_000, 57_500, 5_000, 20_000, 24_000]
    genes = pd.DataFrame(
        {
            "gene_id": [f"ENSG{i:011d}" for i in range(1, len(start) + 1)],
            "chrom": ["chr1"] * 6 + ["chr2"] * 3,
            "start": start,
            "strand": list("+-+-+-+-+"),
        }
    )
    genes["end"] = genes["start"] + 1_500
    genes["tss"] = np.where(genes["strand"] == "+", genes["start"], genes["end"])
    return genes.set_index("gene_id")


def brute(reads: pd.DataFrame, windows: tracks.Windows, count: str) -> np.ndarray:
    """Bin by bin, read by read: the definitions, with no cleverness."""
    out = np.zeros((len(windows), windows.n_bins))
    for g in range(len(windows)):
        r = reads[reads["chrom"].astype(str) == windows.chrom[g]]
        s, e = r["start"].to_numpy(), r["end"].to_numpy()
        five = np.where(r["strand"] == "-", e - 1, s)
        for k in range(windows.n_bins):
            a = windows.left[g] + k * windows.bin_size
            b = a + windows.bin_size
            if count == "overlap":
                out[g, k] = np.sum((s < b) & (e > a))
            elif count == "start":
                out[g, k] = np.sum((five >= a) & (five < b))
            else:
                out[g, k] = np.clip(np.minimum(e, b) - np.maximum(s, a), 0, None).sum()
    return out


@pytest.fixture(scope="module")
def reads() -> pd.DataFrame:
    # lengths up to 250 bp: many reads straddle two or three 100 bp bins
    return st.random_reads(SIZES, 4_000, length=(20, 250), seed=3)


@pytest.fixture(scope="module")
def files(reads, tmp_path_factory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("tracks")
    coverage = st.coverage_intervals(reads)
    return {
        "tagalign": st.write_tagalign(d / "r.tagAlign.gz", reads),
        "bed": st.write_tagalign(d / "r.bed", reads.sample(frac=1, random_state=0)),  # unsorted
        "bam": st.write_bam(d / "r.bam", reads, SIZES),
        "bedgraph": st.write_bedgraph(d / "r.bedGraph.gz", coverage),
        "bigwig": st.write_bigwig(d / "r.bw", coverage, SIZES),
    }


@pytest.fixture(scope="module", params=["genomic", "strand"])
def windows(request) -> tracks.Windows:
    return gene_windows(make_genes(), PrepareOptions(order=request.param))


def test_windows_run_off_both_chromosome_ends(windows):
    assert windows.left.min() < 0 and (windows.left + 10_000 > SIZES["chr1"]).any()


@pytest.mark.parametrize("count", ["overlap", "start", "coverage"])
@pytest.mark.parametrize("fmt", ["tagalign", "bed"])
def test_read_files_count_exactly(files, reads, windows, fmt, count):
    got = tracks.count_read_file(files[fmt], windows, count=count).counts()
    want = brute(reads, windows, count)
    assert want.sum() > 500
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("count", ["overlap", "start", "coverage"])
def test_bam_counts_exactly(files, reads, windows, count):
    np.testing.assert_array_equal(
        bigwig_bam.count_bam(files["bam"], windows, count=count).counts(),
        brute(reads, windows, count),
    )


def test_bam_without_index_counts_the_same(files, reads, windows, tmp_path):
    plain = tmp_path / "noindex.bam"
    plain.write_bytes(files["bam"].read_bytes())
    np.testing.assert_array_equal(
        bigwig_bam.count_bam(plain, windows).counts(), brute(reads, windows, "overlap")
    )


@pytest.mark.parametrize("fmt", ["bedgraph", "bigwig"])
def test_signal_sums_equal_read_coverage(files, reads, windows, fmt):
    if fmt == "bigwig":
        got, chroms = bigwig_bam.bin_bigwig(files[fmt], windows)
        assert chroms == set(SIZES)
    else:
        got = tracks.bin_bedgraph(files[fmt], windows).sums()
    np.testing.assert_array_equal(got, brute(reads, windows, "coverage"))


def test_four_formats_give_one_matrix(files, windows):
    """Reads as tagAlign and BAM (covered bases) and their coverage as bedGraph and bigWig."""
    matrices = [
        tracks.count_read_file(files["tagalign"], windows, count="coverage").counts(),
        bigwig_bam.count_bam(files["bam"], windows, count="coverage").counts(),
        tracks.bin_bedgraph(files["bedgraph"], windows).sums(),
        bigwig_bam.bin_bigwig(files["bigwig"], windows)[0],
    ]
    for m in matrices[1:]:
        np.testing.assert_array_equal(m, matrices[0])


def test_one_base_reads_give_one_matrix_under_every_count(tmp_path, windows):
    """With 1 bp reads, overlap = 5' end = covered bases: all four formats agree."""
    reads = st.random_reads(SIZES, 3_000, length=(1, 1), seed=5)
    cover = st.coverage_intervals(reads)
    want = brute(reads, windows, "overlap")
    got = [
        tracks.count_read_file(st.write_tagalign(tmp_path / "a.tagAlign", reads), windows),
        bigwig_bam.count_bam(
            st.write_bam(tmp_path / "a.bam", reads, SIZES), windows, count="start"
        ),
    ]
    for c in got:
        np.testing.assert_array_equal(c.counts(), want)
    np.testing.assert_array_equal(
        tracks.bin_bedgraph(st.write_bedgraph(tmp_path / "a.bdg", cover), windows).sums(), want
    )
    np.testing.assert_array_equal(
        bigwig_bam.bin_bigwig(st.write_bigwig(tmp_path / "a.bw", cover, SIZES), windows)[0], want
    )


def test_extension_to_fragment_length(files, reads, windows):
    minus = reads["strand"] == "-"
    extended = reads.assign(
        start=np.where(minus, np.maximum(reads["end"] - 200, 0), reads["start"]),
        end=np.where(minus, reads["end"], reads["start"] + 200),
    )
    want = brute(extended, windows, "overlap")
    for counter in (
        tracks.count_read_file(files["tagalign"], windows, extend=200),
        bigwig_bam.count_bam(files["bam"], windows, extend=200),
    ):
        np.testing.assert_array_equal(counter.counts(), want)


def test_bam_filters_mapq_and_duplicates(tmp_path, windows):
    reads = st.random_reads(SIZES, 2_000, length=(36, 36), seed=7)
    rng = np.random.default_rng(0)
    reads["mapq"] = rng.choice([0, 10, 60], len(reads))
    reads["flag"] = np.where(rng.random(len(reads)) < 0.2, 0x400, 0)
    bam = st.write_bam(tmp_path / "f.bam", reads, SIZES)
    for min_mapq, keep in ((0, False), (30, False), (30, True)):
        kept = reads[(reads["mapq"] >= min_mapq) & (keep | (reads["flag"] == 0))]
        got = bigwig_bam.count_bam(bam, windows, min_mapq=min_mapq, keep_duplicates=keep).counts()
        np.testing.assert_array_equal(got, brute(kept, windows, "overlap"))


def test_overlapping_bedgraph_intervals_are_refused(tmp_path, windows):
    path = tmp_path / "o.bedGraph"
    path.write_text("chr1\t100\t300\t1\nchr1\t200\t400\t2\n")
    with pytest.raises(InputError, match=r"o.bedGraph:2: overlapping"):
        tracks.bin_bedgraph(path, windows)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("chr1\t10\t50\tN\t0\t+\nchr1\tten\t50\tN\t0\t+\n", ":2:", "not a number"),
        ("chr1\t10\t50\tN\t0\t+\nchr1\t10\t50\n", ":2:", "expected 6"),
        ("chr1\t10\t50\tN\t0\t+\nchr1\t60\t50\tN\t0\t+\n", ":2:", "empty or negative"),
    ],
)
def test_bad_read_lines_are_named(tmp_path, windows, text, where, what):
    path = tmp_path / "bad.tagAlign"
    path.write_text(text)
    with pytest.raises(InputError, match=rf"bad.tagAlign{where} .*{what}"):
        tracks.count_read_file(path, windows)


def test_unreadable_tracks(tmp_path, windows):
    junk = tmp_path / "junk.bw"
    junk.write_bytes(b"not a bigwig at all\n" * 10)
    with pytest.raises(InputError, match="not a readable bigWig"):
        bigwig_bam.bin_bigwig(junk, windows)
    bam = tmp_path / "junk.bam"
    bam.write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="not a readable BAM"):
        bigwig_bam.count_bam(bam, windows)
    gz = tmp_path / "junk.tagAlign.gz"
    gz.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(InputError, match="cannot read track"):
        tracks.count_read_file(gz, windows)


def test_format_from_extension():
    assert tracks.infer_format("a/E012-H3K4me3.tagAlign.gz") == "tagalign"
    assert tracks.infer_format("x.bigWig") == "bigwig" and tracks.infer_format("x.bdg.gz")
    with pytest.raises(InputError, match="format"):
        tracks.infer_format("x.txt")
