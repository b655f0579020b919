"""tools/sampler_noise.py: drawn means against the training genes' in their sampling error."""

from __future__ import annotations

import numpy as np

from tests.tool_modules import load_tool


def test_population_copy_and_bias_read_as_one_none_and_many_standard_errors():
    """Genes around a known profile: expected values at the population's own mean are off the
    genes' means by their sampling error alone (chi-square per df near 1), the genes' own
    values by nothing (0), and a shift of 0.2 SD by about 0.2 * sqrt(n) standard errors."""
    tool = load_tool("sampler_noise")
    rng = np.random.default_rng(0)
    n, bins = 4000, 40
    shape = np.sin(np.arange(bins) / 6.0)[None, None]
    real = shape + rng.normal(size=(n, 1, bins))
    y = np.repeat([0, 1], n // 2)
    bucket = np.tile(np.arange(8), n // 8)
    population = np.broadcast_to(shape, real.shape)
    exact = tool.noise_report(real, population, bucket, y, ["m"])
    copied = tool.noise_report(real, real, bucket, y, ["m"])
    shifted = tool.noise_report(real, population + 0.2, bucket, y, ["m"])
    for c in ("low m", "high m"):
        assert 0.6 < exact["classes"][c]["chi2_per_df"] < 1.5
        assert copied["classes"][c]["chi2_per_df"] == 0.0
        # 2000 genes per class: 0.2 SD is about 9 standard errors, 81 in chi-square
        assert shifted["classes"][c]["chi2_per_df"] > 40
    # buckets average the 40 bins first: the population's mean is still off by noise alone
    assert 0.2 < exact["buckets"]["m"]["chi2_per_df"] < 3.0
    assert shifted["buckets"]["m"]["chi2_per_df"] > 100


def test_z_scores_are_per_group_differences_over_the_standard_error():
    tool = load_tool("sampler_noise")
    real = np.array([[0.0], [2.0], [10.0], [14.0]])
    drawn = real + np.array([[1.0], [1.0], [0.0], [0.0]])
    groups = [np.array([True, True, False, False]), np.array([False, False, True, True])]
    z = tool.z_scores(real, drawn, groups)
    # group 1: sd sqrt(2), se 1, shift 1; group 2: no shift
    np.testing.assert_allclose(z[:, 0], [1.0, 0.0])
