"""Shared fixtures: real data in ../shared/data, an isolated cache, small synthetic cells."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
import yaml

SHARED = Path(
    os.environ.get(
        "SIMPLECHROME_SHARED", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
).resolve()
REQUIRE_SHARED = os.environ.get("SIMPLECHROME_REQUIRE_SHARED") == "1"


def require(module: str):
    """Import an optional dependency (Ray, pysam) for a test: skip where it is not installed,
    but fail where ``SIMPLECHROME_REQUIRE_OPTIONAL=1`` (as ``.ci/run`` sets), so that a test
    never vanishes silently from CI."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # CI (.ci/run) installs every optional dependency: a test needing one runs there
        if os.environ.get("SIMPLECHROME_REQUIRE_OPTIONAL") == "1":
            pytest.fail(f"{module} is required here (SIMPLECHROME_REQUIRE_OPTIONAL=1): {exc}")
        pytest.skip(f"{module} is not installed", allow_module_level=True)


# under pytest-xdist each of the workers takes one core
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test caches and downloads under its own temporary SIMPLECHROME_HOME."""
    home = tmp_path_factory.mktemp("simplechrome-home")
    monkeypatch.setenv("SIMPLECHROME_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real Roadmap data folder; skips (or fails when required) if it is absent."""
    if not (SHARED / "README.md").exists():
        if REQUIRE_SHARED:
            pytest.fail(f"SIMPLECHROME_REQUIRE_SHARED=1 but {SHARED} is missing")
        pytest.skip(f"real data folder {SHARED} is absent (a clone without ../shared)")
    return SHARED


@pytest.fixture(scope="session")
def synthetic():
    from simplechrome.data import make_synthetic

    return make_synthetic(900, seed=1)


@pytest.fixture
def cell_dir(tmp_path: Path, synthetic) -> Path:
    """A synthetic cell written in the DeepChrome format."""
    from simplechrome.data import write_cell

    return write_cell(synthetic.splits, tmp_path / "SYN01")


@pytest.fixture(scope="session")
def three_cells(tmp_path_factory) -> dict[str, Path]:
    """Three small synthetic cells in the DeepChrome format (names carry Roadmap EIDs)."""
    from simplechrome.data import make_synthetic, write_cell

    root = tmp_path_factory.mktemp("cells")
    cells = {}
    for i, name in enumerate(("E003-syn", "E012-syn", "E123-syn")):
        cell = make_synthetic(450, seed=10 + i)
        cells[name] = write_cell(cell.splits, root / name)
    return cells


def write_spec(path: Path, cells: dict[str, Path], **extra) -> Path:
    """An experiment spec over ``cells``: small and fast unless ``extra`` says otherwise."""
    spec = {
        "name": "t",
        "kind": "grid",
        "cells": {k: str(v) for k, v in cells.items()},
        "models": ["deepchrome", "logreg"],
        "seeds": [0, 1],
        "train": {"max_epochs": 3, "patience": 2},
    }
    spec.update(extra)
    path.write_text(yaml.safe_dump(spec))
    return path


def write_expression(path, expression) -> None:
    """A Roadmap-style expression matrix (tab-separated, trailing tab on data rows)."""
    text = "gene_id\t" + "\t".join(expression.columns) + "\n"
    text += "".join(
        f"{g}\t" + "\t".join(f"{v:.3f}" for v in row) + "\t\n" for g, row in expression.iterrows()
    )
    path.write_text(text)
