"""AttentiveChrome's bin-level kernel against its version at another commit, in one process.

Builds ``csrc/bin_lstm.cpp`` as it is now and as it was at ``--base`` (``git show``), then
times each one's forward (keeping the activations, as training does) and backward on the same
random E012-shaped batch, the two versions alternating round by round so that a machine whose
speed drifts slows both alike. Checks that both compute the same outputs and gradients (float
rounding apart) and prints JSON: median milliseconds per version and the median of the
per-round ratios (base / now; above 1: now is faster).

    python benchmarks/kernel_ab.py --base HEAD~1
    python benchmarks/kernel_ab.py --base HEAD --flags="-mrecip"   # a compiler flag, same source
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.cpp_extension import load

from simplechrome.models import fused_lstm

ROOT = Path(__file__).resolve().parents[1]


def build(name: str, source: str, folder: Path, extra: list[str] = ()):
    path = folder / f"{name}.cpp"
    path.write_text(source)
    return load(f"ab_{name}", [str(path)], extra_cflags=[*fused_lstm.FLAGS, *extra],
                extra_ldflags=["-fopenmp"], build_directory=str(folder))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="HEAD~1", help="the commit to compare with")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument(
        "--flags", default="", help='more compiler flags for the version now: --flags="-mrecip"'
    )
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rel = fused_lstm.SOURCE.relative_to(ROOT).as_posix()
    old = subprocess.run(
        ["git", "show", f"{args.base}:{rel}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    with tempfile.TemporaryDirectory(prefix="kernel-ab-") as tmp:
        kernels = {
            "base": build("base", old, Path(tmp)),
            "now": build("now", fused_lstm.SOURCE.read_text(), Path(tmp), args.flags.split()),
        }
        b, m, t, h = args.batch_size, 5, 100, fused_lstm.HIDDEN
        k, g = 2 * m, 4 * h
        torch.manual_seed(0)
        x = torch.rand(b, m, t) * 3
        w_ih, bias = torch.randn(k, g) * 0.3, torch.randn(k, g) * 0.1
        w_hh = torch.randn(k, g, h) * 0.2
        w_t = w_hh.transpose(1, 2).contiguous()
        dout = torch.randn(b, m, t, 2 * h)
        times: dict[str, dict[str, list[float]]] = {
            n: {"forward": [], "backward": []} for n in kernels
        }
        grads = {}
        for _ in range(args.rounds + 1):  # the first round warms up and is dropped
            for name, ext in kernels.items():
                start = time.perf_counter()
                out, acts, cs = ext.forward(x, w_ih, bias, w_t, True)
                mid = time.perf_counter()
                grads[name] = ext.backward(dout, x, w_ih, w_hh, out, acts, cs)
                end = time.perf_counter()
                times[name]["forward"].append((mid - start) * 1e3)
                times[name]["backward"].append((end - mid) * 1e3)
    for a, c in zip(grads["base"], grads["now"], strict=True):
        torch.testing.assert_close(c, a, rtol=1e-4, atol=1e-3)
    result: dict[str, object] = {"base": args.base, "threads": args.threads, "batch_size": b}
    if args.flags:
        result["flags"] = args.flags.split()
    for part in ("forward", "backward"):
        for name in kernels:
            result[f"{part}_ms_{name}"] = round(statistics.median(times[name][part][1:]), 2)
        pairs = zip(times["base"][part][1:], times["now"][part][1:], strict=True)
        ratios = [o / n for o, n in pairs]
        result[f"{part}_speedup"] = round(statistics.median(ratios), 3)
    steps = [
        (bf + bb) / (nf + nb)
        for bf, bb, nf, nb in zip(
            times["base"]["forward"][1:], times["base"]["backward"][1:],
            times["now"]["forward"][1:], times["now"]["backward"][1:], strict=True,
        )
    ]  # fmt: skip
    result["forward_backward_speedup"] = round(statistics.median(steps), 3)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
