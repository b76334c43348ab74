"""Neuron maps and lesson links in a real browser (Debian's Chromium through Playwright).

Neuron maps: the names and counts come from the network trained (spiral, hidden 8,8, two
classes: 8 + 8 + 2 maps named as notation.py names them). Lesson links: what a link hides is
what the teacher chose in its panel; the 64-30-10 state is made as `byhand train --data
digits` makes its model (tests/test_shortstate.py measures its code at every precision).
Screenshots go to a temporary folder (or BYHAND_SCREENSHOTS).
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian's Chromium is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from byhand import data, modelfile, shortstate  # noqa: E402
from byhand.cli import main  # noqa: E402
from byhand.network import Network  # noqa: E402

SHOTS = Path(os.environ.get("BYHAND_SCREENSHOTS") or tempfile.mkdtemp(prefix="byhand-shots-"))
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
#: the lecture's numbering (notation.py): the second hidden layer goes on from h9
SPIRAL_NEURONS = [f"h{i}" for i in range(1, 17)] + ["o1", "o2"]


@pytest.fixture
def make_page(browser, live_server):
    """Pages in contexts that may read the clipboard; JavaScript errors fail the test."""
    contexts, errors = [], []

    def make(viewport=WIDE, path="/lectures/3") -> Page:
        ctx = browser.new_context(viewport=viewport, bypass_csp=True)
        ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live_server + path)
        expect(page.locator("body.ready")).to_have_count(1)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not errors, errors


def shot(page: Page, selector: str | None, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if selector:
        page.locator(selector).first.evaluate(
            "e => e.scrollIntoView({block: 'start', behavior: 'instant'})"
        )
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def map_picture(page: Page, name: str) -> str:
    return page.evaluate(
        "n => document.querySelector(`button.neuron-map[data-neuron='${n}'] canvas`).toDataURL()",
        name,
    )


def start_spiral(page: Page, epochs: str = "5000") -> None:
    page.select_option("#ds-name", "spiral")
    page.fill("#ds-epochs", epochs)
    page.click("#ds-train")


def test_every_neuron_has_a_map_that_changes_while_spiral_trains(make_page):
    page = make_page()
    start_spiral(page)
    maps = page.locator("#ds-maps")
    # the first drawing; a fast machine may have drawn several by the time this looks
    expect(maps).to_have_attribute("data-redraws", re.compile(r"^[1-9]\d*$"), timeout=30_000)
    names = page.locator("button.neuron-map").evaluate_all("bs => bs.map(b => b.dataset.neuron)")
    assert names == SPIRAL_NEURONS
    first = {n: map_picture(page, n) for n in ("h1", "h9", "o2")}
    seen = int(maps.get_attribute("data-redraws"))
    page.wait_for_function(
        "n => Number(document.querySelector('#ds-maps').dataset.redraws) >= n",
        arg=seen + 3,
        timeout=30_000,
    )
    expect(page.locator("#ds-train")).to_be_disabled()  # still training
    assert {n: map_picture(page, n) for n in first} != first
    shot(page, "#ds-maps", "neuron-maps")
    # one opens large, with axes, and Escape closes it and gives the focus back
    page.locator("button.neuron-map[data-neuron='h11']").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#map-dialog")
    expect(dialog).to_be_visible()
    large = page.locator("#map-large")
    expect(large).to_have_attribute("data-neuron", "h11")
    expect(large).to_have_attribute("aria-label", re.compile(r"^h11 over the plane: x1 from"))
    expect(page.locator("#map-dialog-title")).to_have_text("h11 (hidden 2)")
    box = large.bounding_box()
    assert box["width"] > 300  # large: the small ones are 48 px
    shot(page, None, "neuron-map-large")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.activeElement.dataset.neuron") == "h11"
    page.click("#ds-stop")
    expect(page.locator("#ds-train")).to_be_enabled(timeout=30_000)
    # a set with more than two features has no maps
    page.select_option("#ds-name", "iris")
    expect(maps).to_be_hidden()


def make_lesson(page: Page, hide_parts: list[str], shown: list[str], locked: list[str]) -> str:
    """Open the Lesson link panel, leave out parts, hide every control but `shown`, lock
    `locked`, and make the link."""
    page.click("#lesson-link")
    for part in hide_parts:
        page.uncheck(f"#lesson-dialog [data-part='{part}']")
    page.click("#lesson-controls-hide")
    for key in shown:
        page.select_option(f"[data-control='{key}']", "")
    for key in locked:
        page.select_option(f"[data-control='{key}']", "lock")
    page.click("#lesson-make")
    expect(page.locator("#lesson-status")).to_contain_text("characters")
    return page.input_value("#lesson-url")


def test_a_lesson_link_hides_what_it_says_and_survives_a_reload_and_copy_link(make_page):
    teacher = make_page()
    teacher.select_option("#ds-name", "spiral")
    teacher.select_option("#ds-optimizer", "sgd")
    teacher.locator("#ds-optimizer").dispatch_event("change")
    link = make_lesson(
        teacher,
        hide_parts=["neurons", "learning", "practice"],
        shown=["forward", "copy-link", "ds-train"],
        locked=["inputs", "ds-name", "ds-optimizer"],
    )
    assert "#state=b1." in link and len(link) < shortstate.LINK_CHARS
    shot(teacher, None, "lesson-panel")
    teacher.keyboard.press("Escape")
    expect(teacher.locator("#lesson-dialog")).to_be_hidden()

    student = make_page(path="/lectures/3" + link[link.index("#") :])

    def follows_the_lesson(page: Page) -> None:
        expect(page.locator("#lesson-note")).to_contain_text(
            "Some controls are hidden for this lesson"
        )
        for shown in ("#task", "#try", "#matrix", "#run-forward", "#copy-link", "#ds-train"):
            expect(page.locator(shown)).to_be_visible()
        for hidden in ("#neurons", "#learning", "#practice", "#reset", "#download",
                       "#numpy-script", "#try-it details.params", "#architecture",
                       "#ds-hidden", "#lesson-link"):  # fmt: skip
            expect(page.locator(hidden)).to_be_hidden()
        expect(page.locator(".contents a[href='#learning']")).to_be_hidden()
        # the contents keep the parts' own numbers: The matrix form is still 5
        assert page.locator(".contents li:has(a[href='#matrix'])").get_attribute("value") == "5"
        for locked in ("#inputs-editor input >> nth=0", "#ds-name", "#ds-optimizer"):
            expect(page.locator(locked)).to_be_disabled()
        expect(page.locator("#ds-name")).to_have_value("spiral")
        expect(page.locator("#ds-optimizer")).to_have_value("sgd")
        # hidden is really hidden: nothing Tab reaches is inside a hidden part or control
        reached = set()
        page.locator("body").focus()
        for _ in range(40):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.closest('.lesson-hidden') !== null"))
        assert reached == {False}

    follows_the_lesson(student)
    shot(student, None, "lesson-student")
    student.reload()
    expect(student.locator("body.ready")).to_have_count(1)
    follows_the_lesson(student)
    # Copy link keeps the lesson
    student.click("#copy-link")
    expect(student.locator("#toolbar-status")).to_have_text("Link copied: it reproduces this page.")
    copied = student.evaluate("navigator.clipboard.readText()")
    assert "#state=b1." in copied  # the short code: shorter than the address's #s= state
    again = make_page(path="/lectures/3" + copied[copied.index("#") :])
    follows_the_lesson(again)
    # anyone can show everything (a lesson aid, not a lock), and go back to the lesson's view
    again.click("#lesson-show-all")
    for part in ("#neurons", "#learning", "#reset", "#lesson-link"):
        expect(again.locator(part)).to_be_visible()
    expect(again.locator("#ds-name")).to_be_enabled()
    expect(again.locator("#lesson-note")).to_contain_text("Everything is shown")
    again.click("#lesson-hide-again")
    expect(again.locator("#learning")).to_be_hidden()


def test_a_locked_field_keeps_its_value_when_another_control_would_set_it(make_page):
    """Choosing a data set applies its preset (adam, η 0.05 for the made-up sets), but not to a
    locked field."""
    teacher = make_page()
    teacher.select_option("#ds-optimizer", "momentum")
    teacher.fill("#ds-lr", "0.3")
    for field in ("#ds-optimizer", "#ds-lr"):
        teacher.locator(field).dispatch_event("change")
    link = make_lesson(teacher, hide_parts=[], shown=["ds-name", "ds-lr"], locked=["ds-optimizer"])
    student = make_page(path="/lectures/3" + link[link.index("#") :])
    expect(student.locator("#ds-optimizer")).to_have_value("momentum")
    expect(student.locator("#ds-lr")).to_have_value("0.3")
    student.select_option("#ds-name", "circles")
    expect(student.locator("#ds-lr")).to_have_value("0.05")  # the preset came
    expect(student.locator("#ds-optimizer")).to_have_value("momentum")
    expect(student.locator("#ds-optimizer")).to_be_disabled()


@pytest.fixture(scope="module")
def digits_link(tmp_path_factory):
    """A 64-30-10 network trained on digits, and a digit's pixels, as the page's #s= link."""
    path = tmp_path_factory.mktemp("digits") / "m.json"
    args = ["train", "--data", "digits", "--layers", "64,30,10", "--epochs", "3", "--out"]
    assert main([*args, str(path), "--json"]) == 0
    ds = data.load("digits")
    state = {"m": json.loads(path.read_text()), "x": ds.X[0].tolist(), "y": ds.Y[0].tolist(),
             "lr": 0.5, "n": 200, "s": None, "f": 1, "b": 0}  # fmt: skip
    return "#s=" + base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def test_a_64_30_10_states_lesson_link_is_under_8_kb(make_page, digits_link):
    assert len(digits_link) > 50_000
    teacher = make_page(path="/lectures/3" + digits_link)
    expect(teacher.locator("#diagram svg")).to_have_attribute("data-sizes", "64,30,10")
    link = make_lesson(teacher, hide_parts=["practice"], shown=["forward"], locked=[])
    assert len(link) < 8 * 1024
    expect(teacher.locator("#lesson-status")).to_contain_text("the 4 decimals the page shows")
    student = make_page(path="/lectures/3" + link[link.index("#") :])
    expect(student.locator("#diagram svg")).to_have_attribute("data-sizes", "64,30,10")
    expect(student.locator("#practice")).to_be_hidden()


