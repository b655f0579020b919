"""tools/sampler_drift.py: drawn and teacher-forced mean profiles against the real one."""

from __future__ import annotations

import numpy as np
import torch

from simplechrome import models
from tests.tool_modules import load_tool

SMALL = {"hidden": 16, "emb": 4, "vocab": 10, "pool": 4}


def test_a_planted_drift_is_read_as_one_and_a_faithful_draw_is_not():
    """Drawn genes tilted from +0.2 to -0.2 SD along the window read a slope near -0.4, a
    first tenth above the real profile and a last tenth below; genes drawn as the real ones
    read none of it; the teacher-forced profile is compared with the same real genes."""
    tool = load_tool("sampler_drift")
    rng = np.random.default_rng(0)
    bins = np.arange(100)
    shape = 0.3 * np.exp(-((bins - 50) ** 2) / 50.0)
    real = shape[None, None] + rng.normal(size=(4000, 1, 100))
    y = np.repeat([0, 1], 2000)
    tilt = np.linspace(0.2, -0.2, 100)
    faithful = shape[None, None] + rng.normal(size=(16000, 1, 100))
    drifting = faithful + tilt[None, None]
    y4 = np.repeat([0, 1], 8000)
    ok = tool.drift_report(real, y, real, faithful, y4, ["m"])
    off = tool.drift_report(real, y, real + tilt[None, None], drifting, y4, ["m"])
    for c in ("low", "high"):
        assert abs(ok[f"{c} m"]["slope_per_window"]) < 0.1
        assert max(abs(v) for v in ok[f"{c} m"]["drawn_minus_real"]) < 0.06
        assert ok[f"{c} m"]["teacher_forced_minus_real"] == [0.0] * 10
        assert -0.5 < off[f"{c} m"]["slope_per_window"] < -0.3
        gaps = off[f"{c} m"]["drawn_minus_real"]
        assert gaps[0] > 0.1 and gaps[-1] < -0.1
        assert off[f"{c} m"]["teacher_forced_minus_real"][0] > 0.15
        assert off[f"{c} m"]["r_drawn_real"] < ok[f"{c} m"]["r_drawn_real"]


def test_teacher_forced_values_are_the_network_s_expectation_of_its_tokens():
    """With the heads' logits fixed, each bin's teacher-forced value is the distribution's
    mean of the tokens' pool means, and genes drawn from it average to the same."""
    tool = load_tool("sampler_drift")
    m = models.create("autoregressive", n_marks=2, n_bins=12, n_outputs=2, **SMALL)
    m.set_scale(np.full(2, 0.4), np.full(2, 0.5), np.full(2, 0.74))
    m.fit_grid(np.random.default_rng(0).poisson(1.5, (80, 2, 12)) * 0.74)
    g = m.generator
    target = torch.tensor([0.4, 0.3, 0.2, 0.1] + [0.0] * 6)
    g._logits = lambda mark, h, drawn: torch.log(target.clamp(min=1e-12)).expand(*h.shape[:-1], -1)
    tv = tool.token_values(g)
    want = (target * tv).sum(-1)  # (marks,)
    with torch.inference_mode():
        x = m(m.noise(3000, torch.Generator().manual_seed(0)), torch.zeros(3000))
    forced = tool.teacher_forced(g, x[:50], torch.zeros(50))
    assert forced.shape == (50, 2, 12)
    np.testing.assert_allclose(forced, np.broadcast_to(want.numpy()[None, :, None], forced.shape),
                               rtol=1e-5)  # fmt: skip
    drawn = tool.as_token_values(g, x).mean(axis=(0, 2))
    np.testing.assert_allclose(drawn, want.numpy(), atol=0.03)
