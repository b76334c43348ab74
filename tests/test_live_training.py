"""Live training on the page (Chromium through Playwright): the diagram and the charts follow a
run while it trains, One step takes exactly one step, the boundary plot takes points by click,
hides test points, and input features reach the trained model.

The numbers a test compares with are the engine's, computed here with byhand's Network on the
lecture's network (all weights and biases 1, x = [1, 0, 1], y = [1, 0], η = 0.5); the state is
read from the page's link (the #s= JSON), exactly as the page keeps it.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian's Chromium is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from byhand import data, features  # noqa: E402
from byhand import lecture as lec  # noqa: E402

WIDE = {"width": 1280, "height": 800}
#: a run counts as running while its Train button is disabled
RUNNING = "() => document.querySelector('#ds-train').disabled"


def link_state(page: Page) -> dict:
    """The state the page's link carries (state.js writes it once the page is idle)."""
    page.wait_for_timeout(400)
    code = re.match(r"#s=([A-Za-z0-9_-]+)$", page.evaluate("() => location.hash")).group(1)
    return json.loads(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4)))


def engine_steps(n: int):
    """The lecture's network after n gradient steps on its sample, by byhand's engine."""
    net = lec.lecture_network()
    for _ in range(n):
        fwd = net.forward(list(lec.INPUTS))
        net.step(net.backward(fwd, list(lec.TARGET)), lec.LEARNING_RATE)
    return net


def test_one_step_advances_exactly_one_step(lecture: Page):
    lecture.click("#train-one")
    status = lecture.locator("#train-status")
    expect(status).to_have_attribute("data-step", "1", timeout=20_000)
    expect(lecture.locator("#train-one")).to_be_enabled()
    w = link_state(lecture)["m"]["layers"]
    net = engine_steps(1)
    assert w[0]["weights"][0][0] == pytest.approx(net.layers[0].W[0, 0], abs=1e-12)
    assert w[1]["weights"][0][0] == pytest.approx(net.layers[1].W[0, 0], abs=1e-12)
    assert net.layers[0].W[0, 0] != 1.0  # the step moved it
    lecture.click("#train-one")
    expect(status).to_have_attribute("data-step", "2", timeout=20_000)
    expect(lecture.locator("#train-one")).to_be_enabled()
    w = link_state(lecture)["m"]["layers"]
    assert w[1]["biases"][1] == pytest.approx(engine_steps(2).layers[1].b[1], abs=1e-12)
    # the curve: the loss before the first step, then one after each step
    expect(status).to_have_attribute("data-points", "3")


def test_the_diagram_and_loss_curve_follow_a_lecture_run_before_it_ends(lecture: Page):
    lecture.fill("#train-steps", "300")
    lecture.select_option("#train-speed", "100")  # 100 steps a second: the run takes 3 s
    lecture.click("#train")
    w11 = lecture.locator("#params-editor input[data-param='w11']")
    expect(w11).not_to_have_value("1", timeout=20_000)
    expect(lecture.locator("#train-pause")).to_be_enabled()  # still running
    points = int(lecture.locator("#train-status").get_attribute("data-points"))
    assert 1 < points < 300
    expect(lecture.locator("#train-pause")).to_be_disabled(timeout=30_000)
    expect(lecture.locator("#train-status")).to_have_attribute("data-step", "300")


def test_a_spiral_run_redraws_boundary_diagram_and_curves_while_it_trains(lecture: Page):
    """The boundary's picture changes at least three times during a 150-epoch spiral run; the
    diagram (followed) shows other weights and loss points appear before the run ends."""
    lecture.evaluate(
        """() => {
          window.frames_ = new Set();
          window.during = { loss: 0, live: 0 };
          const canvas = document.querySelector('#ds-boundary');
          new MutationObserver(() => {
            if (!document.querySelector('#ds-train').disabled) return;
            if (canvas.dataset.drawn === 'live') window.frames_.add(canvas.toDataURL());
            const path = document.querySelector('#ds-loss path');
            if (path) window.during.loss = Math.max(window.during.loss, path.getAttribute('d').split('L').length);
            window.during.live = Number(document.querySelector('#diagram').dataset.live || 0);
          }).observe(document.querySelector('#datasets'), { attributes: true, subtree: true, childList: true });
        }"""
    )
    lecture.select_option("#ds-name", "spiral")
    lecture.fill("#ds-epochs", "150")
    # 50 epochs a second: the run lasts 3 s, so a loaded machine still draws it several times
    lecture.select_option("#ds-speed", "50")
    lecture.check("#ds-follow")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-train")).to_be_disabled()
    expect(lecture.locator("#ds-train")).to_be_enabled(timeout=60_000)
    distinct = lecture.evaluate("() => window.frames_.size")
    during = lecture.evaluate("() => window.during")
    assert distinct >= 3, f"the boundary changed {distinct} times while training"
    assert during["loss"] >= 2, during  # the loss curve had points before the end
    assert during["live"] >= 2, during  # the diagram showed snapshots while training
    state = link_state(lecture)
    assert len(state["m"]["layers"][0]["weights"][0]) == 2  # the diagram shows the spiral net


