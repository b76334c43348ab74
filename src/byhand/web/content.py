"""A lecture's Markdown turned into the page's HTML: sections, MathML, and interactive parts.

The content file is plain Markdown with three additions a teacher can edit freely:

- ``$...$`` and ``$$...$$`` hold LaTeX, rendered to MathML on the server;
- ``## Title {#id}`` starts a section (the id becomes its anchor);
- a line ``::: name`` marks where the interactive part called `name` goes.

``# Title`` and the paragraphs before the first section form the page's introduction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from importlib import resources

from markdown_it import MarkdownIt

from byhand.errors import ByhandError
from byhand.mathml import to_mathml

_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$")
_MARKER = re.compile(r"^:::\s*([a-z][a-z0-9-]*)\s*$", re.M)
_SECTION = re.compile(r"^##\s+(.+?)\s*(?:\{#([A-Za-z][\w-]*)\})?\s*$", re.M)
_TITLE = re.compile(r"^#\s+(.+?)\s*$", re.M)
_TOKEN = "BYHANDTOKEN{}X"


@dataclass
class Section:
    """One part of the lecture: its anchor, number (1-based), title and rendered HTML."""

    id: str
    number: int
    title: str
    html: str
    widgets: list[str] = field(default_factory=list)


@dataclass
class Lecture:
    """A rendered lecture: its title, introduction and sections."""

    title: str
    intro: str
    sections: list[Section]


def lecture_text(name: str = "03-intro-to-neural-networks") -> str:
    """The Markdown of a lecture shipped with the package."""
    try:
        return (resources.files("byhand") / "lectures" / f"{name}.md").read_text("utf-8")
    except (FileNotFoundError, OSError):
        raise ByhandError(f"no lecture called {name!r} in this package") from None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def render_markdown(text: str, widgets: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """Markdown with math and markers → HTML; returns the HTML and the markers it met, in order.

    A marker whose name is in `widgets` is replaced by that HTML; any other becomes an empty
    ``<div class="widget" data-widget="name">`` for a script to fill.
    """
    pieces: list[str] = []

    def stash(html: str) -> str:
        pieces.append(html)
        return _TOKEN.format(len(pieces) - 1)

    found: list[str] = []

    def marker(m: re.Match) -> str:
        name = m.group(1)
        found.append(name)
        html = (widgets or {}).get(name)
        if html is None:
            html = f'<div class="widget" data-widget="{escape(name)}"></div>'
        return "\n\n" + stash(html) + "\n\n"

    text = _MARKER.sub(marker, text)
    text = _DISPLAY.sub(
        lambda m: (
            "\n\n"
            + stash(f'<div class="display-math">{to_mathml(m.group(1).strip())}</div>')
            + "\n\n"
        ),
        text,
    )
    text = _INLINE.sub(lambda m: stash(to_mathml(m.group(1).strip(), display=False)), text)
    html = MarkdownIt("commonmark", {"html": False, "typographer": True}).render(text)
    # a stashed block sits alone in a paragraph: unwrap it; inline math stays in its sentence
    for k, piece in enumerate(pieces):
        token = _TOKEN.format(k)
        html = html.replace(f"<p>{token}</p>", piece).replace(token, piece)
    return html, found


def render_lecture(text: str, widgets: Mapping[str, str] | None = None) -> Lecture:
    """The whole lecture: title, introduction, and each ``##`` section rendered on its own."""
    title_match = _TITLE.search(text)
    title = title_match.group(1) if title_match else "Lecture"
    if title_match:
        text = text[: title_match.start()] + text[title_match.end() :]
    heads = list(_SECTION.finditer(text))
    intro_end = heads[0].start() if heads else len(text)
    intro, _ = render_markdown(text[:intro_end], widgets)
    sections = []
    seen: set[str] = set()
    for k, head in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(text)
        body, found = render_markdown(text[head.end() : end], widgets)
        section_id = head.group(2) or _slug(head.group(1))
        while section_id in seen:
            section_id += "-2"
        seen.add(section_id)
        sections.append(Section(section_id, k + 1, head.group(1), body, found))
    return Lecture(title, intro, sections)