def test_a_state_too_long_for_a_link_is_offered_as_a_file_load_model_opens(make_page, tmp_path):
    net = Network.create([64, 100, 10], init="xavier", seed=3)  # 7,510 random weights
    rng = np.random.default_rng(0)
    state = {"m": modelfile.to_dict(net), "x": rng.random(64).tolist(), "y": [0.0] * 10,
             "lr": 0.5, "n": 200, "s": None, "f": 1, "b": 0}  # fmt: skip
    hash_ = "#s=" + base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    teacher = make_page(path="/lectures/3" + hash_)
    expect(teacher.locator("#diagram svg")).to_have_attribute("data-sizes", "64,100,10")
    make_lesson(teacher, hide_parts=["practice"], shown=[], locked=[])
    expect(teacher.locator("#lesson-status")).to_contain_text("too long for a link")
    teacher.keyboard.press("Escape")
    teacher.click("#copy-link")
    expect(teacher.locator("#toolbar-status")).to_contain_text("too long for a link")
    teacher.click("#lesson-link")
    teacher.click("#lesson-make")
    with teacher.expect_download() as got:
        teacher.click("#lesson-file")
    saved = tmp_path / "byhand-lesson.json"
    got.value.save_as(saved)
    student = make_page()
    student.set_input_files("#load-file", str(saved))
    expect(student.locator("#diagram svg")).to_have_attribute("data-sizes", "64,100,10")
    expect(student.locator("#lesson-note")).to_contain_text("Some controls are hidden")
    expect(student.locator("#practice")).to_be_hidden()
    expect(student.locator("#run-forward")).to_be_hidden()


