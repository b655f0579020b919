"""AttentiveChrome's bin level, fused on the CPU: every mark's bidirectional LSTM over its bins
in one compiled call (``csrc/bin_lstm.cpp``), forward and backward, and every mark's soft
attention over its bins in another (``attend``; as ``einsum``s it took a quarter of a training
step, three batched products over the ``(batch, marks, bins, 64)`` states and their gradients).

The weights stay the ``torch.nn.LSTM`` modules' own (one per mark, as published), so a model
computes the same function on either path and checkpoints do not change; the fused path only
stacks them and runs the ten (mark, direction) recurrences together. It is compiled once per
machine with PyTorch's C++ extension builder (``ninja`` and a C++ compiler; cached where torch
caches extensions, ``$TORCH_EXTENSIONS_DIR`` or ``~/.cache/torch_extensions``, under a name
that hashes the source, the flags and the CPU's features) the first time it is needed. Where
it cannot be built, where the tensors are not float32 CPU tensors, or where
``SIMPLECHROME_FUSED_LSTM=0``, the modules run as plain ``torch.nn.LSTM``s (the GPU path:
cuDNN).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("csrc") / "bin_lstm.cpp"
HIDDEN = 32  # the hidden size the kernel is compiled for (AttentiveChrome's bin level)
_EXTENSION: Any = None
_FAILED: str | None = None


FLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp"]


def _cpu() -> str:
    """What identifies this CPU for a native build: its model and feature flags."""
    import platform

    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        info = []
    keep = [ln for ln in info if ln.startswith(("model name", "flags"))][:2]
    return platform.machine() + "|" + "|".join(keep)


@contextlib.contextmanager
def _ninja_on_path() -> Iterator[None]:
    """The ``ninja`` of this environment (the PyPI package installs it beside the interpreter)
    on ``PATH`` while the kernel builds, for an environment that is not activated."""
    before = os.environ.get("PATH", "")
    if shutil.which("ninja") is None:
        os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + before
    try:
        yield
    finally:
        os.environ["PATH"] = before


def enabled() -> bool:
    return os.environ.get("SIMPLECHROME_FUSED_LSTM", "1") not in ("0", "off", "no", "false")


def extension() -> Any | None:
    """The compiled kernel (built on first use), or ``None`` where it cannot be built."""
    global _EXTENSION, _FAILED
    if _EXTENSION is not None or _FAILED is not None:
        return _EXTENSION
    try:
        from torch.utils.cpp_extension import load

        # -march=native: the build suits this CPU only, so its features name the build
        digest = hashlib.sha256(SOURCE.read_bytes() + " ".join(FLAGS).encode() + _cpu().encode())
        with _ninja_on_path():
            _EXTENSION = load(
                f"simplechrome_bin_lstm_{digest.hexdigest()[:16]}",
                [str(SOURCE)],
                extra_cflags=FLAGS,
                extra_ldflags=["-fopenmp"],
                verbose=False,
            )
    except Exception as exc:  # no compiler, no ninja, an unusual platform: the plain path
        _FAILED = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("fused AttentiveChrome kernel unavailable (%s): using torch.nn.LSTM", _FAILED)
    return _EXTENSION


def usable(x: torch.Tensor, hidden: int) -> bool:
    """Whether the fused path can compute the bin level for ``x``."""
    return (
        enabled()
        and hidden == HIDDEN
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and extension() is not None
    )


class _Bins(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w_ih, bias, w_hh):  # type: ignore[override]
        ext = extension()
        x = x.contiguous()
        keep = torch.is_grad_enabled() or any(ctx.needs_input_grad)
        out, acts, cs = ext.forward(
            x, w_ih.contiguous(), bias.contiguous(), w_hh.transpose(1, 2).contiguous(), keep
        )
        if keep:
            ctx.save_for_backward(x, w_ih, w_hh, out, acts, cs)
        return out

    @staticmethod
    def backward(ctx, dout):  # type: ignore[override]
        x, w_ih, w_hh, out, acts, cs = ctx.saved_tensors
        dx, dwi, db, dwh = extension().backward(
            dout.contiguous(), x, w_ih.contiguous(), w_hh.contiguous(), out, acts, cs
        )
        k, b, t = dx.shape
        dx = dx.view(k // 2, 2, b, t).sum(1).permute(1, 0, 2)  # both directions of each mark
        return dx, dwi, db, dwh


def bin_level(lstms: torch.nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
    """``x``: ``(batch, marks, bins)`` -> ``(batch, marks, bins, 2 * hidden)``: every mark's
    bidirectional LSTM (``lstms[m]``, input size 1) over its bins, forward states first."""
    w_ih = torch.stack([w for m in lstms for w in (m.weight_ih_l0, m.weight_ih_l0_reverse)])
    bias = torch.stack(
        [b for m in lstms
         for b in (m.bias_ih_l0 + m.bias_hh_l0, m.bias_ih_l0_reverse + m.bias_hh_l0_reverse)]
    )  # fmt: skip
    w_hh = torch.stack([w for m in lstms for w in (m.weight_hh_l0, m.weight_hh_l0_reverse)])
    return _Bins.apply(x, w_ih[..., 0], bias, w_hh)  # (K, G, 1) -> (K, G)


class _Attend(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, context):  # type: ignore[override]
        h, context = h.contiguous(), context.contiguous()
        weights, pooled = extension().attend_forward(h, context)
        ctx.save_for_backward(h, context, weights)
        return weights, pooled

    @staticmethod
    def backward(ctx, dweights, dpooled):  # type: ignore[override]
        h, context, weights = ctx.saved_tensors
        if dpooled is None:
            dpooled = torch.zeros(h.shape[:2] + h.shape[3:], dtype=h.dtype)
        dw = torch.empty(0) if dweights is None else dweights.contiguous()
        dh, dcontext = extension().attend_backward(dpooled.contiguous(), dw, h, context, weights)
        return dh, dcontext.sum(0)


def attend(h: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every mark's soft attention over its bins in one compiled call: ``h`` ``(batch, marks,
    bins, dim)`` and one context vector per mark ``(marks, dim)`` -> the weights ``(batch,
    marks, bins)`` (a softmax over bins) and the weighted sums ``(batch, marks, dim)``."""
    return _Attend.apply(h, context)
