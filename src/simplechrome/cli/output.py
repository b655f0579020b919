"""Tables on the terminal, shared by the verbs."""

from __future__ import annotations

from typing import Any


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        return "-" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def print_metrics(metrics: dict[str, dict[str, Any]]) -> None:
    rows = [{"split": s, **m} for s, m in metrics.items()]
    columns = ["split", *[k for k in rows[0] if k != "split"]] if rows else ["split"]
    print_table(rows, columns)
