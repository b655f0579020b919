"""A self-contained HTML page: sections of text, tables and PNG images embedded as data URIs."""

from __future__ import annotations

import base64
import dataclasses
import html
from pathlib import Path

import pandas as pd

from .._io import atomic_write

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.8em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; display: block; margin: 0.8em 0; }
p.note { color: #555; font-size: 0.9em; }
"""


@dataclasses.dataclass
class Section:
    title: str
    text: str = ""
    tables: list[tuple[str, pd.DataFrame]] = dataclasses.field(default_factory=list)
    images: list[tuple[str, bytes]] = dataclasses.field(default_factory=list)  # (alt, PNG)


def render(title: str, intro: str, sections: list[Section]) -> str:
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>",
    ]
    for s in sections:
        parts.append(f"<section><h2>{html.escape(s.title)}</h2>")
        if s.text:
            parts.append(f"<p class='note'>{html.escape(s.text)}</p>")
        for caption, table in s.tables:
            parts.append(f"<p><b>{html.escape(caption)}</b></p>")
            parts.append(table.to_html(index=False, border=0, na_rep="-", escape=True))
        for alt, png in s.images:
            data = base64.b64encode(png).decode()
            parts.append(f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(path: str | Path, title: str, intro: str, sections: list[Section]) -> Path:
    with atomic_write(path) as fh:
        fh.write(render(title, intro, sections))
    return Path(path)
