"""A study config end to end: wall time, runs per hour and, where ``nvidia-smi`` answers, the
mean GPU utilisation sampled every second while it runs; prints JSON.

Each repeat is a fresh ``simplechrome experiment CONFIG -o TMP`` process (nothing resumed), with
the executor, workers and any extra arguments given here.

    python benchmarks/study.py configs/cross_cell_cnn_pooled.yaml --workers 4 --repeats 1
    python benchmarks/study.py configs/grid.yaml --executor ray
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def gpu_utilisation() -> float | None:
    """Mean utilisation (%) over this machine's GPUs now; ``None`` without ``nvidia-smi``."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout  # fmt: skip
        values = [float(v) for v in out.split()]
    except (subprocess.SubprocessError, ValueError):
        return None
    return sum(values) / len(values) if values else None


def one_study(config: Path, extra: list[str]) -> dict:
    exe = str(Path(sys.executable).with_name("simplechrome"))
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            u = gpu_utilisation()
            if u is not None:
                samples.append(u)
            stop.wait(1.0)

    with tempfile.TemporaryDirectory() as tmp:
        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        start = time.perf_counter()
        subprocess.run([exe, "-q", "experiment", str(config), "-o", f"{tmp}/out", *extra],
                       check=True, capture_output=True)  # fmt: skip
        wall = time.perf_counter() - start
        stop.set()
        watcher.join()
        runs = len(list(Path(tmp, "out", "records").glob("*.json")))
    return {
        "wall_s": round(wall, 1),
        "runs": runs,
        "runs_per_hour": round(runs / wall * 3600, 1),
        "gpu_utilisation_mean": round(statistics.mean(samples), 1) if samples else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", type=Path)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--executor", default="local")
    ap.add_argument("--workers", type=int)
    ap.add_argument("extra", nargs="*", help="more arguments for `simplechrome experiment`")
    args = ap.parse_args()
    workers = ["--workers", str(args.workers)] if args.workers else []
    extra = ["--executor", args.executor, *workers, *args.extra]
    repeats = [one_study(args.config, extra) for _ in range(args.repeats)]
    walls = [r["wall_s"] for r in repeats]
    print(
        json.dumps(
            {
                "config": str(args.config),
                "arguments": extra,
                "repeats": repeats,
                "wall_s_median": statistics.median(walls),
                "runs_per_hour_median": statistics.median(r["runs_per_hour"] for r in repeats),
                "gpu": gpu_utilisation() is not None,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
