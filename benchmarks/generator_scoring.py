"""How fast the default generator scores genes by batch size (the validation of ``gan train``
every epoch); prints JSON.

Genes drawn at random on E012's shape (5 marks, 100 bins; counts Poisson(0.7)) are scored by an
untrained default autoregressive generator under ``torch.inference_mode`` in batches of each
size; each size's time is the median over ``--repeats``. A score is per gene, so every batch
size gives the same scores (``mean_score`` shows it). ``gan train`` validates in batches of 128.

    python benchmarks/generator_scoring.py [--genes 4096] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from simplechrome import models


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--genes", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="128,256,512,1024,4096")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n, marks = args.genes, 5
    m = models.create("autoregressive", n_marks=marks, n_bins=100, n_outputs=1)
    raw = np.random.default_rng(0).poisson(0.7, size=(n, marks, 100)).astype(float)
    logged = np.log1p(raw)
    m.set_scale(logged.mean((0, 2)), logged.std((0, 2)), np.full(marks, 1e-3))
    m.fit_grid(raw, np.linspace(0, 3, n))
    x = m.generator.transformed(torch.tensor(raw, dtype=torch.float32))
    c = torch.linspace(0, 3, n)[:, None]
    m.eval()
    out = {"genes": n, "threads": args.threads, "repeats": args.repeats, "sizes": {}}
    for size in map(int, args.sizes.split(",")):
        seconds = []
        for _ in range(args.repeats):
            with torch.inference_mode():
                start = time.perf_counter()
                s = torch.cat([m.score(x[i : i + size], c[i : i + size])
                               for i in range(0, n, size)])  # fmt: skip
                seconds.append(time.perf_counter() - start)
        out["sizes"][size] = {"median_seconds": round(statistics.median(seconds), 3),
                              "mean_score": round(float(s.mean()), 6)}  # fmt: skip
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
