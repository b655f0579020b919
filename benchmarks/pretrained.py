"""The shipped ``roadmap`` model in use: time of ``simplechrome predict roadmap`` on a genome-wide
cell folder, and the size of the package's wheel with the model inside; prints JSON.

Goals (issue 36), on 2 cores: predict in under 10 s (median of the repeats; a fresh process
each time, imports and the model's loading included, nothing trained); wheel under 20 MB.

    python benchmarks/pretrained.py --data ../shared/data/E012 --repeats 3
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

ROOT = Path(__file__).resolve().parents[1]


def time_predict(data: Path, repeats: int) -> list[float]:
    exe = Path(sys.executable).with_name("simplechrome")
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(
                [str(exe), "-q", "predict", "roadmap", str(data), "-o", f"{tmp}/p.tsv"],
                check=True,
                capture_output=True,
            )
            seconds.append(time.perf_counter() - start)
    return seconds


def wheel_size() -> tuple[str, int, int]:
    """``(name, bytes, shipped files inside)`` of a wheel built from this checkout."""
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "-q", "-w", tmp, str(ROOT)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        wheel = next(Path(tmp).glob("simplechrome-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            shipped = [n for n in z.namelist() if "/shipped/" in n]
        return wheel.name, wheel.stat().st_size, len(shipped)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "E012")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    seconds = time_predict(args.data, args.repeats)
    name, size, n_shipped = wheel_size()
    print(
        json.dumps(
            {
                "predict_seconds": [round(s, 2) for s in seconds],
                "predict_median_s": round(sorted(seconds)[len(seconds) // 2], 2),
                "data": str(args.data),
                "cores": os.cpu_count(),
                "wheel": name,
                "wheel_mb": round(size / 2**20, 2),
                "shipped_files_in_wheel": n_shipped,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
