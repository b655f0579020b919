"""Track files with known content: random reads and the GTF, tagAlign, BAM, bedGraph and
bigWig writers that tests, benchmarks and round trips build their inputs with."""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_write


def random_reads(
    chrom_sizes: Mapping[str, int],
    n: int,
    *,
    length: tuple[int, int] = (36, 36),
    seed: int = 0,
    sort: bool = True,
) -> pd.DataFrame:
    """``n`` reads (``chrom, start, end, strand``; 0-based half-open) spread uniformly over the
    chromosomes in proportion to their sizes; lengths uniform in ``length`` (inclusive)."""
    rng = np.random.default_rng(seed)
    names = list(chrom_sizes)
    sizes = np.array([chrom_sizes[c] for c in names], np.int64)
    chrom = rng.choice(len(names), size=n, p=sizes / sizes.sum())
    size = rng.integers(length[0], length[1] + 1, size=n)
    start = (rng.random(n) * (sizes[chrom] - size)).astype(np.int64)
    reads = pd.DataFrame(
        {
            "chrom": pd.Categorical.from_codes(chrom, names),
            "start": start,
            "end": start + size,
            "strand": pd.Categorical.from_codes((rng.random(n) < 0.5).astype(np.int8), ["+", "-"]),
        }
    )
    return reads.sort_values(["chrom", "start"], ignore_index=True) if sort else reads


def write_tagalign(path: str | Path, reads: pd.DataFrame) -> Path:
    """ENCODE tagAlign (``chrom start end N 1000 strand``); gzip when the name ends ``.gz``."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    path = Path(path)
    n = len(reads)

    def text(column: pd.Series) -> pa.Array:  # categories stay codes until arrow casts them
        cat = column.astype("category")
        codes = pa.array(cat.cat.codes.to_numpy(np.int32))
        return pa.DictionaryArray.from_arrays(codes, list(map(str, cat.cat.categories))).cast(
            pa.string()
        )

    table = pa.table(
        {
            "chrom": text(reads["chrom"]),
            "start": pa.array(reads["start"].to_numpy(np.int64)),
            "end": pa.array(reads["end"].to_numpy(np.int64)),
            "name": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), ["N"]).cast(
                pa.string()
            ),
            "score": pa.array(np.full(n, 1000, np.int64)),
            "strand": text(reads["strand"]),
        }
    )
    options = pcsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    tmp = path.with_name(f".{path.name}.tmp")
    compression = "gzip" if path.name.endswith(".gz") else None
    with pa.output_stream(str(tmp), compression=compression) as sink:
        pcsv.write_csv(table, sink, write_options=options)
    tmp.replace(path)
    return path


def write_bam(path: str | Path, reads: pd.DataFrame, chrom_sizes: Mapping[str, int]) -> Path:
    """A coordinate-sorted, indexed BAM of ungapped alignments (needs pysam)."""
    import pysam

    path = Path(path)
    names = list(chrom_sizes)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [
        {"SN": c, "LN": int(chrom_sizes[c])} for c in names
    ]}  # fmt: skip
    order = reads.assign(_c=reads["chrom"].astype(str).map(names.index)).sort_values(
        ["_c", "start"], kind="stable"
    )
    mapq = order["mapq"] if "mapq" in order else pd.Series(60, index=order.index)
    flag = order["flag"] if "flag" in order else pd.Series(0, index=order.index)
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        for i, (c, s, e, strand, q, f) in enumerate(
            zip(order["_c"], order["start"], order["end"], order["strand"], mapq, flag, strict=True)
        ):
            a = pysam.AlignedSegment(bam.header)
            a.query_name = f"r{i}"
            a.reference_id, a.reference_start = int(c), int(s)
            a.cigarstring = f"{int(e - s)}M"
            a.query_sequence = "A" * int(e - s)
            a.flag = int(f) | (16 if strand == "-" else 0)
            a.mapping_quality = int(q)
            bam.write(a)
    pysam.index(str(path))
    return path


def coverage_intervals(reads: pd.DataFrame) -> pd.DataFrame:
    """The reads' per-base coverage as non-overlapping runs ``chrom, start, end, value`` (>0)."""
    parts = []
    for chrom, group in reads.groupby("chrom", observed=True, sort=False):
        pos = np.concatenate([group["start"].to_numpy(), group["end"].to_numpy()])
        step = np.concatenate([np.ones(len(group), np.int64), -np.ones(len(group), np.int64)])
        order = np.argsort(pos, kind="stable")
        pos, depth = pos[order], np.cumsum(step[order])
        last = np.r_[pos[1:] != pos[:-1], True]  # the depth after all changes at a position
        pos, depth = pos[last], depth[last]
        keep = depth[:-1] > 0
        parts.append(
            pd.DataFrame(
                {
                    "chrom": str(chrom),
                    "start": pos[:-1][keep],
                    "end": pos[1:][keep],
                    "value": depth[:-1][keep].astype(np.float64),
                }
            )  # fmt: skip
        )
    return pd.concat(parts, ignore_index=True)


def write_bedgraph(path: str | Path, intervals: pd.DataFrame) -> Path:
    """bedGraph with a track line; gzip when the name ends ``.gz``."""
    path = Path(path)
    text = "track type=bedGraph\n" + intervals[["chrom", "start", "end", "value"]].to_csv(
        sep="\t", header=False, index=False, float_format="%.9g"
    )
    with atomic_write(path, "wb") as fh:
        fh.write(gzip.compress(text.encode(), 1) if path.name.endswith(".gz") else text.encode())
    return path


def write_bigwig(path: str | Path, intervals: pd.DataFrame, chrom_sizes: Mapping[str, int]) -> Path:
    """bigWig of non-overlapping intervals (sorted here), chromosomes in ``chrom_sizes`` order."""
    import pyBigWig

    path = Path(path)
    names = list(chrom_sizes)
    rank = intervals["chrom"].astype(str).map(names.index)
    ordered = intervals.assign(_r=rank).sort_values(["_r", "start"], kind="stable")
    tmp = path.with_name(f".{path.name}.tmp")
    bw = pyBigWig.open(str(tmp), "w")
    try:
        bw.addHeader([(c, int(chrom_sizes[c])) for c in names], maxZooms=0)
        for chrom, group in ordered.groupby("_r", sort=True):
            bw.addEntries(
                [names[int(chrom)]] * len(group),
                group["start"].to_numpy(np.int64).tolist(),
                ends=group["end"].to_numpy(np.int64).tolist(),
                values=group["value"].to_numpy(np.float64).tolist(),
            )
    finally:
        bw.close()
    tmp.replace(path)
    return path


def write_gtf(path: str | Path, genes: pd.DataFrame) -> Path:
    """GENCODE-style gene records from ``gene_id, chrom, start, end, strand[, gene_type]``."""
    path = Path(path)
    kind = genes["gene_type"] if "gene_type" in genes else "protein_coding"
    attrs = (
        'gene_id "' + genes["gene_id"].astype(str) + '.1"; gene_type "' + kind
        + '"; gene_name "' + genes["gene_id"].astype(str) + '";'
    )  # fmt: skip
    table = pd.DataFrame(
        {"chrom": genes["chrom"], "source": "TEST", "feature": "gene", "start": genes["start"],
         "end": genes["end"], "score": ".", "strand": genes["strand"], "frame": ".", "attrs": attrs}
    )  # fmt: skip
    text = table.to_csv(sep="\t", header=False, index=False, quoting=3)
    with atomic_write(path, "wb") as fh:
        fh.write(gzip.compress(text.encode(), 1) if path.name.endswith(".gz") else text.encode())
    return path
