"""Print (or, with --write, refresh in RESULTS.md) the verdict tables generated from the
verdicts files that ``simplechrome verdicts FOLDERS -o docs/verdicts/NAME.csv`` writes.

RESULTS.md holds each such table between ``<!-- verdicts docs/verdicts/NAME.csv -->`` and
``<!-- end verdicts -->``; tests/test_results_md.py checks every block against its file.

    python tools/verdict_block.py docs/verdicts/cross_cell_single.csv
    python tools/verdict_block.py --write
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from simplechrome.experiments.claims import as_markdown

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- verdicts (\S+) -->\n)(.*?)(<!-- end verdicts -->)", re.S)


def render(csv: str | Path) -> str:
    return as_markdown(pd.read_csv(ROOT / csv)) + "\n"


def refreshed(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(m.group(2)) + m.group(4), text)


if __name__ == "__main__":
    if "--write" in sys.argv:
        path = ROOT / "RESULTS.md"
        path.write_text(refreshed(path.read_text()))
    else:
        for csv in sys.argv[1:]:
            print(render(csv), end="")
