"""How far one generator's runs sit inside each of issue 39's lines, and how much that moves
from one training seed to the next: whether a miss is a generator short of a line or a
generator at the line whose networks scatter across it.

Reads the stored quality files (``docs/generators/<generator>__<cell>__s<seed>.json``, as
``tools/generator_table.py`` does) and, per cell and per part of a line (a class, a mark, or
both: ``claims.generator_margins``), prints over the training seeds the margin's mean, median,
standard deviation and smallest value and the runs that missed; and, from a t distribution
with the seeds' mean and spread (the predictive spread of one more network), the chance that a
fresh network meets that part, and that the three fresh seeds issue 39 judges all do. The walk
line's parts also give ``walk_reference_train - 0.9``: where a generator of the training genes'
population (not of the genes themselves) would sit in expectation. Parts whose every margin is
at least ``--near`` are left out (they are far from their lines); a cell's chance of passing is
the product over the parts shown, as if they moved independently, a rough figure.

    python tools/generator_spread.py docs/generators --generator autoregressive
    python tools/generator_spread.py docs/generators --generator autoregressive --json
    python tools/generator_spread.py docs/generators --write   # RESULTS.md section 4's block
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from simplechrome.experiments.claims import GENERATOR_LINES, GENERATOR_SEEDS, generator_margins

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
BLOCK = re.compile(
    r"(<!-- generator-spread (\S+) (\S+) -->\n)(.*?)(<!-- end generator-spread -->)", re.S
)
sys.path.insert(0, str(TOOLS))
from generator_table import JUDGED, read  # noqa: E402

WALK = next(n for n in GENERATOR_LINES if n.startswith("walk"))


def chance_met(margins: np.ndarray) -> float:
    """The chance that one more network's margin is 0 or more: a t predictive distribution
    with the runs' mean and standard deviation (``n - 1`` degrees of freedom, the spread
    widened by ``sqrt(1 + 1/n)``). One run or none, or no spread: 1 or 0 by the runs alone."""
    n = len(margins)
    sd = float(np.std(margins, ddof=1)) if n > 1 else 0.0
    if n < 2 or sd == 0.0:
        return float(np.all(margins >= 0))
    scale = sd * math.sqrt(1 + 1 / n)
    return float(stats.t.cdf(float(np.mean(margins)) / scale, df=n - 1))


def spread(runs: list[tuple[str, dict]], generator: str, *, near: float = 0.03) -> dict:
    """Per judged cell: the parts of lines within ``near`` of their line on some run, each
    with its margins' summary (module docstring), and the cell's rough chance of passing."""
    out = {}
    for cell in JUDGED:
        mine = sorted(
            (q for g, q in runs if g == generator and q["cell"] == cell),
            key=lambda q: q["training_seed"],
        )
        if not mine:
            continue
        margins = [generator_margins(q) for q in mine]
        parts = []
        for line, by_part in margins[0].items():
            for part in by_part:
                m = np.array([mg[line][part] for mg in margins])
                if np.all(m >= near):
                    continue
                row = {
                    "line": line,
                    "part": part,
                    "runs": len(m),
                    "mean": float(np.mean(m)),
                    "median": float(np.median(m)),
                    "sd": float(np.std(m, ddof=1)) if len(m) > 1 else float("nan"),
                    "min": float(np.min(m)),
                    "missed_seeds": [
                        q["training_seed"] for q, v in zip(mine, m, strict=True) if v < 0
                    ],  # fmt: skip
                    "p_fresh_network": chance_met(m),
                }
                row["p_three_fresh"] = row["p_fresh_network"] ** GENERATOR_SEEDS
                if line == WALK:
                    refs = [q.get("walk_reference_train", {}).get(part) for q in mine]
                    refs = [r for r in refs if r is not None]
                    row["population_reference_margin"] = (
                        float(np.median(refs)) - 0.9 if refs else None
                    )
                parts.append(row)
        p = math.prod(r["p_three_fresh"] for r in parts)
        out[cell] = {"runs": len(mine), "parts": parts, "p_three_fresh_all_parts": p}
    return out


def render(result: dict, generator: str) -> str:
    lines = [
        f"{generator}: margins inside issue 39's lines over the training seeds (positive: met)",
        "",
        "| cell | line | part | runs | mean | median | sd | smallest | missed (seeds) | "
        "P(a fresh network meets) | P(three fresh all meet) | population generator |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cell, r in result.items():
        for p in r["parts"]:
            ref = p.get("population_reference_margin")
            lines.append(
                f"| {cell} | {p['line']} | {p['part'] or '-'} | {p['runs']} | {p['mean']:+.3f} | "
                f"{p['median']:+.3f} | "
                f"{p['sd']:.3f} | {p['min']:+.3f} | {', '.join(map(str, p['missed_seeds'])) or '-'}"
                f" | {p['p_fresh_network']:.2f} | {p['p_three_fresh']:.2f} | "
                f"{'-' if ref is None else f'{ref:+.3f}'} |"
            )
    lines.append("")
    for cell, r in result.items():
        lines.append(
            f"- {cell}: {r['runs']} runs; the three judged seeds of fresh networks all meet "
            f"every part shown with a chance of about {r['p_three_fresh_all_parts']:.2f}"
        )
    every = math.prod(r["p_three_fresh_all_parts"] for r in result.values())
    lines.append(f"- all judged cells: about {every:.2f}")
    return "\n".join(lines) + "\n"


def refreshed(text: str) -> str:
    """``text`` with every generator-spread block rendered again from its folder."""

    def block(m: re.Match) -> str:
        folder, generator = ROOT / m.group(2), m.group(3)
        return m.group(1) + render(spread(read(folder), generator), generator) + m.group(5)

    return BLOCK.sub(block, text)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--generator", default="autoregressive")
    ap.add_argument(
        "--near",
        type=float,
        default=0.03,
        help="leave out parts whose every margin is at least this (default 0.03)",
    )
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    ap.add_argument("--write", action="store_true", help="refresh the blocks in RESULTS.md")
    args = ap.parse_args(argv)
    if args.write:
        path = ROOT / "RESULTS.md"
        path.write_text(refreshed(path.read_text()))
        return
    runs = read(args.folder)
    if not any(g == args.generator for g, _ in runs):
        print(f"{args.folder}: no quality file of generator {args.generator!r}", file=sys.stderr)
        sys.exit(2)
    result = spread(runs, args.generator, near=args.near)
    print(json.dumps(result, indent=2) if args.json else render(result, args.generator), end="")


if __name__ == "__main__":
    main()
