from __future__ import annotations

import numpy as np
import pytest
import torch

from simplechrome import models
from simplechrome.errors import ConfigError

# torch models that score (marks, bins) signals: not the VAE, the GAN or latent-slot models
TORCH_MODELS = [n for n in models.names() if models.get(n).reads_signals]


def logits(out):
    """Models return logits, or a NamedTuple whose first field is the logits."""
    return out[0] if isinstance(out, tuple) else out


def test_attentivechrome_outputs():
    m = models.create("attentivechrome", n_marks=3, n_bins=40)
    out = m(torch.randn(2, 3, 40))
    assert out.bin_attention.shape == (2, 3, 40) and out.mark_attention.shape == (2, 3)
    assert torch.allclose(out.bin_attention.sum(2), torch.ones(2, 3))
    assert torch.allclose(out.mark_attention.sum(1), torch.ones(2))
    lstms = [mod for mod in m.modules() if isinstance(mod, torch.nn.LSTM)]
    assert [(lstm.hidden_size, lstm.bidirectional) for lstm in lstms] == [(32, True)] * 3 + [
        (16, True)
    ]


def test_deepchrome_is_the_published_network():
    m = models.create("deepchrome", n_marks=5, n_bins=100)
    assert models.n_parameters(m) == 644_177
    assert m.conv.in_channels == 5 and m.conv.out_channels == 50 and m.conv.kernel_size == (10,)
    widths = [layer.out_features for layer in m.head if isinstance(layer, torch.nn.Linear)]
    assert m.head[0].in_features == 900 and widths == [625, 125, 2]
    assert m.dropout.p == 0.5


def test_linear_has_twelve_parameters():
    for pooling in ("max", "mean", "sum"):
        m = models.create("linear", n_marks=5, n_bins=100, pooling=pooling)
        assert models.n_parameters(m) == 12


@pytest.mark.parametrize("name", TORCH_MODELS)
@pytest.mark.parametrize(("marks", "bins"), [(5, 100), (3, 200), (7, 40)])
def test_shapes(name, marks, bins):
    m = models.create(name, n_marks=marks, n_bins=bins)
    assert logits(m(torch.randn(4, marks, bins))).shape == (4, 2)
    reg = models.create(name, n_marks=marks, n_bins=bins, n_outputs=1)
    assert logits(reg(torch.randn(4, marks, bins))).shape == (4, 1)


@pytest.mark.parametrize("pool", ["max", "avg", "strided"])
def test_deepchrome_pool_variants(pool):
    m = models.create("deepchrome", n_marks=5, n_bins=100, pool=pool)
    assert m(torch.randn(2, 5, 100)).shape == (2, 2)


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_overfits_one_batch(name):
    torch.manual_seed(0)
    sequential = name in ("attentivechrome", "lstm")  # recurrent: short sequences keep it fast
    bins = 20 if sequential else 100
    x = torch.randn(16, 5, bins)
    y = torch.randint(0, 2, (16,))
    params = {"dropout": 0.0} if name in ("deepchrome", "mlp", "pooled_mlp") else {}
    m = models.create(name, n_marks=5, n_bins=bins, **params)
    if name == "linear":  # 12 parameters cannot memorise noise: give the batch a pooled signal
        x[y == 1] += 1.0
    opt = torch.optim.Adam(m.parameters(), lr=1e-2 if name == "linear" or sequential else 1e-3)
    for _ in range(300 if not sequential else 150):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits(m(x)), y)
        loss.backward()
        opt.step()
    assert (logits(m(x)).argmax(1) == y).float().mean() == 1.0


def test_unknown_model_and_parameter():
    with pytest.raises(ConfigError, match="unknown model 'resnet'"):
        models.create("resnet", n_marks=5, n_bins=100)
    with pytest.raises(ConfigError, match="no parameter"):
        models.create("deepchrome", n_marks=5, n_bins=100, kernal_size=3)
    with pytest.raises(ConfigError, match="pool must be"):
        models.create("deepchrome", n_marks=5, n_bins=100, pool="median")
    with pytest.raises(ConfigError, match="fewer than the kernel"):
        models.create("deepchrome", n_marks=5, n_bins=5)


