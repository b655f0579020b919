"""Tests that need an optional dependency (Ray, pysam) cannot silently vanish from CI."""

from __future__ import annotations

import pytest

INNER = """
from tests.conftest import require

def test_needs_a_module_that_is_missing():
    require("simplechrome_no_such_module")
"""


@pytest.mark.parametrize(("required", "outcome"), [("1", "failed"), ("0", "skipped")])
def test_a_missing_optional_dependency_fails_in_ci_and_skips_elsewhere(
    pytester, monkeypatch, required, outcome
):
    monkeypatch.setenv("SIMPLECHROME_REQUIRE_OPTIONAL", required)
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(**{outcome: 1})


def test_ci_requires_the_optional_dependencies():
    from pathlib import Path

    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "SIMPLECHROME_REQUIRE_OPTIONAL=1" in ci and "SIMPLECHROME_REQUIRE_SHARED=1" in ci
