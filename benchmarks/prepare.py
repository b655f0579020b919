"""Speed and memory of ``prepare`` on generated inputs of realistic size; prints JSON.

Two goals (issue 7), on 2 cores:
- 20,000 genes x 5 marks from bigWig in under 60 s;
- a 30-million-read tagAlign (.gz, 36 bp reads, coordinate-sorted as ENCODE/Roadmap ship
  them) counted in under 60 s with peak memory under 4 GB.

Inputs: hg19 chromosome sizes, genes with random TSSs and strands; bigWigs hold a signal
of runs of 10-90 bp (random values) over every TSS +/- 20 kb, as a fold-enrichment bigWig
at base resolution does around genes (about 10 million intervals per mark). Each timed run is
a fresh Python process (so its peak RSS is the job's own, imports included) running
``simplechrome.data.prepare`` end to end: GTF, tracks, hashes, split, CSV and manifest.

    python benchmarks/prepare.py --repeats 3 --json benchmarks/prepare.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HG19 = {
    "chr1": 249250621, "chr2": 243199373, "chr3": 198022430, "chr4": 191154276,
    "chr5": 180915260, "chr6": 171115067, "chr7": 159138663, "chr8": 146364022,
    "chr9": 141213431, "chr10": 135534747, "chr11": 135006516, "chr12": 133851895,
    "chr13": 115169878, "chr14": 107349540, "chr15": 102531392, "chr16": 90354753,
    "chr17": 81195210, "chr18": 78077248, "chr19": 59128983, "chr20": 63025520,
    "chr21": 48129895, "chr22": 51304566, "chrX": 155270560, "chrY": 59373566,
}  # fmt: skip

CHILD = """
import json, pathlib, sys, time
from simplechrome.data import prepare, PrepareOptions
t = time.perf_counter()
splits = prepare(sys.argv[1], sys.argv[2], cell=sys.argv[3], out=sys.argv[4], overwrite=True,
                 options=PrepareOptions(genes="all"))
seconds = time.perf_counter() - t
n = sum(s.n_genes for s in splits.values())
manifest = json.loads((pathlib.Path(sys.argv[4]) / sys.argv[3] / "manifest.json").read_text())
records = [t.get("records_on_gene_chromosomes") for t in manifest["tracks"]]
# VmHWM: this process image's peak RSS (getrusage's ru_maxrss would carry the parent's peak
# over fork and exec)
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "genes": n, "marks": splits["train"].n_marks,
                  "records": records, "peak_rss_mb": int(hwm.split()[1]) / 1024}))
"""


def make_genes(n: int, rng: np.random.Generator) -> pd.DataFrame:
    names = list(HG19)
    sizes = np.array(list(HG19.values()), np.int64)
    chrom = rng.choice(len(names), size=n, p=sizes / sizes.sum())
    start = (rng.random(n) * (sizes[chrom] - 200_000)).astype(np.int64) + 100_000
    return pd.DataFrame(
        {
            # spread like real Ensembl IDs, so the published split has all three parts
            "gene_id": [f"ENSG{i:011d}" for i in np.sort(rng.choice(270_000, n, replace=False))],
            "chrom": [names[c] for c in chrom],
            "start": start,
            "end": start + rng.integers(1_000, 50_000, n),
            "strand": np.where(rng.random(n) < 0.5, "+", "-"),
        }
    )


def signal_around(genes: pd.DataFrame, flank: int, rng: np.random.Generator) -> pd.DataFrame:
    """Runs of 10-90 bp with random values tiling every TSS +/- ``flank`` (merged)."""
    tss = np.where(genes["strand"] == "+", genes["start"], genes["end"])
    parts = []
    for chrom, idx in genes.groupby("chrom").indices.items():
        lo = np.sort(tss[idx] - flank)
        hi = np.sort(tss[idx] + flank)
        # merge overlapping regions, then tile each with runs
        keep = np.r_[True, lo[1:] > hi[:-1]]
        starts, ends = lo[keep], np.r_[hi[:-1][keep[1:]], hi[-1]]
        total = int((ends - starts).sum())
        runs = rng.integers(10, 91, total // 40 + 1000)
        edges = np.cumsum(runs)
        edges = edges[edges < total]
        # positions along the concatenated regions -> genome positions
        cum = np.r_[0, np.cumsum(ends - starts)]
        cut = np.unique(np.r_[0, edges, cum[1:-1], total])
        region = np.searchsorted(cum, cut[:-1], "right") - 1
        s = starts[region] + cut[:-1] - cum[region]
        e = s + np.diff(cut)
        parts.append(
            pd.DataFrame(
                {"chrom": chrom, "start": s, "end": e, "value": rng.gamma(0.6, 2.0, len(s))}
            )
        )
    return pd.concat(parts, ignore_index=True)


def generate(work: Path, n_genes: int, n_marks: int, n_reads: int, seed: int) -> dict:
    from simplechrome.data import synthetic_tracks as st

    rng = np.random.default_rng(seed)
    genes = make_genes(n_genes, rng)
    st.write_gtf(work / "genes.gtf.gz", genes)
    rows, info = [], {}
    t = time.perf_counter()
    for m in range(n_marks):
        path = work / f"mark{m}.bw"
        if not path.exists():
            st.write_bigwig(path, signal_around(genes, 20_000, rng), HG19)
        rows.append(("BW", f"mark{m}", path.name))
    info["bigwig_mb"] = round(sum((work / r[2]).stat().st_size for r in rows) / 1e6, 1)
    tag = work / "reads.tagAlign.gz"
    if not tag.exists():
        st.write_tagalign(tag, st.random_reads(HG19, n_reads, seed=seed))
    rows.append(("TA", "H3K4me3", tag.name))
    info["tagalign_mb"] = round(tag.stat().st_size / 1e6, 1)
    info["generate_seconds"] = round(time.perf_counter() - t, 1)
    pd.DataFrame(rows, columns=["cell", "mark", "path"]).to_csv(
        work / "sheet.tsv", sep="\t", index=False
    )
    return info


def timed(work: Path, cell: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(work / "sheet.tsv"), str(work / "genes.gtf.gz"), cell,
         str(work / "out")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--genes", type=int, default=20_000)
    p.add_argument("--marks", type=int, default=5)
    p.add_argument("--reads", type=int, default=30_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, help="keep generated inputs here (reused if present)")
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="simplechrome-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    result = {"cpus": os.cpu_count(), "genes": args.genes, "marks": args.marks,
              "reads": args.reads, "repeats": args.repeats}  # fmt: skip
    result |= generate(work, args.genes, args.marks, args.reads, args.seed)
    for cell, name in (("BW", "bigwig"), ("TA", "tagalign")):
        runs = [timed(work, cell) for _ in range(args.repeats)]
        result[name] = {
            "median_seconds": round(float(np.median([r["seconds"] for r in runs])), 2),
            "seconds": [round(r["seconds"], 2) for r in runs],
            "max_peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
            "genes": runs[0]["genes"],
            "marks": runs[0]["marks"],
            "records_counted": runs[0]["records"],
        }
    result["goals"] = {
        "bigwig_under_60s": result["bigwig"]["median_seconds"] < 60,
        "tagalign_under_60s": result["tagalign"]["median_seconds"] < 60,
        "tagalign_under_4gb": result["tagalign"]["max_peak_rss_mb"] < 4096,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
