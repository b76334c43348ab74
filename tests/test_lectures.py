"""The Lecture Series: front matter, widget markers and formulas checked at start-up with the
file and line named; the index; `byhand new-lecture`; and a teacher's lecture 4 served and used
in the browser (its numbers checked by hand: h1 = σ(3))."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app_server import served
from byhand.cli import main
from byhand.web import content, pages
from byhand.web.app import create_app

LECTURE_4 = """---
number: 4
title: Two Widgets
summary: A short lecture a teacher wrote.
---

An introduction with $z = w x + b$.

## The curve {#curve}

$$ \\sigma(z) = \\frac{1}{1 + e^{-z}} $$

::: sigmoid-plot

## Run it {#run}

Press the button.

::: try-it
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(folder: Path) -> str:
    with pytest.raises(content.LectureError) as err:
        pages.series(str(folder))
    return str(err.value)


def test_the_shipped_series_is_lecture_three():
    lectures = pages.series()
    assert list(lectures) == [3]
    assert lectures[3].title == "Intro to Neural Networks"
    assert "try-it" in lectures[3].widgets


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("# no front matter\n", 1, "front matter"),
        ("---\nnumber: 4\ntitle: T\n", 1, "closing"),
        ("---\nnumber: four\ntitle: T\nsummary: s\n---\n", 2, "whole number"),
        ("---\nnumber: 4\ntitle: T\nsummary: s\nauthor: me\n---\n", 5, "key"),
        ("---\nnumber: 4\ntitle:\nsummary: s\n---\n", 3, "needs title"),
        ("---\nnumber: 4\nsummary: s\n---\n", 4, "needs title"),
        (LECTURE_4.replace("::: try-it", "::: try-this"), 19, "unknown widget 'try-this'"),
        (LECTURE_4.replace("::: try-it", "::: try-it please"), 19, "marker"),
        (LECTURE_4.replace("e^{-z}", "\\left( e^{-z}"), 11, "formula"),
    ],
)
def test_a_malformed_lecture_names_its_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, "04-bad.md", text)
    message = error_of(tmp_path)
    assert message.startswith(f"{path}:{line}:"), message
    assert words in message


def test_two_lectures_with_one_number_are_refused(tmp_path):
    write(tmp_path, "04-a.md", LECTURE_4)
    write(tmp_path, "04-b.md", LECTURE_4)
    message = error_of(tmp_path)
    assert message.startswith(f"{tmp_path / '04-b.md'}:2:") and "04-a.md" in message


def test_serve_stops_at_start_up_with_the_error(tmp_path, capsys):
    write(tmp_path, "04-bad.md", LECTURE_4.replace("::: try-it", "::: nope"))
    assert main(["serve", "--port", "0", "--lectures", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "04-bad.md:19: unknown widget 'nope'" in err and "Traceback" not in err


def test_the_index_lists_every_lecture_and_links_it(tmp_path):
    write(tmp_path, "04-two.md", LECTURE_4)
    client = TestClient(create_app(lectures=str(tmp_path)))
    index = client.get("/").text
    assert index.index("Lecture No. 3") < index.index("Lecture No. 4")
    assert 'href="/lectures/4"' in index and "A short lecture a teacher wrote." in index
    page = client.get("/lectures/4")
    assert page.status_code == 200
    html = page.text
    assert "← Lecture Series" in html and "Lecture No. 4" in html and "Two Widgets" in html
    assert 'id="run-forward"' in html and 'class="sigmoid-plot"' in html
    assert 'id="ds-train"' not in html  # only the widgets the lecture places
    assert client.get("/lectures/9").status_code == 404


def test_new_lecture_writes_a_starter_that_serves(tmp_path, capsys):
    folder = tmp_path / "mine"
    assert main(["new-lecture", "4", "Gradient  Descent!", "--dir", str(folder)]) == 0
    path = folder / "04-gradient-descent.md"
    assert path.is_file() and str(path) in capsys.readouterr().out
    lec = pages.series(str(folder))[4]
    assert lec.title == "Gradient Descent!" and lec.widgets == ["sigmoid-plot", "try-it"]
    assert main(["new-lecture", "4", "Gradient Descent!", "--dir", str(folder)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["new-lecture", "4", "Another", "--dir", str(folder)]) == 2
    assert "already" in capsys.readouterr().err


# --- lecture 4 in the browser ---------------------------------------------------------------


@pytest.fixture(scope="module")
def series_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lectures")
    write(folder, "04-two.md", LECTURE_4)
    with served(create_app(lectures=str(folder))) as url:
        yield url


def test_lecture_four_renders_and_works_in_the_browser(series_server, page):
    pytest.importorskip("playwright")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's Chromium is not installed")
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"{e} {e.stack}"))
    page.goto(series_server + "/")
    page.click("text=Two Widgets")
    expect(page.locator("h1")).to_have_text("Two Widgets")
    expect(page.locator("#curve-title")).to_contain_text("01")
    expect(page.locator("#run-title")).to_contain_text("02")
    expect(page.locator(".sigmoid-plot svg")).to_have_count(1)
    # the page's modules have wired the buttons (a click before that would do nothing)
    expect(page.locator("body.ready")).to_have_count(1)
    page.click("#run-forward")
    page.wait_for_timeout(500)
    assert not errors, errors
    h1 = 1 / (1 + math.exp(-3.0))  # the lecture's network: all ones, x = [1, 0, 1]
    expect(page.locator("#forward-table tr[data-neuron='h1'] td.a")).to_have_text(f"{h1:.4f}")
    page.click("text=← Lecture Series")
    expect(page.locator("h1")).to_have_text("Lecture Series")
    assert not errors, errors
