"""A lecture's Markdown turned into the page's HTML: sections, MathML, and interactive parts.

A lecture file starts with front matter, then plain Markdown::

    ---
    number: 3
    title: Intro to Neural Networks
    summary: A network you can take apart, number by number.
    ---

The Markdown has three additions a teacher can edit freely:

- ``$...$`` and ``$$...$$`` hold LaTeX, rendered to MathML on the server;
- ``## Title {#id}`` starts a section (the id becomes its anchor);
- a line ``::: name`` marks where the interactive part called `name` goes.

``# Title`` and the paragraphs before the first section form the page's introduction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from pathlib import Path

from markdown_it import MarkdownIt

from byhand.errors import ByhandError, unknown
from byhand.mathml import to_mathml

_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$")
#: inline math and the punctuation right after it, which must not wrap onto a line of its own
_INLINE_TAIL = re.compile(_INLINE.pattern + r"([.,;:!?)\]]*)")
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


#: the keys of a lecture's front matter, all required
FRONT_MATTER = ("number", "title", "summary")
SHIPPED = resources.files("byhand") / "lectures"


class LectureError(ByhandError):
    """A lecture file that cannot be served: the message names the file and the line."""


@dataclass
class LectureFile:
    """One lecture of the series: its number, title, one-line summary and Markdown body."""

    number: int
    title: str
    summary: str
    body: str
    path: str
    widgets: list[str] = field(default_factory=list)
    number_line: int = 2


def _front_matter(text: str, path: str) -> tuple[dict, str, int]:
    """The front matter's keys and the Markdown after it, and the line the Markdown starts on."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise LectureError(
            f"{path}:1: a lecture starts with front matter: a line '---', then "
            f"{', '.join(f'{k}: …' for k in FRONT_MATTER)}, then '---'"
        )
    meta: dict[str, tuple[str, int]] = {}
    for k, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            break
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key = key.strip()
        if not colon or key not in FRONT_MATTER:
            raise LectureError(
                f"{path}:{k}: front matter lines are 'key: value' with a key among "
                f"{', '.join(FRONT_MATTER)}; got {line.strip()[:60]!r}"
            )
        if key in meta:
            raise LectureError(f"{path}:{k}: {key} is given twice (first on line {meta[key][1]})")
        meta[key] = (value.strip(), k)
    else:
        raise LectureError(f"{path}:1: the front matter has no closing '---' line")
    end = k
    for key in FRONT_MATTER:
        if not meta.get(key, ("", 0))[0]:
            raise LectureError(f"{path}:{meta.get(key, ('', end))[1]}: front matter needs {key}")
    number, line = meta["number"]
    if not number.isdigit() or int(number) < 1:
        raise LectureError(
            f"{path}:{line}: number must be a whole number from 1 up, got {number!r}"
        )
    values = {key: meta[key][0] for key in FRONT_MATTER}
    values["number"] = int(number)
    values["number_line"] = line
    return values, "\n".join(lines[end:]), end + 1


def _check_body(body: str, first_line: int, path: str, widgets: Iterable[str]) -> list[str]:
    """Every marker names a known widget and every formula is LaTeX the page can render."""
    known = set(widgets)

    def line_of(pos: int) -> int:
        return first_line + body.count("\n", 0, pos)

    found = []
    for m in _MARKER.finditer(body):
        if m.group(1) not in known:
            err = unknown("widget", m.group(1), sorted(known), f"{path}:{line_of(m.start())}")
            raise LectureError(str(err))
        found.append(m.group(1))
    for m in re.finditer(r"^:::.*$", body, re.M):
        if not _MARKER.fullmatch(m.group(0)):
            raise LectureError(
                f"{path}:{line_of(m.start())}: a widget marker is ':::' and one name, "
                f"such as '::: try-it'; got {m.group(0)[:60]!r}"
            )
    rest = _DISPLAY.sub(lambda m: " " * len(m.group(0)), body)
    formulas = [(m.start(), m.group(1), True) for m in _DISPLAY.finditer(body)]
    formulas += [(m.start(), m.group(1), False) for m in _INLINE.finditer(rest)]
    for pos, tex, display in formulas:
        try:
            to_mathml(tex.strip(), display=display)
        except Exception as err:  # latex2mathml raises its own errors, one class per fault
            raise LectureError(
                f"{path}:{line_of(pos)}: the formula ${tex.strip()[:60]}$ is not LaTeX the page "
                f"can render ({type(err).__name__})"
            ) from None
    return found


def read_lecture(text: str, path: str, widgets: Iterable[str]) -> LectureFile:
    """A lecture file checked whole: front matter, widget markers, formulas."""
    meta, body, first = _front_matter(text, path)
    found = _check_body(body, first, path, widgets)
    return LectureFile(
        meta["number"], meta["title"], meta["summary"], body, path, found, meta["number_line"]
    )


def load_series(directory: str | Path | None, widgets: Iterable[str]) -> dict[int, LectureFile]:
    """The lecture series by number: the lectures shipped with the package, and every ``*.md``
    file in `directory` (one of them replaces a shipped lecture of its number). Two files of
    `directory` with one number, or any malformed file, is a LectureError naming it."""
    widgets = list(widgets)
    series: dict[int, LectureFile] = {}
    for item in sorted(SHIPPED.iterdir(), key=lambda t: t.name):
        if item.name.endswith(".md"):
            lec = read_lecture(item.read_text("utf-8"), f"byhand/lectures/{item.name}", widgets)
            series[lec.number] = lec
    if directory is None:
        return series
    folder = Path(directory)
    if not folder.is_dir():
        raise LectureError(f"{folder}: no such folder of lectures")
    mine: dict[int, LectureFile] = {}
    for file in sorted(folder.glob("*.md")):
        try:
            text = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise LectureError(f"{file}: cannot be read as UTF-8 text ({err})") from None
        lec = read_lecture(text, str(file), widgets)
        if lec.number in mine:
            raise LectureError(
                f"{file}:{lec.number_line}: lecture number {lec.number} is taken by "
                f"{mine[lec.number].path}"
            )
        mine[lec.number] = lec
    return dict(sorted({**series, **mine}.items()))


def lecture_text(name: str = "03-intro-to-neural-networks") -> str:
    """The Markdown of a lecture shipped with the package."""
    try:
        return (resources.files("byhand") / "lectures" / f"{name}.md").read_text("utf-8")
    except (FileNotFoundError, OSError):
        raise ByhandError(f"no lecture called {name!r} in this package") from None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _inline(tex: str, tail: str) -> str:
    """Inline math as MathML; with the punctuation after it, kept on one line together."""
    math = to_mathml(tex.strip(), display=False)
    if not tail:
        return math
    return f'<span class="nowrap">{math}{escape(tail)}</span>'


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
    text = _INLINE_TAIL.sub(lambda m: stash(_inline(m.group(1), m.group(2))), text)
    html = MarkdownIt("commonmark", {"html": False, "typographer": True}).render(text)
    # a stashed block sits alone in a paragraph: unwrap it; inline math stays in its sentence
    for k, piece in enumerate(pieces):
        token = _TOKEN.format(k)
        html = html.replace(f"<p>{token}</p>", piece).replace(token, piece)
    return html, found


def render_lecture(text: str, widgets: Mapping[str, str] | None = None) -> Lecture:
    """The whole lecture: title, introduction, and each ``##`` section rendered on its own."""
    front = None
    if text.lstrip().startswith("---"):
        front, text, _ = _front_matter(text.lstrip(), "the lecture")
    title_match = _TITLE.search(text)
    title = title_match.group(1) if title_match else front["title"] if front else "Lecture"
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
