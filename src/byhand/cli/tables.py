"""Plain-text tables for commands that must start fast: rich's heavy-headed box, drawn without
importing rich (about 60 ms of a `byhand forward` that takes under 0.2 s).

    title
    ┏━━━━━━━┳━━━━━━━┓
    ┃ name  ┃ value ┃
    ┡━━━━━━━╇━━━━━━━┩
    │ x1    │   1.0 │
    └───────┴───────┘

The first column is left-aligned and every other one right-aligned, as the forward tables
have it; the text is the same as rich prints into a pipe (a test compares them).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    """Terminal cells `text` takes: 2 for wide (East Asian) characters, 0 for combining ones."""
    cells = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        cells += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return cells


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """`rows` under `header` in a box, `title` above it, left-justified; lines end in "\\n".

    The title is kept on one line (rich would wrap one wider than the table; the forward
    tables' titles are narrower than their columns)."""
    widths = [max(width(str(r[c])) for r in [header, *rows]) for c in range(len(header))]

    def cell(text: str, c: int) -> str:
        pad = " " * (widths[c] - width(text))
        return f" {text}{pad} " if c == 0 else f" {pad}{text} "

    def rule(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * (w + 2) for w in widths) + right

    def line(edge: str, values: Sequence[str]) -> str:
        return edge + edge.join(cell(str(v), c) for c, v in enumerate(values)) + edge

    top = rule("┏", "━", "┳", "┓")
    lines = [
        title + " " * max(0, width(top) - width(title)),
        top,
        line("┃", header),
        rule("┡", "━", "╇", "┩"),
        *(line("│", row) for row in rows),
        rule("└", "─", "┴", "┘"),
    ]
    return "".join(text + "\n" for text in lines)
