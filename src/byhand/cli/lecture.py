"""`byhand new-lecture N "Title"`: a starter lecture file for the series, ready to edit.

The file it writes is checked the way `byhand serve --lectures DIR` checks every lecture, so a
fresh starter always serves; docs/lectures.md describes its front matter and widgets.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from byhand.cli.common import app
from byhand.errors import ByhandError

STARTER = """---
number: {number}
title: {title}
summary: One line on what this lecture teaches.
---

The introduction: a paragraph or two before the first section. Formulas are LaTeX between
dollar signs, inline like $z = w x + b$ or on their own line:

$$ \\sigma(z) = \\frac{{1}}{{1 + e^{{-z}}}} $$

## A first idea {{#first}}

Each section starts with a line `## Title {{#anchor}}` and is numbered on the page (01, 02, …).
A line holding only `::: name` places an interactive part there; this one plots the sigmoid:

::: sigmoid-plot

## Try it {{#try}}

Every widget is listed, with an example, in docs/lectures.md. This one lets the student edit
the inputs and weights and run the forward pass:

::: try-it
"""


def slug(title: str) -> str:
    """A file-name form of a title: "Gradient Descent!" → gradient-descent."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "lecture"


def starter(number: int, title: str) -> str:
    """The starter lecture's Markdown."""
    return STARTER.format(number=number, title=title)


@app.command("new-lecture")
@click.argument("number", type=click.IntRange(1, 10_000))
@click.argument("title")
@click.option(
    "--dir",
    "directory",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The folder of lectures to write into (the one `byhand serve --lectures` reads).",
)
def new_lecture(number: int, title: str, directory: str) -> None:
    """Write a starter lecture NUMBER with TITLE as NN-title.md, to edit and serve."""
    from byhand.web import pages

    title = " ".join(title.split())
    if not title or len(title) > 120:
        raise ByhandError("title: give a title of 1 to 120 characters")
    folder = Path(directory)
    path = folder / f"{number:02d}-{slug(title)}.md"
    if path.exists():
        raise ByhandError(f"{path}: already exists; choose another number or title, or edit it")
    if folder.is_dir():
        taken = pages.series(str(folder))
        mine = taken.get(number)
        if mine is not None and Path(mine.path).parent == folder:
            raise ByhandError(f"number: lecture {number} is already {mine.path}")
    text = starter(number, title)
    pages.content.read_lecture(text, str(path), pages.WIDGETS)  # a starter that serves
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}: edit it, then run byhand serve --lectures {folder}")
