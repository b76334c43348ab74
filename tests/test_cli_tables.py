"""byhand.cli.tables draws the tables rich draws, without rich: the same text into a pipe."""

import io

import pytest
from rich.console import Console
from rich.table import Table

from byhand.cli.tables import table, width


def rich_text(title, header, rows) -> str:
    """What rich prints for the table into a file (no terminal, so no colours)."""
    t = Table(title=title, title_justify="left")
    for c, name in enumerate(header):
        t.add_column(name, justify="left" if c == 0 else "right")
    for row in rows:
        t.add_row(*row)
    out = io.StringIO()
    Console(file=out, width=200, highlight=False).print(t)
    return out.getvalue()


@pytest.mark.parametrize(
    "title, header, rows",
    [
        ("inputs", ("input", "value"), [("x1 (colour)", "1.0000000"), ("x2", "-0.5")]),
        (
            "output layer (sigmoid)",
            ("neuron", "z = Σ w·a + b", "activation"),
            [("o1 (fruit A)", "2.9051483", "0.9481003"), ("o₂", "1e-08", "0.5")],
        ),
        # a wide (two-cell) character
        ("wide", ("name", "b"), [("水", "1")]),
    ],
)
def test_a_table_is_the_text_rich_prints(title, header, rows):
    assert table(title, header, rows) == rich_text(title, header, rows)


def test_width_counts_terminal_cells():
    assert width("x₁ σ") == 4  # subscripts and Greek letters take one cell
    assert width("水") == 2  # a wide character two
    assert width("e\u0301") == 1  # a combining accent none
