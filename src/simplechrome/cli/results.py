"""The verbs that read results: ``report``, ``verdicts`` and ``analyse``."""

from __future__ import annotations

import argparse


def cmd_report(args: argparse.Namespace) -> int:
    from .. import api

    path = api.report(args.results, args.output, published=args.published)
    print(f"report written to {path}")
    return 0


def cmd_verdicts(args: argparse.Namespace) -> int:
    from .. import api
    from .._io import atomic_write

    table = api.verdicts(args.results)
    note = api.code_versions(args.results)
    if note:
        print(f"note: {note}")
    if table.empty:
        print("these results hold no evidence for any of the claims")
        return 0
    for row in table.itertuples():
        print(f"[{row.verdict}] {row.paper}: {row.claim}\n    {row.numbers}")
    if args.output:
        with atomic_write(args.output) as f:
            table.to_csv(f, index=False)
        print(f"verdicts written to {args.output}")
    return 0


def cmd_analyse(args: argparse.Namespace) -> int:
    from .. import api

    for run in args.run:
        written = api.analyse(run)
        names = ", ".join(p.name for p in written) or "none (this model has no analyses)"
        print(f"{run}: {names}")
    return 0
