"""AttentiveChrome's bin level, fused on the CPU: every mark's bidirectional LSTM over its bins
in one compiled call (``csrc/bin_lstm.cpp``), forward and backward, and every mark's soft
attention over its bins in another (``attend``; as ``einsum``s it took a quarter of a training
step, three batched products over the ``(batch, marks, bins, 64)`` states and their gradients).

The weights stay the ``torch.nn.LSTM`` modules' own (one per mark, as published), so a model
computes the same function on either path and checkpoints do not change; the fused path only
stacks them and runs the ten (mark, direction) recurrences together. It is compiled once per
machine with PyTorch's C++ extension builder (``ninja`` and a C++ compiler, GCC or Clang;
cached where torch caches extensions, ``$TORCH_EXTENSIONS_DIR`` or ``~/.cache/torch_extensions``,
under a name that hashes the source, the flags and the CPU's features): explicitly by
``simplechrome build-kernels`` (which ``make`` runs), else the first time it is needed. A build
that fails is remembered (a ``.failed`` file beside the cache, with the reason), so later
processes take the plain path at once instead of compiling again; ``build-kernels`` retries.
Where it cannot be built, where the tensors are not float32 CPU tensors, or where
``SIMPLECHROME_FUSED_LSTM=0``, the modules run as plain ``torch.nn.LSTM``s (the GPU path:
cuDNN). ``SIMPLECHROME_FUSED_LSTM=scalar`` uses a build without AVX2/FMA (the kernel's plain
loops, what a CPU without AVX2 runs); the tests check both builds against ``torch.nn.LSTM``.
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
VARIANTS = {
    "native": ["-O3", "-march=native", "-ffast-math", "-fopenmp"],
    # the kernel's plain loops: what a CPU without AVX2 runs (GCC and Clang take these flags)
    "scalar": ["-O3", "-march=native", "-mno-avx2", "-mno-fma", "-ffast-math", "-fopenmp"],
}
FLAGS = VARIANTS["native"]
_EXTENSIONS: dict[str, Any] = {}
_FAILED: dict[str, str] = {}


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


def variant() -> str:
    """The build the fused path uses: ``scalar`` when ``SIMPLECHROME_FUSED_LSTM=scalar``."""
    return "scalar" if os.environ.get("SIMPLECHROME_FUSED_LSTM") == "scalar" else "native"


def build_name(which: str = "native") -> str:
    """The build's name: it hashes the source, the flags and (``-march=native``) this CPU."""
    flags = VARIANTS[which]
    digest = hashlib.sha256(SOURCE.read_bytes() + " ".join(flags).encode() + _cpu().encode())
    return f"simplechrome_bin_lstm_{digest.hexdigest()[:16]}"


def _failure_file(which: str) -> Path:
    from torch.utils.cpp_extension import get_default_build_root

    root = Path(os.environ.get("TORCH_EXTENSIONS_DIR") or get_default_build_root())
    return root / f"{build_name(which)}.failed"


def extension(which: str | None = None, *, retry: bool = False) -> Any | None:
    """The compiled kernel (built on first use), or ``None`` where it cannot be built. A build
    that failed before (in any process) is not tried again unless ``retry``."""
    which = which or variant()
    if which in _EXTENSIONS or (which in _FAILED and not retry):
        return _EXTENSIONS.get(which)
    failed = _failure_file(which)
    if failed.exists() and not retry:
        _FAILED[which] = failed.read_text().strip()
        log.info(
            "fused AttentiveChrome kernel unavailable (an earlier build failed: %s); using "
            "torch.nn.LSTM (`simplechrome build-kernels` tries again)",
            _FAILED[which],
        )
        return None
    try:
        from torch.utils.cpp_extension import load

        with _ninja_on_path():
            _EXTENSIONS[which] = load(
                build_name(which),
                [str(SOURCE)],
                extra_cflags=VARIANTS[which],
                extra_ldflags=["-fopenmp"],
                verbose=False,
            )
        _FAILED.pop(which, None)
        failed.unlink(missing_ok=True)
    except Exception as exc:  # no compiler, no ninja, an unusual platform: the plain path
        _FAILED[which] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning(
            "fused AttentiveChrome kernel unavailable (%s): using torch.nn.LSTM", _FAILED[which]
        )
        try:
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(_FAILED[which] + "\n")
        except OSError:
            pass  # an unwritable cache: each process tries again, nothing worse
    return _EXTENSIONS.get(which)


def build_all() -> dict[str, str | None]:
    """Build (or rebuild after a failure) every variant; ``{variant: None or the reason it
    could not be built}``."""
    return {w: None if extension(w, retry=True) is not None else _FAILED.get(w) for w in VARIANTS}


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
