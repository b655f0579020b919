"""Per target cell, under both protocols: histone only (logreg), compendium only (prior) and
histone + compendium (logreg+compendium), test AUROC mean over seeds with its seed-and-gene 95%
interval, and histone+compendium minus prior paired on the same genes.

    python tools/new_cell_type_table.py results/new_cell_type [--markdown]
"""

from __future__ import annotations

import sys

import pandas as pd

from simplechrome.experiments import Results
from simplechrome.experiments.comparisons import paired_groups
from simplechrome.experiments.results import summary

MODELS = ("logreg", "prior", "logreg+compendium")


def main(folder: str, markdown: bool) -> None:
    found = Results(folder)
    t = found.predictors
    t = t[t["model"].isin(MODELS)]
    rows = []
    for (source, cell), part in t.groupby(["source", "test_cell"], sort=False):
        row = {"protocol": "new cell type" if source == "all_others" else "within cell",
               "cell": cell}  # fmt: skip
        s = summary(found, part, ["model"], "test_auroc").set_index("model")
        for m in MODELS:
            if m in s.index:
                r = s.loc[m]
                row[m] = f"{r['mean']:.4f} [{r['low']:.4f}, {r['high']:.4f}]"
                row[f"_{m}"] = r["mean"]
        both, prior = part[part["model"] == MODELS[2]], part[part["model"] == "prior"]
        d = paired_groups(found, both, prior) if len(both) and len(prior) else None
        if d:
            row["both - prior"] = f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
            row["_above"] = d["low"] > 0
        rows.append(row)
    table = pd.DataFrame(rows)
    for protocol, part in table.groupby("protocol", sort=False):
        means = {m: part[f"_{m}"].mean() for m in MODELS if f"_{m}" in part}
        above = int(part["_above"].sum()) if "_above" in part else 0
        scores = ", ".join(f"{m} {v:.4f}" for m, v in means.items())
        print(
            f"{protocol}: mean over {len(part)} cells {scores}; histone+compendium above prior "
            f"(interval above 0) on {above} of {len(part)}"
        )
    shown = table[[c for c in table.columns if not c.startswith("_")]]
    print(_markdown(shown) if markdown else shown.to_string(index=False))


def _markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in table.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1], "--markdown" in sys.argv)
