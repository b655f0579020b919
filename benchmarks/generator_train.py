"""Training time of ``simplechrome gan train`` with its default generator on a cell; prints JSON.

Goal (issue 39): the default generator trains on E012 in 15 minutes or less on 2 threads
(median of 3 runs; wall clock of the whole command, data loading and the closing measures
included). Each repeat is a fresh process with its own seed, the command a user runs:

    python benchmarks/generator_train.py --data ../shared/data/E012 \
        --expression ../shared/data/roadmap/57epigenomes.RPKM.pc.gz --repeats 3

``--logs`` reads the times instead from ``/usr/bin/time -f "WALL ... %e"`` lines that runs of
the same command wrote (a study's runs, so the machine is not spent twice).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def time_runs(data: Path, expression: Path | None, repeats: int, threads: int) -> list[float]:
    exe = Path(sys.executable).with_name("simplechrome")
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(repeats):
            cmd = [str(exe), "-q", "gan", "train", "--data", str(data), "--threads",
                   str(threads), "--seed", str(seed), "--out", f"{tmp}/run{seed}"]  # fmt: skip
            if expression is not None:
                cmd += ["--expression", str(expression)]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            seconds.append(time.perf_counter() - start)
    return seconds


def from_logs(files: list[Path]) -> list[float]:
    found = []
    for f in files:
        found += [float(m) for m in re.findall(r"^WALL .*?([\d.]+)$", f.read_text(), re.M)]
    return found


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--expression", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--logs", type=Path, nargs="*", help="read WALL lines instead of running")
    args = ap.parse_args(argv)
    if args.logs:
        seconds = from_logs(args.logs)
    elif args.data is None:
        raise SystemExit("--data or --logs is needed")
    else:
        seconds = time_runs(args.data, args.expression, args.repeats, args.threads)
    print(json.dumps({
        "seconds": [round(s, 1) for s in seconds],
        "median_s": round(statistics.median(seconds), 1) if seconds else None,
        "goal_s": 900,
        "threads": args.threads,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
