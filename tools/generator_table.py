"""RESULTS.md section 4's table: every generator run's ``gan quality`` numbers against issue
39's lines, and the verdict, both by ``claims.GENERATOR_LINES`` (so the rule and the text say
the same thing; ``tests/test_results_md.py`` keeps the block equal to this rendering).

Each run's quality file is stored, unchanged, as ``docs/generators/<generator>__<cell>__s<seed>
.json`` (``simplechrome gan quality RUN -o FILE``). Then

    python tools/generator_table.py docs/generators            # prints the block
    python tools/generator_table.py docs/generators --write    # refreshes it in RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from simplechrome.experiments.claims import (
    GENERATOR_CELLS,
    GENERATOR_LINES,
    GENERATOR_SEEDS,
    generator_lines,
    generator_verdict,
)

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- generators (\S+) -->\n)(.*?)(<!-- end generators -->)", re.S)
#: the cells issue 39 judges on (chosen before any of them shaped the design but E012)
JUDGED = GENERATOR_CELLS


def read(folder: Path) -> list[tuple[str, dict]]:
    """``(generator, quality numbers)`` per stored file, with the training seed of its name
    as ``training_seed`` (the numbers' own ``seed`` is the generation seed of the measure)."""
    runs = []
    for f in sorted(folder.glob("*__*__s*.json")):
        generator, _, seed = f.stem.split("__")
        q = json.loads(f.read_text())
        if q.get("genes", "test") != "test":
            raise SystemExit(f"{f}: measured on the {q['genes']} genes, not the test genes")
        runs.append((generator, {**q, "training_seed": int(seed[1:])}))
    return runs


def _worst_zero(q: dict) -> str:
    z = q["zero_fraction"]
    diff = {m: z["generated"][m] - z["training"][m] for m in z["training"]}
    m = max(diff, key=lambda k: abs(diff[k]))
    return f"{diff[m]:+.3f} {m}"


def _worst_profile(q: dict) -> str:
    gaps = {
        (c, m): q["profile_r"][c][m] - (q["ceiling"][c][m] - 0.05)
        for c in q["profile_r"]
        for m in q["profile_r"][c]
    }
    (c, m), g = min(gaps.items(), key=lambda kv: kv[1])
    # files measured before 2026-12-06 drew one generated gene per test gene
    return f"{g:+.3f} {c} {m} ({q.get('profile_draws', 1)})"


def _walk(q: dict) -> str:
    if q.get("conditioned_on") != "level":
        return "class-conditioned"
    w = q["walk_trend_r_train"]
    m = min(w, key=w.get)
    return f"{w[m]:.2f} {m}"


def render(folder: Path) -> str:
    runs = read(folder)
    lines = [
        "| generator | cell | training seed | two-sample AUROC (real vs real) | corr gap to "
        "training genes, low / high | zero fraction minus training genes' (worst mark) | "
        "profile r minus (ceiling - 0.05) (worst; draws per test gene) | "
        "walk r to training genes (worst mark) | TSTR - TRTR "
        "| lines met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for generator, q in runs:
        met = generator_lines(q)
        gap = q["max_corr_gap_train"]
        lines.append(
            f"| {generator} | {q['cell']} | {q['training_seed']} | {q['two_sample_auroc']:.3f} "
            f"({q['two_sample_reference']:.3f}) | {gap['low']:.3f} / {gap['high']:.3f} | "
            f"{_worst_zero(q)} | {_worst_profile(q)} | {_walk(q)} | "
            f"{q['tstr_auroc'] - q['trtr_auroc']:+.4f} | {sum(met.values())} of {len(met)} |"
        )
    lines.append("")
    for generator in sorted({g for g, _ in runs}):
        mine = [q for g, q in runs if g == generator and q["cell"] in JUDGED]
        cells = sorted({q["cell"] for q in mine})
        have = {(q["cell"], q["training_seed"]) for q in mine}
        complete = all((c, s) in have for c in JUDGED for s in range(GENERATOR_SEEDS))
        every = {name: sum(generator_lines(q)[name] for q in mine) for name in GENERATOR_LINES}
        met = "; ".join(f"{name}: {k} of {len(mine)} runs" for name, k in every.items())
        where = ", ".join(cells) or "none"
        lines.append(
            f"- **{generator}**, {len(mine)} runs on the judged cells ({where}): "
            f"**{generator_verdict(mine, complete=complete)}**. {met}."
        )
    return "\n".join(lines) + "\n"


def refreshed(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + render(ROOT / m.group(2)) + m.group(4), text)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--write", action="store_true", help="refresh the block in RESULTS.md")
    args = ap.parse_args(argv)
    if args.write:
        path = ROOT / "RESULTS.md"
        path.write_text(refreshed(path.read_text()))
    else:
        print(render(args.folder), end="")


if __name__ == "__main__":
    main()
