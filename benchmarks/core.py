"""Core benchmark: parsing, cached loading, training/inference throughput, FLOPs and test AUROC.

    python benchmarks/core.py --data ../shared/data/E012 --json core.json

Prints a short table and writes JSON:
``{"parse_cold_s", "load_cached_s", "models": {NAME: {"train_genes_per_s", "infer_genes_per_s",
"flops_per_gene", "test_auroc", ...}}, "machine": {...}}``. Times are medians over repeats.
"Cold" parsing means no simplechrome cache (the OS page cache may hold the files).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from simplechrome import models
from simplechrome.config import TrainConfig
from simplechrome.data import load_cell
from simplechrome.train import fit


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def forward_flops(module: torch.nn.Module, n_marks: int, n_bins: int) -> int:
    """FLOPs of one gene's forward pass (matmuls and convolutions, 2 per multiply-add).

    torch's counter does not see inside fused LSTM kernels, so LSTMs are counted from their
    shapes: per step and direction, 4 gates of ``hidden x (input + hidden)`` multiply-adds. The
    count runs with AttentiveChrome's own CPU kernel off, so every LSTM passes its hook.
    """
    module.eval()
    before = os.environ.get("SIMPLECHROME_FUSED_LSTM")
    os.environ["SIMPLECHROME_FUSED_LSTM"] = "0"
    lstm_flops = []

    def count(m: torch.nn.LSTM, args: tuple, _out: object) -> None:
        steps = args[0].shape[1] if m.batch_first else args[0].shape[0]
        directions = 2 if m.bidirectional else 1
        size = m.input_size
        for _ in range(m.num_layers):
            lstm_flops.append(2 * 4 * m.hidden_size * (size + m.hidden_size) * steps * directions)
            size = m.hidden_size * directions

    hooks = [
        m.register_forward_hook(count) for m in module.modules() if isinstance(m, torch.nn.LSTM)
    ]
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.zeros(1, n_marks, n_bins))
    for h in hooks:
        h.remove()
    if before is None:
        del os.environ["SIMPLECHROME_FUSED_LSTM"]
    else:
        os.environ["SIMPLECHROME_FUSED_LSTM"] = before
    return int(counter.get_total_flops()) + sum(lstm_flops)


def inference(trained, test):
    """What "inference" means for the model's family (a function to time) and its test score:
    class scores and AUROC for predictors, latent means and reconstruction R^2 for a VAE, one
    generated gene per test gene (its class) for a GAN."""
    if trained.family == "vae":
        return (lambda: trained.embed(test)), {"test_recon_r2": round(
            trained.evaluate(test)["recon_r2"], 4)}  # fmt: skip
    if trained.family == "generator":
        return (lambda: trained.generate(test.y)), {}
    return (lambda: trained.predict_scores(test)), {
        "test_auroc": round(trained.evaluate(test)["auroc"], 4)
    }


def matmul_peak_flops(threads: int, device: str = "cpu") -> float:
    """Measured float32 GEMM rate of this machine at ``threads`` threads, or of its GPU
    (FLOP/s; 4096 x 4096 there, synchronised, default precision settings)."""
    n = 2048 if device == "cpu" else 4096
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)

    def product() -> None:
        a @ b
        if device != "cpu":
            torch.cuda.synchronize()

    product()
    seconds = median_time(product, 7)
    return 2 * n**3 / seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--data", required=True, type=Path, help="a cell folder, e.g. ../shared/data/E012"
    )
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--models", nargs="*", default=["deepchrome", "linear", "mlp", "logreg"])
    p.add_argument(
        "--batch-size", type=int, help="training batch (default: each model's training default)"
    )
    p.add_argument("--patience", type=int, help="early-stopping patience (default: the model's)")
    p.add_argument("--max-epochs", type=int, help="at most this many epochs (default: the model's)")
    p.add_argument(
        "--accelerator",
        choices=("cpu", "gpu"),
        default="cpu",
        help="train and score on the GPU (gpu) or the CPU (default)",
    )
    p.add_argument(
        "--expression",
        type=Path,
        help="57epigenomes.RPKM.pc[.gz]: also fit each model to log2(RPKM+1), report Pearson r",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ["SIMPLECHROME_HOME"] = tempfile.mkdtemp(prefix="simplechrome-bench-")

    parse_cold = median_time(lambda: load_cell(args.data, cache=False), args.repeats)
    load_cell(args.data)  # fill the cache
    load_cached = median_time(lambda: load_cell(args.data), max(args.repeats, 7))
    cell = load_cell(args.data)
    train, valid, test = cell["train"], cell["valid"], cell["test"]
    peak = matmul_peak_flops(args.threads, "cuda" if args.accelerator == "gpu" else "cpu")

    results: dict[str, dict] = {}
    for name in args.models:
        start = time.perf_counter()
        config = TrainConfig(
            progress=False,
            threads=args.threads,
            batch_size=args.batch_size,
            patience=args.patience,
            max_epochs=args.max_epochs,
            accelerator=args.accelerator,
        )
        trained = fit(name, train, valid, config=config)
        fit_seconds = time.perf_counter() - start
        if args.accelerator == "gpu":  # training hands the module back on the CPU
            trained.module.to("cuda")
        score, quality = inference(trained, test)
        infer_s = median_time(score, args.repeats)
        row = {
            **quality,
            "infer_genes_per_s": round(test.n_genes / infer_s),
            "parameters": trained.n_parameters(),
            "fit_seconds": round(fit_seconds, 2),
            "epochs": len(trained.history),
        }
        if models.get(name).kind == "torch":
            # a GAN's module takes noise and conditions: its FLOPs are not counted here
            gan = trained.family == "generator"
            flops = 0 if gan else forward_flops(trained.module.cpu(), train.n_marks, train.n_bins)
            history = trained.history
            per_epoch = history["train_seconds"].dropna()
            row["train_genes_per_s"] = round(train.n_genes / statistics.median(per_epoch))
            # wall time (training and validation) up to the end of the restored best epoch
            spent = history["train_seconds"].fillna(0) + history["valid_seconds"].fillna(0)
            best = int(history.index[history["best"]][0]) if "best" in history else len(history) - 1
            row["seconds_to_best_valid"] = round(float(spent.iloc[: best + 1].sum()), 1)
            row["best_epoch"] = int(history["epoch"].iloc[best])
            if flops:
                row["flops_per_gene"] = flops
                # a training step costs about 3 forward passes (forward, two backward products)
                row["train_ceiling_genes_per_s"] = round(peak / (3 * flops))
                row["infer_ceiling_genes_per_s"] = round(peak / flops)
        else:
            row["train_genes_per_s"] = round(train.n_genes / fit_seconds)
            row["flops_per_gene"] = 2 * trained.n_parameters()
        if args.expression is not None:
            reg = load_cell(args.data, task="regression", expression=args.expression)
            cfg = TrainConfig(progress=False, threads=args.threads, task="regression")
            fitted = fit(name, reg["train"], reg["valid"], config=cfg)
            test_reg = fitted.evaluate(reg["test"])
            row["regression_test_pearson"] = round(test_reg["pearson"], 4)
            row["regression_test_spearman"] = round(test_reg["spearman"], 4)
        results[name] = row

    out = {
        "data": str(args.data),
        "n_genes": {"train": train.n_genes, "valid": valid.n_genes, "test": test.n_genes},
        "parse_cold_s": round(parse_cold, 4),
        "load_cached_s": round(load_cached, 4),
        "models": results,
        "machine": {
            "threads": args.threads,
            "accelerator": args.accelerator,
            "gpu": torch.cuda.get_device_name() if args.accelerator == "gpu" else None,
            "matmul_gflops": round(peak / 1e9, 1),
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
        },
        "repeats": args.repeats,
    }
    print(
        f"parse (no cache) {parse_cold:.3f} s   cached load {load_cached:.4f} s   "
        f"matmul peak {peak / 1e9:.1f} GFLOP/s at {args.threads} threads"
    )
    cols = [
        "test_auroc",
        "train_genes_per_s",
        "infer_genes_per_s",
        "flops_per_gene",
        "train_ceiling_genes_per_s",
        "infer_ceiling_genes_per_s",
        "epochs",
    ]
    if args.expression is not None:
        cols.append("regression_test_pearson")
    # short headers: "train/s" is genes per second, "ceiling" the matmul-peak bound
    short = {
        c: c.replace("_genes_per_s", "/s").replace("regression_test_", "reg_").replace("_", " ")
        for c in cols
    }
    print(f"{'model':<12}" + "".join(f"{short[c]:>16}" for c in cols))
    for name, row in results.items():
        print(f"{name:<12}" + "".join(f"{row.get(c, '-')!s:>16}" for c in cols))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