def test_maps_and_lesson_views_at_phone_width(make_page):
    """Screenshots at 375 px, and no sideways scrolling with the maps or a lesson's note."""
    page = make_page(viewport=PHONE)
    start_spiral(page, "40")
    expect(page.locator("#ds-train")).to_be_enabled(timeout=30_000)
    expect(page.locator("#ds-maps")).to_be_visible(timeout=30_000)
    shot(page, "#ds-maps", "neuron-maps-phone")
    page.locator("button.neuron-map").first.click()
    shot(page, None, "neuron-map-large-phone")
    page.keyboard.press("Escape")
    link = make_lesson(page, hide_parts=["learning"], shown=["forward"], locked=[])
    shot(page, None, "lesson-panel-phone")
    page.keyboard.press("Escape")
    student = make_page(viewport=PHONE, path="/lectures/3" + link[link.index("#") :])
    shot(student, None, "lesson-student-phone")
    for p in (page, student):
        assert p.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def axe_violations(page: Page) -> list[str]:
    """Every axe-core violation on the page, of any impact, with the elements it names."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    found = axe.run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}" for v in found]


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["desktop", "phone"])
def test_axe_finds_nothing_with_maps_or_a_lesson(make_page, viewport):
    page = make_page(viewport=viewport)
    start_spiral(page, "30")
    expect(page.locator("#ds-train")).to_be_enabled(timeout=30_000)
    expect(page.locator("#ds-maps")).to_be_visible(timeout=30_000)
    found = {"maps": axe_violations(page)}
    page.locator("button.neuron-map").first.click()
    expect(page.locator("#map-dialog")).to_be_visible()
    found["map large"] = axe_violations(page)
    page.keyboard.press("Escape")
    link = make_lesson(page, hide_parts=["learning"], shown=["forward"], locked=["inputs"])
    found["lesson panel"] = axe_violations(page)
    page.keyboard.press("Escape")
    student = make_page(viewport=viewport, path="/lectures/3" + link[link.index("#") :])
    expect(student.locator("#lesson-note")).to_be_visible()
    found["lesson link"] = axe_violations(student)
    assert found == {k: [] for k in found}
