"""The data-set panel's follow-ups in Chromium: a network of input features shows a sample's real
features on the diagram, One step clicks train as one run, a lesson that hides the point
controls keeps the plot from taking points, a training stream cut short says so, the panel's
synthetic-data defaults are the engine's, and the live views keep to one client's request rate
on a server that limits it.

Reference values come from byhand itself, not from the page: `features.expand` (the one place
features are defined) for the diagram's inputs, `numbers.column` for how the diagram writes a
number, byhand's Trainer for a run of One step clicks, `data.SYNTHETIC_DEFAULTS` for the
defaults.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian's Chromium is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from byhand import data, features, modelfile, numbers  # noqa: E402
from byhand.network import Network  # noqa: E402
from byhand.train import Trainer  # noqa: E402

DS_FIELDS = ("name", "samples", "noise", "seed", "hidden", "optimizer", "lr", "batch")
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"


def link_state(page: Page) -> dict:
    """The state the page's link carries (state.js writes it once the page is idle)."""
    page.wait_for_timeout(400)
    code = re.match(r"#s=([A-Za-z0-9_-]+)$", page.evaluate("() => location.hash")).group(1)
    return json.loads(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4)))


def shot(page: Page, selector: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def input_values(page: Page) -> list[str]:
    """What the diagram writes in its input nodes, top to bottom."""
    return page.locator("#diagram g.neuron.input text.value").all_text_contents()


def test_a_network_of_features_shows_the_samples_features_on_the_diagram(lecture: Page):
    names = ["x1", "x2", "x1sq", "x1x2", "sin_x2"]
    lecture.select_option("#ds-name", "circles")
    for box in lecture.locator("input[name='ds-feature']").all():
        value = box.get_attribute("value")
        box.set_checked(value in names)
    lecture.fill("#ds-epochs", "3")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-info")).to_have_attribute("data-epochs", "3", timeout=60_000)
    lecture.click("#ds-show")
    expect(lecture.locator("#diagram g.neuron.input")).to_have_count(len(names))
    state = link_state(lecture)
    d = state["d"]
    # the sample the diagram shows: the set's first point, as the engine makes the set
    ds = data.load("circles", samples=int(d["samples"]), noise=float(d["noise"]), seed=0)
    point = ds.X[0]
    assert state["p"] == pytest.approx(point.tolist(), abs=1e-12)
    want = [numbers.column(v) for v in features.expand(point, names)]
    expect(lecture.locator("#diagram g.neuron.input text.value")).to_have_text(want)
    assert np.any(features.expand(point, names) != 0.0)
    # the point's own boxes are what "Try it" edits; a new x1 gives new features
    box = lecture.locator("#inputs-editor input[data-point='0']")
    box.fill("0.5")
    box.dispatch_event("change")
    moved = [numbers.column(v) for v in features.expand([0.5, point[1]], names)]
    expect(lecture.locator("#diagram g.neuron.input text.value")).to_have_text(moved)
    shot(lecture, "#diagram", "features-diagram")


def wait_idle(page: Page) -> None:
    """A data-set job has started and ended (Train on data is enabled again)."""
    page.wait_for_function("() => !document.querySelector('#ds-train').disabled", timeout=60_000)


def test_one_step_clicks_go_on_with_one_optimiser_as_the_engine_does(lecture: Page):
    # the panel's first choices: xor, 8,8 tanh, adam η = 0.05, batches of 16, seed 0
    for _ in range(3):
        with lecture.expect_response("**/api/train"):
            lecture.click("#ds-step")
        wait_idle(lecture)
    with lecture.expect_response("**/api/train"):
        lecture.click("#ds-epoch")
    wait_idle(lecture)
    lecture.click("#ds-show")
    state = link_state(lecture)
    d = {k: lecture.input_value(f"#ds-{k}") for k in DS_FIELDS}
    assert (d["optimizer"], d["lr"], d["batch"], d["hidden"]) == ("adam", "0.05", "16", "8,8")
    ds = data.load("xor", samples=int(d["samples"]), noise=float(d["noise"]), seed=0)
    prepared = data.prepare(ds, 0.2, 0, standardise=True)
    net = Network.create([2, 8, 8, 2], "tanh", "softmax", "cross_entropy", init="xavier", seed=0)
    trainer = Trainer(net, prepared.train, prepared.test, optimizer="adam", lr=0.05, batch=16)
    for k in (1, 1, 1, None):  # three steps, then to the end of the pass under way
        trainer.advance(k)
    want = prepared.raw_model(net)
    got = modelfile.from_dict(state["m"])
    for a, b in zip(got.parameters(), want.parameters(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def with_lesson(page: Page, lesson: dict) -> str:
    """The page's own link with `lesson` (js/lesson.js: {parts, hide, lock}) added to its state."""
    state = {**link_state(page), "l": lesson}
    code = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    return page.url.split("#")[0] + "#s=" + code


def test_a_lesson_without_the_point_controls_adds_no_point_on_a_click(lecture: Page):
    lecture.fill("#ds-epochs", "2")
    lecture.click("#ds-train")
    wait_idle(lecture)
    expect(lecture.locator("#ds-boundary")).to_have_attribute("data-drawn", "1")
    lecture.goto(with_lesson(lecture, {"parts": None, "hide": ["ds-points"], "lock": []}))
    lecture.reload()
    expect(lecture.locator("body.ready")).to_have_count(1)
    expect(lecture.locator("#lesson-note")).to_contain_text("Some controls are hidden")
    expect(lecture.locator("#ds-points")).to_be_hidden()
    lecture.fill("#ds-epochs", "2")
    lecture.click("#ds-train")
    wait_idle(lecture)
    plot = lecture.locator("#ds-boundary")
    expect(plot).to_have_attribute("data-points", re.compile(r"^\d+$"))
    assert plot.evaluate("c => getComputedStyle(c).cursor") == "default"
    points = plot.get_attribute("data-points")
    plot.click(position={"x": 100, "y": 120})
    plot.click(position={"x": 200, "y": 220}, modifiers=["Shift"])
    lecture.wait_for_timeout(300)
    expect(lecture.locator("#ds-name")).to_have_value("xor")  # not "your own points"
    assert plot.get_attribute("data-points") == points
    assert "Added a point" not in lecture.locator("#ds-info").text_content()
    # with everything shown again, the same click adds a point
    lecture.click("#lesson-show-all")
    assert plot.evaluate("c => getComputedStyle(c).cursor") == "crosshair"
    plot.click(position={"x": 100, "y": 120})
    expect(lecture.locator("#ds-info")).to_contain_text("Added a point")
    expect(lecture.locator("#ds-name")).to_have_value("own")


def cut_before_done(route) -> None:
    """The server's own training stream, cut where its `done` event would begin (as when the
    process computing it is killed and the connection closes)."""
    response = route.fetch()
    body = response.text()
    route.fulfill(response=response, body=body[: body.index("event: done")])


CUT = "the training ended without a result: the connection to the server was cut"


def test_a_training_stream_cut_short_says_so_and_the_student_can_start_again(lecture: Page):
    lecture.route("**/api/train", cut_before_done)
    lecture.fill("#ds-epochs", "20")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-error")).to_contain_text(CUT, timeout=60_000)
    expect(lecture.locator("#ds-train")).to_be_enabled()
    expect(lecture.locator("#ds-stop")).to_be_disabled()
    expect(lecture.locator("#ds-info")).to_contain_text("The network of the last update is kept")
    shot(lecture, "#datasets", "stream-cut")
    # the lecture's own training says the same
    lecture.fill("#train-steps", "50")
    lecture.click("#train")
    expect(lecture.locator("#train-error")).to_contain_text(CUT, timeout=60_000)
    expect(lecture.locator("#train")).to_be_enabled()
    # once the server answers again, training starts again and ends
    lecture.unroute("**/api/train")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-error")).to_have_text("")
    wait_idle(lecture)
    expect(lecture.locator("#ds-boundary")).to_have_attribute("data-drawn", "1")
    expect(lecture.locator("#ds-error")).to_have_text("")


def test_the_panels_samples_and_noise_are_the_engines_defaults(lecture: Page):
    def shown() -> tuple[int, float]:
        return int(lecture.input_value("#ds-samples")), float(lecture.input_value("#ds-noise"))

    assert lecture.input_value("#ds-name") == "xor"
    assert shown() == data.SYNTHETIC_DEFAULTS["xor"]
    for name in ("circles", "gaussians", "spiral", "fruit"):
        lecture.select_option("#ds-name", name)
        assert shown() == data.SYNTHETIC_DEFAULTS[name], name
    lecture.click("#reset")
    expect(lecture.locator("#ds-name")).to_have_value("xor")
    assert shown() == data.SYNTHETIC_DEFAULTS["xor"]
    # the points the panel trains on are the set the engine makes with them
    lecture.fill("#ds-epochs", "1")
    lecture.click("#ds-train")
    wait_idle(lecture)
    n = len(data.load("xor", seed=0))
    expect(lecture.locator("#ds-boundary")).to_have_attribute("data-points", str(n))


@pytest.fixture(scope="module")
def limited_server():
    """The app as `byhand serve` runs it, with each client's request rate limited."""
    from app_server import served
    from byhand.web.app import create_app
    from byhand.web.settings import Settings

    with served(create_app(settings=Settings(per_client=True)), force_exit=True) as url:
        yield url


def test_the_live_views_keep_to_the_servers_rate_for_one_client(browser, limited_server):
    from byhand.limits import LIMITS

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(limited_server + "/lectures/3")
        expect(page.locator("body.ready")).to_have_count(1)
        answers: list[tuple[float, str, int]] = []
        page.on("response", lambda r: answers.append((time.monotonic(), r.url, r.status)))
        page.select_option("#ds-name", "spiral")
        page.fill("#ds-samples", "1000")
        page.fill("#ds-epochs", "5000")
        page.check("#ds-follow")
        page.click("#ds-train")
        expect(page.locator("#ds-maps")).to_have_attribute("data-redraws", re.compile(r"\d"))
        start = time.monotonic()
        page.wait_for_timeout(4000)
        counted = [a for a in answers if a[0] >= start and "/api/" in a[1]]
        seconds = time.monotonic() - start
        assert page.locator("#ds-train").is_disabled()  # still training
        page.click("#ds-stop")
    finally:
        page.close()
    # the diagram and the plane (boundary and maps in one request) follow the run ...
    assert any("/api/view" in url for _, url, _ in counted)
    assert any("/api/playground/maps" in url for _, url, _ in counted)
    assert not any("/api/grid" in url for _, url, _ in counted)
    # ... within three quarters of one client's rate (js/training.js), and nothing is refused
    assert len(counted) <= 0.75 * LIMITS.client_rate * seconds + 2, len(counted) / seconds
    assert [s for _, _, s in counted if s == 429] == []
