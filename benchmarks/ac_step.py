"""AttentiveChrome's training step on the CPU, timed in one process: where the time goes.

Times (median over repeats, milliseconds) the fused bin-level kernel forward without gradients,
its forward and backward, a whole 64-gene training step (forward, cross-entropy, backward,
Adam) and an inference batch, on random inputs of E012's shape. With ``--compare``, the step is
also timed with the bin attention as ``einsum``s and torch's per-tensor Adam (the code before
the attention moved into the kernel), the two alternating so that a machine whose speed drifts
affects both alike; the ratio of each pair is reported. Prints JSON.

    python benchmarks/ac_step.py --compare
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch
from core import median_time  # benchmarks/core.py, beside this script

from simplechrome import models
from simplechrome.models import fused_lstm
from simplechrome.models.attentive import einsum_attend


def median_ms(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    return median_time(fn, repeats) * 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--compare", action="store_true", help="also time the einsum attention")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    module = models.create("attentivechrome", n_marks=5, n_bins=100)
    x = torch.rand(args.batch_size, 5, 100) * 3
    y = torch.randint(0, 2, (args.batch_size,))
    if not fused_lstm.usable(x, 32):
        raise SystemExit("the fused kernel is not available here: nothing to time")
    lstms = module.bins.lstms

    def kernel_forward() -> None:
        with torch.no_grad():
            fused_lstm.bin_level(lstms, x)

    def kernel_both() -> None:
        out = fused_lstm.bin_level(lstms, x)
        out.backward(torch.ones_like(out))

    def stepper(optimiser: torch.optim.Optimizer):
        def step() -> None:
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(module(x).logits, y).backward()
            optimiser.step()

        return step

    def infer() -> None:
        with torch.inference_mode():
            module(x)

    new_step = stepper(torch.optim.Adam(module.parameters(), 1e-3, fused=True))
    out: dict[str, object] = {
        "batch_size": args.batch_size,
        "threads": args.threads,
        "kernel_forward_ms": round(median_ms(kernel_forward, args.repeats), 2),
        "kernel_forward_backward_ms": round(median_ms(kernel_both, args.repeats), 2),
        "step_ms": round(median_ms(new_step, args.repeats), 2),
        "inference_batch_ms": round(median_ms(infer, args.repeats), 2),
    }
    out["train_genes_per_s"] = round(args.batch_size / out["step_ms"] * 1000)
    if args.compare:
        old_step = stepper(torch.optim.Adam(module.parameters(), 1e-3))
        kernel_attend = fused_lstm.attend
        pairs = []
        try:
            for _ in range(12):
                fused_lstm.attend = einsum_attend
                before = median_ms(old_step, 10)
                fused_lstm.attend = kernel_attend
                pairs.append((before, median_ms(new_step, 10)))
        finally:
            fused_lstm.attend = kernel_attend
        out["compare"] = {
            "einsum_attention_step_ms": round(statistics.median(a for a, _ in pairs), 2),
            "kernel_attention_step_ms": round(statistics.median(b for _, b in pairs), 2),
            "speedup_median": round(statistics.median(a / b for a, b in pairs), 3),
            "speedup_range": [round(min(a / b for a, b in pairs), 3),
                              round(max(a / b for a, b in pairs), 3)],
        }  # fmt: skip
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