def test_logistic_features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5, 10)).astype(np.float32)
    y = (x[:, 3].mean(1) > 0).astype(int)
    for name, n_coef in (("logreg", 5), ("logreg_flat", 50)):
        m = models.create(name, n_marks=5, n_bins=10).fit(x, y)
        assert m.coef_.shape == (1, n_coef)
        p = m.predict_proba(x)
        assert p.shape == (200, 2) and np.allclose(p.sum(1), 1)
        assert (m.predict(x) == y).mean() > 0.9
        # the arrays alone rebuild it (what a checkpoint stores)
        clone = models.create(name, n_marks=5, n_bins=10).load_state(m.state())
        np.testing.assert_array_equal(clone.decision(x), m.decision(x))


def _compiler() -> str | None:
    import shutil

    return next((c for c in ("c++", "g++", "clang++") if shutil.which(c)), None)


@pytest.mark.parametrize("variant", ["native", "scalar"])
@pytest.mark.parametrize("name", ["attentivechrome", "lstm"])
def test_the_fused_bin_level_computes_what_the_lstm_modules_compute(name, variant, monkeypatch):
    """Same weights, same numbers: outputs and every gradient of the fused CPU kernel (this
    CPU's build, and the build without AVX2 that runs the kernel's plain loops) match the
    per-mark torch.nn.LSTM path (odd batch size included)."""
    from simplechrome.models import fused_lstm

    if _compiler() is None:
        pytest.skip("no C++ compiler here: AttentiveChrome runs on torch.nn.LSTM")
    torch.manual_seed(0)
    m = models.create(name, n_marks=5, n_bins=60)
    x = torch.randn(7, 5, 60)
    setting = "1" if variant == "native" else "scalar"
    monkeypatch.setenv("SIMPLECHROME_FUSED_LSTM", setting)
    assert fused_lstm.extension(retry=True) is not None, "the kernel must build with a compiler"
    assert fused_lstm.usable(x, 32)
    results = []
    for fused in ("0", setting):
        monkeypatch.setenv("SIMPLECHROME_FUSED_LSTM", fused)
        m.zero_grad()
        xg = x.clone().requires_grad_(True)
        out = m(xg)
        outs = out if isinstance(out, tuple) else (out,)
        sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum() for o in outs).backward()
        grads = [p.grad.clone() for p in m.parameters()] + [xg.grad.clone()]
        results.append(([o.detach() for o in outs], grads))
    (out_plain, grad_plain), (out_fused, grad_fused) = results
    for a, b in zip(out_plain, out_fused, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
    for a, b in zip(grad_plain, grad_fused, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)


def test_a_failed_kernel_build_is_remembered(tmp_path, monkeypatch):
    """A build that fails leaves a note: the next process takes the plain path without
    compiling, and `build-kernels` (retry) tries again."""
    import torch.utils.cpp_extension as ext

    from simplechrome.models import fused_lstm

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.setattr(fused_lstm, "_EXTENSIONS", {})
    monkeypatch.setattr(fused_lstm, "_FAILED", {})
    calls = []

    def broken(*args, **kwargs):
        calls.append(args[0])
        raise RuntimeError("no compiler in this test")

    monkeypatch.setattr(ext, "load", broken)
    assert fused_lstm.extension("native") is None and len(calls) == 1
    assert "no compiler" in (tmp_path / f"{fused_lstm.build_name()}.failed").read_text()
    monkeypatch.setattr(fused_lstm, "_FAILED", {})  # a new process: only the note remains
    assert fused_lstm.extension("native") is None and len(calls) == 1
    assert fused_lstm.build_all()["native"] == "no compiler in this test" and len(calls) == 3
