"""A study's scores as a table: per test cell and protocol, each model's test AUROC (mean over
seeds [seed-and-gene 95% interval]), columns by model, and the mean over cells; optionally each
model minus a reference model, paired on the same test genes (gene bootstrap).

    python tools/study_table.py results/data_efficiency --by size [--markdown]
    python tools/study_table.py results/neighbors --reference prior --reference logreg+compendium

``--by size`` makes one table per labelled budget (a learning curve); sizes are the records'
``n_labelled`` (every labelled gene the run read), "all" for the whole training split.
"""

from __future__ import annotations

import argparse

import pandas as pd

from simplechrome.experiments import Results
from simplechrome.experiments.comparisons import paired_groups
from simplechrome.experiments.results import fmt, summary

PROTOCOL = {"same": "within cell", "all_others": "new cell type", "most_similar1": "new cell type"}


def _md(table: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(map(str, r)) + " |" for r in table.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    p.add_argument("--by", choices=("size",), help="one table per labelled budget")
    p.add_argument(
        "--reference",
        action="append",
        default=[],
        help="also print each model minus this one, paired per cell (repeatable)",
    )
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    show = _md if args.markdown else (lambda t: t.to_string(index=False))

    found = Results(args.folder)
    t = found.predictors.copy()
    t["protocol"] = t["source"].map(PROTOCOL).fillna(t["source"])
    t["budget"] = [
        "all" if s == -1 else str(n) for s, n in zip(t["size"], t["n_labelled"], strict=True)
    ]
    groups = ["protocol", "budget"] if args.by else ["protocol"]
    models = list(dict.fromkeys(t["model"]))
    for key, part in t.groupby(groups, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        title = ", ".join(f"{g} {k}" for g, k in zip(groups, key, strict=True))
        s = summary(found, part, ["test_cell", "model"])
        s["text"] = s.apply(fmt, axis=1)
        wide = s.pivot(index="test_cell", columns="model", values="text")
        means = s.pivot(index="test_cell", columns="model", values="mean").mean()
        wide.loc["mean over cells"] = [f"{means[m]:.4f}" for m in wide.columns]
        cols = [m for m in models if m in wide.columns]
        print(f"\n### {title}\n")
        print(show(wide[cols].reset_index().rename(columns={"test_cell": "cell"})))
        for reference in args.reference:
            if reference not in set(part["model"]):
                continue
            rows = []
            for cell, c in part.groupby("test_cell", sort=False):
                ref = c[c["model"] == reference]
                row = {"cell": cell}
                for m in cols:
                    if m == reference or ref.empty:
                        continue
                    d = paired_groups(found, c[c["model"] == m], ref)
                    if d:
                        row[m] = f"{d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}]"
                rows.append(row)
            print(f"\nminus {reference} (paired on the same test genes):\n")
            print(show(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