#: the samples of xor as the panel starts: the engine's default (data.SYNTHETIC_DEFAULTS)
XOR = data.SYNTHETIC_DEFAULTS["xor"][0]


def test_test_points_show_as_rings_and_the_toggle_hides_them(lecture: Page):
    lecture.fill("#ds-epochs", "5")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-boundary")).to_have_attribute("data-drawn", "1", timeout=60_000)
    canvas = lecture.locator("#ds-boundary")
    expect(canvas).to_have_attribute("data-points", str(XOR))
    lecture.uncheck("#ds-test-points")
    # xor's samples, a fifth held out as the test part (data.prepare's split)
    expect(canvas).to_have_attribute("data-points", str(XOR - XOR // 5))
    lecture.check("#ds-test-points")
    expect(canvas).to_have_attribute("data-points", str(XOR))


def test_a_point_added_by_click_is_in_the_state_after_reload(lecture: Page):
    lecture.fill("#ds-px", "0.25")
    lecture.fill("#ds-py", "-0.5")
    lecture.click("#ds-add")  # the keyboard's way: the set becomes one's own, xor's points and this
    expect(lecture.locator("#ds-name")).to_have_value("own")
    canvas = lecture.locator("#ds-boundary")
    expect(canvas).to_have_attribute("data-points", str(XOR + 1))
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * 0.1, "y": box["height"] * 0.1}, modifiers=["Shift"])
    expect(canvas).to_have_attribute("data-points", str(XOR + 2))
    own = link_state(lecture)["d"]["own"]
    assert own["p"][XOR] == [0.25, -0.5, 0]
    x, y, k = own["p"][XOR + 1]
    assert k == 1 and y > 0 > x  # top left, the next class after the picker's A
    lecture.reload()
    expect(lecture.locator("body.ready")).to_have_count(1)
    expect(lecture.locator("#ds-name")).to_have_value("own")
    expect(lecture.locator("#ds-name option[value='own']")).to_have_text(
        f"your own points ({XOR + 2})"
    )
    assert link_state(lecture)["d"]["own"]["p"][XOR + 1] == [x, y, k]
    lecture.click("#ds-clear")
    expect(canvas).to_have_attribute("data-points", "0")


def _train_circles(page: Page, chosen: list[str]) -> float:
    for box in page.locator("input[name='ds-feature']").all():
        box.set_checked(box.get_attribute("value") in chosen)
    page.fill("#ds-hidden", "")  # no hidden layer: a straight line in the features' space
    page.fill("#ds-epochs", "20")
    page.click("#ds-train")
    expect(page.locator("#ds-train")).to_be_disabled()
    expect(page.locator("#ds-train")).to_be_enabled(timeout=60_000)
    return float(page.locator("#ds-info").get_attribute("data-accuracy"))


def test_features_chosen_on_the_page_train_better_and_reach_the_downloaded_model(
    lecture: Page, tmp_path: Path
):
    lecture.select_option("#ds-name", "circles")
    plain = _train_circles(lecture, ["x1", "x2"])
    squares = _train_circles(lecture, ["x1sq", "x2sq"])
    # a line cannot part a ring from its centre; a line in (x1², x2²) is a circle in (x1, x2)
    assert squares > plain + 0.2, (plain, squares)
    assert squares > 0.9
    lecture.click("#ds-show")
    with lecture.expect_download() as download:
        lecture.click("#download")
    saved = tmp_path / "model.json"
    download.value.save_as(saved)
    model = json.loads(saved.read_text())
    assert model["features"] == ["x1sq", "x2sq"]
    # the inputs are named as `byhand train --features` names them: x1², not x1sq
    assert model["inputs"] == features.labels(["x1sq", "x2sq"]) == ["x1²", "x2²"]
    assert len(model["layers"][0]["weights"][0]) == 2
