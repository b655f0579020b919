from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simplechrome.data import make_synthetic, write_cell


@pytest.fixture(scope="session")
def three_cells(tmp_path_factory) -> dict[str, Path]:
    """Three small synthetic cells in the DeepChrome format (names carry Roadmap EIDs)."""
    root = tmp_path_factory.mktemp("cells")
    cells = {}
    for i, name in enumerate(("E003-syn", "E012-syn", "E123-syn")):
        cell = make_synthetic(450, seed=10 + i)
        cells[name] = write_cell(cell.splits, root / name)
    return cells


def write_spec(path: Path, cells: dict[str, Path], **extra) -> Path:
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
