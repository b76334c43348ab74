"""The lecture page in a real browser (Debian's Chromium through Playwright).

Expected numbers are computed here by hand with the math module, never read off the page
first: h1 = σ(3), o1 = σ(2σ(3) + 1), ∂L/∂w31 = (o1 − 1)·o1(1 − o1)·h1. Each test saves a
screenshot of the part it exercises: into a temporary folder, or into the folder named by
BYHAND_SCREENSHOTS (`BYHAND_SCREENSHOTS=docs/screenshots` refreshes the README's pictures).
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian's Chromium is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from byhand import lecture as lecture_module  # noqa: E402
from byhand import modelfile, numbers  # noqa: E402

SHOTS = Path(os.environ.get("BYHAND_SCREENSHOTS") or tempfile.mkdtemp(prefix="byhand-shots-"))
WIDE = {"width": 1280, "height": 800}


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def four(v: float) -> str:
    """How the page prints a number (byhand.numbers' rule, for 10⁻⁴ ≤ |v| < 10⁷): a whole
    number whole, else 4 decimals, 3 significant figures below 0.1, a real minus sign."""
    if float(v).is_integer():
        return str(int(v)).replace("-", "−")
    return (f"{v:.4f}" if abs(v) >= 0.1 else f"{v:.3g}").replace("-", "−")


H1 = sigma(3.0)
O1 = sigma(2 * H1 + 1)
DW31 = (O1 - 1) * O1 * (1 - O1) * H1


def shot(page: Page, selector: str, name: str, block: str = "start") -> None:
    """Scroll a part of the page into view and save what the screen shows."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).first.evaluate(
        f"e => e.scrollIntoView({{block: '{block}', behavior: 'instant'}})"
    )
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def param_input(page: Page, name: str):
    return page.locator(f"#params-editor input[data-param='{name}']")


def test_page_loads_with_mathml_rendered(lecture: Page):
    maths = lecture.locator("math")
    assert maths.count() > 20
    # Chromium lays MathML out itself: a fraction is taller than one line of text
    box = lecture.locator("#task .display-math math").first.bounding_box()
    assert box is not None and box["height"] > 30 and box["width"] > 60
    frac = lecture.locator("#task mfrac").first.bounding_box()
    assert frac is not None and frac["height"] > 25
    shot(lecture, "body", "intro")
    shot(lecture, "#task", "task")
    lecture.locator("#diagram [data-neuron='h1']").click()
    expect(lecture.locator("#inspector h3")).to_have_text("h1")
    # the lecture asks the student to find h1's numbers: they appear after the forward pass
    expect(lecture.locator("#inspector math")).to_have_count(1)
    expect(lecture.locator("#inspector .hint")).to_contain_text("Run forward pass")
    lecture.click("#run-forward")
    expect(lecture.locator("#inspector math")).to_have_count(2)  # the formula, then its numbers
    shot(lecture, "#neurons", "neurons")


def test_run_forward_pass_shows_the_lecture_numbers(lecture: Page):
    lecture.click("#run-forward")
    row = lecture.locator("#forward-table tr[data-neuron='h1'] td.a")
    expect(row).to_have_text(four(H1))
    expect(lecture.locator("#forward-table tr[data-neuron='o1'] td.a")).to_have_text(four(O1))
    # a whole number whole, as the diagram writes it (the table wrote 3.0000 beside its z = 3)
    expect(lecture.locator("#forward-table tr[data-neuron='h1'] td.z")).to_have_text("3")
    expect(lecture.locator("#diagram [data-neuron='o1'] text.value")).to_have_text(four(O1))
    assert four(H1) == "0.9526" and four(O1) == "0.9481"
    shot(lecture, "#forward-result", "try-it", block="center")


def test_changing_w11_changes_h1(lecture: Page):
    lecture.click("#run-forward")
    expect(lecture.locator("#forward-table tr[data-neuron='h1'] td.a")).to_have_text(four(H1))
    w11 = param_input(lecture, "w11")
    w11.fill("-2")
    w11.press("Enter")
    w11.dispatch_event("change")
    # z_h1 = −2·1 + 1·0 + 1·1 + 1 = 0, so h1 = σ(0) = 0.5
    expect(lecture.locator("#forward-table tr[data-neuron='h1'] td.a")).to_have_text(four(0.5))
    expect(lecture.locator("#forward-table tr[data-neuron='h2'] td.a")).to_have_text(four(H1))
    expect(lecture.locator("#diagram [data-param='w11']")).to_have_class("edge negative")


def test_backpropagate_shows_the_gradient_of_w31(lecture: Page):
    lecture.click("#backpropagate")
    grad = lecture.locator("#gradients-table tr[data-param='w31'] td.grad")
    expect(grad).to_have_text(four(DW31))
    assert four(DW31) == "−0.00243"  # 3 significant figures, as the worksheets ask
    expect(lecture.locator("#explain")).to_have_attribute("data-param", "w31")
    expect(lecture.locator("#explain math")).not_to_have_count(0)
    # selecting another parameter explains it instead
    lecture.locator("#gradients-table tr[data-param='w11']").click()
    expect(lecture.locator("#explain")).to_have_attribute("data-param", "w11")
    shot(lecture, "#backprop-widget", "backprop")


def test_a_gradient_step_lowers_the_loss(lecture: Page):
    lecture.click("#gradient-step")
    result = lecture.locator("#step-result")
    expect(result).to_contain_text("→")
    before = float(result.get_attribute("data-before"))
    after = float(result.get_attribute("data-after"))
    loss = 0.5 * ((O1 - 1) ** 2 + O1**2)
    assert before == pytest.approx(loss, rel=1e-9)
    assert after < before
    expect(lecture.locator("#diagram .changed")).not_to_have_count(0)
    shot(lecture, "#step-widget", "step")


def test_train_streams_a_falling_loss_curve(lecture: Page):
    # at 100 steps a second the run takes 3 s: long enough to pause it half way
    lecture.select_option("#train-speed", "100")
    lecture.fill("#train-steps", "300")
    lecture.click("#train")
    status = lecture.locator("#train-status")
    expect(status).to_have_attribute("data-points", re.compile(r"^\d+$"), timeout=20_000)
    lecture.click("#train-pause")  # keeps the network of the last snapshot
    expect(lecture.locator("#train")).to_have_text("Resume", timeout=10_000)
    paused_at = int(status.get_attribute("data-points"))
    assert 1 < paused_at < 301
    lecture.click("#train")
    expect(status).to_have_attribute("data-points", "301", timeout=30_000)
    expect(lecture.locator("#train")).to_have_text("Train", timeout=10_000)
    first = float(status.get_attribute("data-first"))
    last = float(status.get_attribute("data-last"))
    assert first == pytest.approx(0.5 * ((O1 - 1) ** 2 + O1**2), rel=1e-9)
    assert last < first
    assert lecture.locator("#train-chart path.series").count() == 1
    shot(lecture, "#train-widget", "train")
    assert param_input(lecture, "w11").input_value() != "1"
    lecture.click("#train-reset")
    expect(param_input(lecture, "w11")).to_have_value("1")
    expect(lecture.locator("#train-chart path")).to_have_count(0)


def settled_url(page: Page) -> str:
    """The page's URL once the state it saves after a short debounce (60 ms) has stopped changing."""
    last = None
    while page.url != last:
        last = page.url
        page.wait_for_timeout(250)
    return last


def test_the_url_round_trips_the_state(lecture: Page, live_server: str):
    w11 = param_input(lecture, "w11")
    w11.fill("2.5")
    w11.dispatch_event("change")
    x2 = lecture.locator("#inputs-editor input[data-input='1']")
    x2.fill("0.5")
    x2.dispatch_event("change")
    lecture.select_option("#ds-name", "circles")
    lecture.fill("#ds-epochs", "77")
    lecture.locator("#ds-epochs").dispatch_event("change")
    lecture.click("#run-forward")
    # z_h1 = 2.5·1 + 1·0.5 + 1·1 + 1 = 5
    expected = four(sigma(5.0))
    expect(lecture.locator("#forward-table tr[data-neuron='h1'] td.a")).to_have_text(expected)
    link = settled_url(lecture)
    assert "#s=" in link
    other = lecture.context.new_page()
    other.set_viewport_size(WIDE)
    other.goto(link)
    expect(other.locator("#forward-table tr[data-neuron='h1'] td.a")).to_have_text(expected)
    # the boxes show the numbers as byhand.numbers.input_value writes them (the Practice boxes'
    # form: 2.5, where the page's boxes wrote 2.5000); the state holds the numbers as typed
    expect(other.locator("#params-editor input[data-param='w11']")).to_have_value("2.5")
    expect(other.locator("#inputs-editor input[data-input='1']")).to_have_value("0.5")
    expect(other.locator("#ds-name")).to_have_value("circles")
    expect(other.locator("#ds-epochs")).to_have_value("77")
    other.click("#reset")
    expect(other.locator("#params-editor input[data-param='w11']")).to_have_value("1")
    expect(other.locator("#forward-result table")).to_have_count(0)
    other.close()


def test_architecture_editor_redraws_diagram_and_matrices(lecture: Page):
    lecture.click("#run-forward")
    expect(lecture.locator("#matrices")).to_contain_text(four(O1))
    shot(lecture, "#matrix", "matrix")
    lecture.click("#arch-add")
    lecture.locator("#arch-layers input[data-arch='2']").fill("3")
    lecture.locator("#arch-layers input[data-arch='2']").dispatch_event("change")
    lecture.click("#arch-build")
    expect(lecture.locator("#diagram svg")).to_have_attribute("data-sizes", "3,2,3,2")
    expect(lecture.locator("#matrices .formula")).to_have_count(3)
    shot(lecture, "#architecture", "architecture")


def test_a_two_dimensional_data_set_trains_to_a_boundary(lecture: Page):
    lecture.select_option("#ds-name", "xor")
    lecture.fill("#ds-epochs", "60")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-boundary")).to_have_attribute("data-drawn", "1", timeout=30_000)
    info = lecture.locator("#ds-info")
    assert float(info.get_attribute("data-last")) < float(info.get_attribute("data-first"))
    # the heatmap holds more than one class colour: the network split the plane
    colours = lecture.evaluate(
        """() => {
        const c = document.querySelector('#ds-boundary');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] > d[i + 2] ? 'warm' : 'cool');
        return [...seen];
    }"""
    )
    assert sorted(colours) == ["cool", "warm"]
    shot(lecture, "#datasets", "datasets")


def test_phone_width_has_no_sideways_scrolling(page: Page, live_server: str):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + "/lectures/3")
    expect(page.locator("body.ready")).to_have_count(1)
    page.click("#run-forward")
    expect(page.locator("#forward-table tr[data-neuron='o1'] td.a")).to_have_text(four(O1))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#try").evaluate("e => e.scrollIntoView({block: 'start', behavior: 'instant'})")
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / "phone.png"))


def test_keyboard_selects_a_weight_on_the_diagram(lecture: Page):
    edge = lecture.locator("#diagram [data-param='w31']")
    edge.focus()
    lecture.keyboard.press("Enter")
    expect(lecture.locator("#inspector h3")).to_have_text("w31")
    expect(lecture.locator("#inspector-value")).to_have_value("1")
    lecture.locator("#inspector-value").fill("-1.5")
    lecture.locator("#inspector-value").dispatch_event("change")
    expect(lecture.locator("#diagram [data-param='w31']")).to_have_attribute("data-value", "-1.5")


def test_a_csv_upload_is_checked_and_named_in_the_message(lecture: Page):
    bad = {"name": "broken.csv", "mimeType": "text/csv", "buffer": b"a,b,label\n1,2,x\n3,,y\n"}
    lecture.set_input_files("#ds-file", files=[bad])
    lecture.click("#ds-upload")
    expect(lecture.locator("#ds-error")).to_contain_text("line 3")
    good = b"a,b,label\n1,2,x\n3,4,y\n0,1,x\n2,2,y\n"
    lecture.set_input_files(
        "#ds-file", files=[{"name": "fruit.csv", "mimeType": "text/csv", "buffer": good}]
    )
    lecture.click("#ds-upload")
    expect(lecture.locator("#ds-error")).to_have_text("")
    expect(lecture.locator("#ds-info")).to_contain_text("4 samples, 2 features, 2 classes")


def test_download_and_load_a_model_file(lecture: Page, tmp_path: Path):
    from byhand import modelfile

    w11 = param_input(lecture, "w11")
    w11.fill("0.75")
    w11.dispatch_event("change")
    expect(lecture.locator("#diagram [data-param='w11']")).to_have_attribute("data-value", "0.75")
    with lecture.expect_download() as download:
        lecture.click("#download")
    saved = tmp_path / "model.json"
    download.value.save_as(saved)
    net = modelfile.load(saved)
    assert net["w11"] == 0.75 and net.sizes == [3, 2, 2]

    broken = b'{"format": "byhand.network", "version": 1, "layers": [{"activation": "sigmoid"}]}'
    lecture.set_input_files(
        "#load-file", files=[{"name": "bad.json", "mimeType": "application/json", "buffer": broken}]
    )
    expect(lecture.locator("#toolbar-status")).to_contain_text("layers[0].weights")
    net["w11"] = -3.0
    saved.write_text(modelfile.dumps(net))
    lecture.set_input_files("#load-file", files=[str(saved)])
    expect(lecture.locator("#diagram [data-param='w11']")).to_have_attribute("data-value", "-3.0")


def test_the_numpy_script_prints_the_lectures_numbers(lecture: Page, tmp_path: Path):
    """The script prints `name = value` lines; h1, o1 and L are computed here by hand."""
    with lecture.expect_download() as download:
        lecture.click("#numpy-script")
    assert download.value.suggested_filename == "byhand-3-2-2-numpy.py"
    script = tmp_path / download.value.suggested_filename
    download.value.save_as(script)
    expect(lecture.locator("#toolbar-status")).to_contain_text("byhand-3-2-2-numpy.py")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    printed = dict(line.split(" = ", 1) for line in out.stdout.splitlines() if " = " in line)
    o2 = O1  # every weight and bias is 1: both outputs are the same
    loss = 0.5 * ((O1 - 1) ** 2 + o2**2)
    assert json.loads(printed["h"])[0] == pytest.approx(H1, abs=1e-12)
    assert json.loads(printed["o"])[0] == pytest.approx(O1, abs=1e-12)
    assert float(printed["L"]) == pytest.approx(loss, abs=1e-12)
    with lecture.expect_download() as download:
        lecture.click("#torch-script")
    assert download.value.suggested_filename == "byhand-3-2-2-torch.py"


def _train_finished(page: Page) -> None:
    expect(page.locator("#ds-train")).to_be_enabled(timeout=30_000)
    expect(page.locator("#ds-info")).to_have_attribute("data-last", re.compile(r"\d"))


def test_the_boundary_redraws_while_a_spiral_trains(lecture: Page):
    """Progress events carry the network so far; each finished redraw counts in data-redraws."""
    lecture.select_option("#ds-name", "spiral")
    lecture.fill("#ds-epochs", "5000")
    lecture.click("#ds-train")
    canvas = lecture.locator("#ds-boundary")
    picture = "() => document.querySelector('#ds-boundary').toDataURL()"
    expect(canvas).to_have_attribute("data-redraws", re.compile(r"^[1-9]\d*$"), timeout=30_000)
    first = lecture.evaluate(picture)
    seen = int(canvas.get_attribute("data-redraws"))
    later = "|".join(str(n) for n in range(seen + 2, seen + 10))
    expect(canvas).to_have_attribute(
        "data-redraws", re.compile(rf"^({later}|\d\d\d+)$"), timeout=30_000
    )
    expect(canvas).to_have_attribute("data-drawn", "live")
    expect(lecture.locator("#ds-train")).to_be_disabled()  # still running
    assert lecture.evaluate(picture) != first
    shot(lecture, "#datasets", "datasets-live")
    lecture.click("#ds-stop")
    _train_finished(lecture)
    expect(canvas).to_have_attribute("data-drawn", "1")


def test_a_later_set_without_a_picture_clears_the_old_boundary(lecture: Page):
    lecture.select_option("#ds-name", "spiral")
    lecture.fill("#ds-epochs", "5")
    lecture.click("#ds-train")
    canvas = lecture.locator("#ds-boundary")
    expect(canvas).to_have_attribute("data-drawn", "1", timeout=30_000)
    rows = "".join(f"{k % 3},{k % 5},{k % 7},{'ab'[k % 2]}\n" for k in range(20))
    three = {"name": "three.csv", "mimeType": "text/csv", "buffer": f"a,b,c,label\n{rows}".encode()}
    lecture.set_input_files("#ds-file", files=[three])
    lecture.click("#ds-upload")
    expect(lecture.locator("#ds-info")).to_contain_text("20 samples, 3 features, 2 classes")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-boundary-caption")).to_contain_text(
        "no picture: this data set has 3"
    )
    expect(canvas).not_to_have_attribute("data-drawn", "1")
    painted = lecture.evaluate(
        """() => {
        const c = document.querySelector('#ds-boundary');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
        return n;
    }"""
    )
    assert painted == 0


def test_a_csv_with_numbers_to_predict_trains_as_regression(lecture: Page):
    # y = 2a − b + 0.5: a target with many distinct values, not class labels
    rows = "".join(f"{a},{b},{2 * a - b + 0.5}\n" for a in range(6) for b in (0.25, 0.5, 1.5))
    csv = {"name": "line.csv", "mimeType": "text/csv", "buffer": f"a,b,y\n{rows}".encode()}
    lecture.set_input_files("#ds-file", files=[csv])
    lecture.fill("#ds-target", "y")
    lecture.click("#ds-upload")
    expect(lecture.locator("#ds-info")).to_contain_text(
        "18 samples, 2 features, a number to predict"
    )
    lecture.fill("#ds-epochs", "40")
    lecture.click("#ds-train")
    _train_finished(lecture)
    expect(lecture.locator("#ds-error")).to_have_text("")
    info = lecture.locator("#ds-info")
    assert float(info.get_attribute("data-last")) < float(info.get_attribute("data-first"))
    expect(lecture.locator("#ds-boundary-caption")).to_contain_text("numbers to predict")
    lecture.click("#ds-show")
    diagram = lecture.locator("#diagram svg")
    expect(diagram).to_have_attribute("data-sizes", "2,8,8,1")
    expect(diagram).to_contain_text("outputs · identity")
    # the trained model, read back from the link, predicts y better than its mean does
    from byhand import modelfile

    # the address is written once the page is idle
    net = modelfile.from_dict(link_state(lecture)["m"])
    xs = np.array([[a, b] for a in range(6) for b in (0.25, 0.5, 1.5)], float)
    ys = 2 * xs[:, 0] - xs[:, 1] + 0.5
    mse = float(np.mean((net.forward(xs).output[:, 0] - ys) ** 2))
    assert mse < 0.5 * float(np.var(ys))


def test_fixed_sets_are_asked_for_without_samples_or_noise(lecture: Page):
    sent: list[str] = []
    lecture.on("request", lambda r: sent.append(r.url + " " + (r.post_data or "")))
    lecture.select_option("#ds-name", "iris")
    expect(lecture.locator("#ds-samples")).to_be_disabled()
    lecture.fill("#ds-epochs", "3")
    lecture.click("#ds-train")
    _train_finished(lecture)
    expect(lecture.locator("#ds-error")).to_have_text("")
    expect(lecture.locator("#ds-samples")).to_be_disabled()
    expect(lecture.locator("#ds-noise")).to_be_disabled()
    trains = [s for s in sent if "/api/train" in s]
    assert trains and all('"samples"' not in s and '"noise"' not in s for s in trains)
    # the listing says iris is not synthetic: not even a first try asks for samples
    asked = [s for s in sent if "/api/datasets/iris" in s]
    assert asked and not [s for s in asked if "samples=" in s or "noise=" in s]
    lecture.select_option("#ds-name", "circles")
    expect(lecture.locator("#ds-samples")).to_be_enabled()


def test_a_weight_clicked_on_a_phone_keeps_the_page_still(page: Page, live_server: str):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + "/lectures/3")
    expect(page.locator("body.ready")).to_have_count(1)
    page.click("#backpropagate")
    expect(page.locator("#gradients-table")).to_have_count(1)
    page.locator("#backprop-widget").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(200)
    bench = page.locator(".bench")
    small = bench.bounding_box()["height"]
    assert small < 0.4 * 740
    before = page.evaluate("scrollY")
    hit = page.locator("#diagram [data-param='w11'] .hit").bounding_box()
    page.mouse.click(hit["x"] + 0.3 * hit["width"], hit["y"] + 0.3 * hit["height"])
    expect(page.locator("#inspector h3")).to_have_text("w11")
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") == before
    assert bench.bounding_box()["height"] == pytest.approx(small, abs=1)
    # the panel opens under its button at a fixed height, whole on the screen
    page.click("#panel-toggle")
    expect(page.locator("#panel-toggle")).to_have_attribute("aria-expanded", "true")
    box = page.locator("#inspector").bounding_box()
    assert box["y"] + box["height"] <= 740 and bench.bounding_box()["height"] < 0.6 * 740
    page.wait_for_timeout(150)
    page.screenshot(path=str(SHOTS / "phone-panel.png"))


def test_a_skip_link_reaches_the_diagram_in_three_keys(lecture: Page):
    lecture.keyboard.press("Tab")
    lecture.keyboard.press("Tab")
    expect(lecture.locator(":focus")).to_have_text("Skip to the diagram")
    lecture.keyboard.press("Enter")
    lecture.keyboard.press("Tab")
    expect(lecture.locator(":focus")).to_have_attribute("data-param", "w11")


def test_unusable_entries_are_named_next_to_their_box_and_old_alerts_go(lecture: Page):
    w11 = param_input(lecture, "w11")
    for entry in ("1e400", ""):
        w11.fill(entry)
        w11.dispatch_event("change")
        note = lecture.locator("#params-editor .box-error")
        expect(note).to_contain_text("not used")
        expect(w11).to_have_attribute("aria-invalid", "true")
        expect(lecture.locator("#diagram [data-param='w11']")).to_have_attribute(
            "data-value", "1.0"
        )
    lecture.fill("#ds-hidden", "0")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-error")).to_contain_text("hidden layers")
    lecture.click("#run-forward")
    expect(lecture.locator("#ds-error")).to_have_text("")
    expect(lecture.locator("#params-editor .box-error")).to_have_count(0)
    expect(w11).to_have_value("1")


def test_add_hidden_layer_stops_at_the_layer_limit(lecture: Page):
    add = lecture.locator("#arch-add")
    for _ in range(14):  # the lecture's 2 layers of weights, up to 16
        add.click()
    expect(add).to_be_disabled()
    expect(lecture.locator("#arch-layers input")).to_have_count(17)


def test_trained_weights_fit_their_boxes_with_four_decimals(lecture: Page):
    lecture.fill("#train-steps", "200")
    lecture.click("#train")
    expect(lecture.locator("#train-status")).to_have_attribute("data-points", "201", timeout=30_000)
    expect(lecture.locator("#train")).to_have_text("Train", timeout=10_000)
    expect(param_input(lecture, "w11")).not_to_have_value("1")
    values = lecture.locator("#params-editor input").evaluate_all(
        "els => els.map(e => [e.value, e.scrollWidth <= e.clientWidth])"
    )
    # each box holds its number as byhand.numbers writes it for an input (at most 4 decimals,
    # 3 significant figures below 0.1, trailing zeros dropped), and shows all of it
    assert all(numbers.input_value(float(v)) == v and fits for v, fits in values), values
    shot(lecture, "#try-it", "weights", block="center")


def test_load_model_names_the_file_once_and_says_it_reads_json(lecture: Page):
    status = lecture.locator("#toolbar-status")
    lecture.set_input_files(
        "#load-file", files=[{"name": "m1.json", "mimeType": "application/json", "buffer": b"{"}]
    )
    expect(status).to_have_text(
        "m1.json: not valid JSON: the page reads model files in JSON, as Download model saves them"
    )
    npz = {"name": "m1.npz", "mimeType": "application/octet-stream", "buffer": b"PK\x03\x04"}
    lecture.set_input_files("#load-file", files=[npz])
    expect(status).to_contain_text("m1.npz: not a JSON model file")


def test_each_action_is_one_request(lecture: Page):
    """A refresh is one trip: every action asks /api/view once and nothing else."""
    sent: list[str] = []
    lecture.on(
        "request", lambda r: sent.append(r.url.split("/", 3)[-1]) if "/api/" in r.url else None
    )

    def one(action, done) -> None:
        sent.clear()
        action()
        expect(done).to_have_count(1)
        lecture.wait_for_timeout(300)  # anything else the action might send
        assert sent == ["api/view"], sent

    one(lambda: lecture.click("#run-forward"), lecture.locator("#forward-table"))
    one(lambda: lecture.click("#backpropagate"), lecture.locator("#gradients-table"))
    one(
        lambda: lecture.locator("#diagram [data-param='w11']").click(),
        lecture.locator("#inspector h3", has_text="w11"),
    )
    w12 = param_input(lecture, "w12")
    w12.fill("0.5")
    one(
        lambda: w12.dispatch_event("change"),
        lecture.locator("#diagram [data-param='w12'][data-value='0.5']"),
    )
    one(lambda: lecture.click("#gradient-step"), lecture.locator("#step-result[data-after]"))
    one(
        lambda: lecture.locator("#gradients-table tr[data-param='b3']").click(),
        lecture.locator("#explain[data-param='b3']"),
    )


def test_the_first_drawing_asks_for_nothing(page: Page, live_server: str):
    """The server drew the lecture: the page shows that answer (data-set list and practice aside)."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/" in r.url else None)
    page.goto(live_server + "/lectures/3")
    expect(page.locator("body.ready")).to_have_count(1)
    expect(page.locator("#params-editor input[data-param='w31']")).to_have_count(1)
    page.wait_for_timeout(300)
    assert [u for u in sent if "/api/datasets" not in u and "/api/practice" not in u] == []


def test_a_link_asks_once_and_shows_its_own_network(page: Page, live_server: str):
    """A link's state is asked for as the page starts (js/opening.js): one /api/view, whose
    numbers are the link's network's, not the lecture's first drawing."""
    net = lecture_module.lecture_network()
    net["w31"] = 2.0  # so o1 is no longer the lecture's 0.9481
    state = {
        "m": modelfile.to_dict(net),
        "x": [1, 0, 1],
        "y": [1, 0],
        "lr": 0.5,
        "n": 200,
        "s": None,
        "f": 1,
        "b": 1,
    }
    packed = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/" in r.url else None)
    page.goto(live_server + "/lectures/3#s=" + packed)
    expect(page.locator("#gradients-table")).to_have_count(1)
    page.wait_for_timeout(300)
    assert [u.split("/", 3)[-1] for u in sent if "/api/view" in u] == ["api/view"]
    # o1 = σ(w31·h1 + w32·h2 + b3) with w31 = 2 and h1 = h2 = σ(3), by hand
    h = 1 / (1 + math.exp(-3))
    o1 = 1 / (1 + math.exp(-(2 * h + h + 1)))
    expect(page.locator("#forward-table tr[data-neuron='o1'] td.a")).to_have_text(f"{o1:.4f}")
    # part 4 explains the last layer's first weight, named as the lecture names it
    expect(page.locator("#explain")).to_have_attribute("data-param", "w31")


def test_the_forward_pass_flows_layer_by_layer_and_can_be_skipped(lecture: Page):
    svg = lecture.locator("#diagram svg")
    hidden = lecture.locator("#diagram g.neurons[data-layer='1']")
    outputs = lecture.locator("#diagram g.neurons[data-layer='2']")
    lecture.click("#run-forward")
    expect(svg).to_have_class(re.compile(r"\bflowing\b"))
    # the hidden layer's values arrive first, the outputs' one layer later
    expect(hidden).not_to_have_class(re.compile("waiting-forward"), timeout=2000)
    assert "waiting-forward" in (outputs.get_attribute("class") or "")
    expect(lecture.locator(".flow-stages [data-stage='1']")).to_have_class("active")
    expect(outputs).not_to_have_class(re.compile("waiting-forward"), timeout=2000)
    expect(svg).not_to_have_class(re.compile(r"\bflowing\b"), timeout=2000)
    # the gradients flow back from the outputs, and Skip shows them all at once
    lecture.click("#backpropagate")
    expect(svg).to_have_class(re.compile(r"\bbackward\b"))
    expect(lecture.locator("#diagram g.edges[data-layer='1']")).to_have_class(
        re.compile("waiting-backward")
    )
    lecture.click("#flow-skip")
    expect(svg).not_to_have_class(re.compile(r"\bflowing\b"))
    expect(lecture.locator(".waiting-backward")).to_have_count(0)
    expect(lecture.locator("#flow-skip")).to_be_hidden()


def test_reduced_motion_shows_the_pass_at_once(browser, live_server: str):
    context = browser.new_context(reduced_motion="reduce", viewport=WIDE)
    page = context.new_page()
    page.goto(live_server + "/lectures/3")
    expect(page.locator("body.ready")).to_have_count(1)
    page.click("#run-forward")
    expect(page.locator("#forward-table tr[data-neuron='o1'] td.a")).to_have_text(four(O1))
    expect(page.locator("#diagram svg")).not_to_have_class(re.compile(r"\bflowing\b"))
    expect(page.locator(".waiting-forward")).to_have_count(0)
    context.close()


def test_backpropagate_explains_w31_without_selecting_it(lecture: Page):
    lecture.click("#backpropagate")
    expect(lecture.locator("#explain")).to_have_attribute("data-param", "w31")
    expect(lecture.locator("#diagram .selected")).to_have_count(0)
    # so the first tap on w31 selects it (it used to clear a silent selection)
    lecture.click("#flow-skip")
    lecture.locator("#diagram [data-param='w31']").click()
    expect(lecture.locator("#inspector h3")).to_have_text("w31")
    expect(lecture.locator("#diagram [data-param='w31']")).to_have_class(re.compile("selected"))


# --- what a new student ran into -------------------------------------------------------------


def link_state(page: Page) -> dict:
    packed = settled_url(page).split("#s=")[1]
    return json.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))


def test_the_steps_box_keeps_the_students_number(lecture: Page):
    steps = lecture.locator("#train-steps")
    steps.fill("57")
    steps.dispatch_event("change")
    lecture.click("#run-forward")
    lecture.locator("#diagram [data-param='w21']").click()
    expect(lecture.locator("#inspector h3")).to_have_text("w21")
    lecture.click("#backpropagate")
    expect(lecture.locator("#gradients-table")).to_have_count(1)
    w11 = param_input(lecture, "w11")
    w11.fill("2")
    w11.dispatch_event("change")
    expect(lecture.locator("#diagram [data-param='w11']")).to_have_attribute("data-value", "2.0")
    expect(steps).to_have_value("57")
    assert link_state(lecture)["n"] == 57


def test_reset_during_training_stops_it_and_says_so(lecture: Page):
    cdp = lecture.context.new_cdp_session(lecture)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 100, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    lecture.fill("#train-steps", "2000")
    lecture.click("#train")
    status = lecture.locator("#train-status")
    expect(status).to_contain_text("training…", timeout=20_000)
    lecture.click("#reset")
    expect(lecture.locator("#train")).to_be_enabled()
    expect(lecture.locator("#train")).to_have_text("Train")
    expect(lecture.locator("#train-pause")).to_be_disabled()
    lecture.wait_for_timeout(1500)  # a chunk still streaming when Reset came must not write back
    expect(status).not_to_contain_text("training…")
    expect(lecture.locator("#train-chart path")).to_have_count(0)
    expect(param_input(lecture, "w11")).to_have_value("1")


def test_the_sigmoid_plot_labels_are_whole_and_apart(lecture: Page):
    boxes = lecture.locator("#task .sigmoid-plot svg").evaluate(
        """svg => [...svg.querySelectorAll('text')].map(t => {
            const b = t.getBBox(); return [t.textContent, b.x, b.y, b.width, b.height]; })"""
    )
    width, height = 320, 180  # the plot's viewBox
    labels = {text: (x, y, w, h) for text, x, y, w, h in boxes}
    assert {"0", "0.5", "1", "−6", "6", "z"} <= set(labels), labels
    for text, (x, y, w, h) in labels.items():
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, text
    (zx, zy, _, _), (sx, sy, sw, sh) = labels["z"], labels["6"]
    assert zx >= sx + sw or zy >= sy + sh  # the axis name clear of the last tick


def test_math_is_set_in_a_math_font(lecture: Page):
    family = lecture.locator("#task math").first.evaluate("m => getComputedStyle(m).fontFamily")
    assert family.startswith('"DejaVu Math TeX Gyre"')
    assert lecture.evaluate("document.fonts.check('16px \"DejaVu Math TeX Gyre\"')")


def test_samples_and_noise_look_disabled_where_they_do_not_apply(lecture: Page):
    samples = lecture.locator("#ds-samples")
    enabled = samples.evaluate("e => getComputedStyle(e).backgroundColor")
    lecture.select_option("#ds-name", "digits")
    expect(samples).to_be_disabled()
    assert samples.evaluate("e => getComputedStyle(e).backgroundColor") != enabled
    expect(lecture.locator("label:has(#ds-noise)")).to_have_class(re.compile("disabled"))
    # each kind of set starts from settings that suit it (the CLI's lecture settings for digits)
    expect(lecture.locator("#ds-hidden")).to_have_value("30")
    expect(lecture.locator("#ds-optimizer")).to_have_value("sgd")


def test_no_line_starts_with_the_punctuation_after_math(page: Page, live_server: str):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + "/lectures/3")
    tails = page.locator("main .nowrap:has(math)")
    assert tails.count() > 3
    lines = tails.evaluate_all("els => els.map(e => [e.textContent, e.getClientRects().length])")
    assert all(n == 1 for _, n in lines), lines


def test_the_data_set_menu_and_results_follow_what_is_used(lecture: Page):
    good = b"a,b,label\n1,2,x\n3,4,y\n0,1,x\n2,2,y\n"
    lecture.set_input_files(
        "#ds-file", files=[{"name": "mine.csv", "mimeType": "text/csv", "buffer": good}]
    )
    lecture.click("#ds-upload")
    expect(lecture.locator("#ds-name")).to_have_value("upload")
    expect(lecture.locator("#ds-name option:checked")).to_have_text("your file: mine.csv")
    bad = {"name": "broken.csv", "mimeType": "text/csv", "buffer": b"a,b,label\n1,2,x\n3,,y\n"}
    lecture.set_input_files("#ds-file", files=[bad])
    lecture.click("#ds-upload")
    expect(lecture.locator("#ds-error")).to_contain_text("line 3")
    expect(lecture.locator("#ds-info")).to_have_text("")  # not the old file's line
    expect(lecture.locator("#ds-name")).not_to_have_value("upload")
    lecture.fill("#ds-epochs", "3")
    lecture.click("#ds-train")
    _train_finished(lecture)
    expect(lecture.locator("#ds-loss-hint")).to_be_hidden()
    lecture.select_option("#ds-name", "circles")
    expect(lecture.locator("#ds-info")).to_have_text("")
    expect(lecture.locator("#ds-loss-hint")).to_be_visible()
    expect(lecture.locator("#ds-loss path")).to_have_count(0)


def test_reset_puts_the_architecture_editor_back(lecture: Page):
    lecture.select_option("#arch-activation", "tanh")
    lecture.select_option("#arch-init", "xavier")
    lecture.click("#arch-add")
    lecture.click("#arch-build")
    expect(lecture.locator("#diagram svg")).to_have_attribute("data-sizes", "3,2,2,2")
    lecture.click("#reset")
    expect(lecture.locator("#diagram svg")).to_have_attribute("data-sizes", "3,2,2")
    expect(lecture.locator("#arch-activation")).to_have_value("sigmoid")
    expect(lecture.locator("#arch-init")).to_have_value("constant")
    expect(lecture.locator("#arch-layers input")).to_have_count(3)


def test_a_number_too_large_is_named_as_too_large(lecture: Page):
    w11 = param_input(lecture, "w11")
    w11.fill("1e400")
    w11.dispatch_event("change")
    expect(lecture.locator("#params-editor .box-error")).to_have_text(
        "1e400 is too large: a number must stay below 1.8e308 (not used)"
    )


def test_the_diagram_has_a_text_a_screen_reader_can_walk(lecture: Page):
    text = lecture.locator("#diagram-text")
    expect(text.locator("ol > li")).to_have_count(3)  # inputs, hidden layer, outputs
    expect(text).to_contain_text("w31 = 1 from h1")
    lecture.click("#run-forward")
    expect(text).to_contain_text(f"o1 = {four(O1)}")
    lecture.click("#backpropagate")
    expect(text).to_contain_text(f"∂L/∂w31 = {four(DW31)}")


#: every number in parts 2–5 (and every number box) must be on the screen, or inside a box that
#: scrolls sideways and shows it (class "scrolls": a shadow and a dotted edge, and a tab stop)
OFF_SCREEN = """(width) => {
  const out = [];
  const parts = ['#neurons', '#try', '#learning', '#matrix'].map(s => document.querySelector(s));
  const hidden = (el) => !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden';
  const cued = (el) => { const box = el.closest('.scrolls'); return box && box.tabIndex === 0; };
  for (const part of parts) {
    const walk = document.createTreeWalker(part, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      if (!/\\d/.test(node.textContent) || hidden(node.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if ((r.left < -0.5 || r.right > width + 0.5) && !cued(node.parentElement))
          out.push(node.textContent.trim().slice(0, 30));
      }
    }
    for (const inp of part.querySelectorAll('input')) {
      const r = inp.getBoundingClientRect();
      if (!hidden(inp) && (r.left < -0.5 || r.right > width + 0.5) && !cued(inp))
        out.push('input ' + (inp.dataset.param || inp.id));
    }
  }
  return out;
}"""


def test_every_number_is_on_a_phone_screen_or_in_a_box_that_says_it_scrolls(
    page: Page, live_server: str
):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + "/lectures/3")
    expect(page.locator("body.ready")).to_have_count(1)
    page.click("#run-forward")
    page.click("#backpropagate")
    expect(page.locator("#gradients-table")).to_have_count(1)
    page.click("#flow-skip")
    page.locator("#gradients-table tr[data-param='w11']").click()
    expect(page.locator("#explain")).to_have_attribute("data-param", "w11")
    page.click("#gradient-step")
    expect(page.locator("#step-result[data-after]")).to_have_count(1)
    page.wait_for_timeout(200)
    assert page.evaluate(OFF_SCREEN, 375) == []
    # and the cue is there to see: some box does scroll at this width
    assert page.locator(".scrolls").count() > 0


def test_digits_show_sample_pictures_instead_of_an_empty_boundary(lecture: Page):
    hint = lecture.locator("#ds-boundary-hint")
    expect(hint).to_be_visible()
    lecture.select_option("#ds-name", "digits")
    lecture.fill("#ds-epochs", "3")
    lecture.click("#ds-train")
    _train_finished(lecture)
    expect(lecture.locator("#ds-boundary")).to_have_attribute("data-drawn", "1")
    expect(lecture.locator("#ds-boundary-caption")).to_contain_text("8 × 8 pictures")
    expect(hint).to_be_hidden()


def test_the_series_opens_on_its_index_and_leads_to_lecture_three(page: Page, live_server: str):
    for width, name in ((WIDE, "series"), ({"width": 375, "height": 740}, "series-phone")):
        page.set_viewport_size(width)
        page.goto(live_server + "/")
        expect(page.locator(".card")).to_have_count(1)
        expect(page.locator(".card")).to_contain_text("Lecture No. 3")
        page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.click("text=Intro to Neural Networks")
    expect(page.locator(".kicker")).to_have_text("Lecture No. 3")
    expect(page.locator(".hero-sigma math")).to_have_count(1)
    expect(page.locator(".flow-stages")).to_have_text("inputs → hidden layer → outputs")
    expect(page.locator("h2 .num")).to_have_text(["01", "02", "03", "04", "05"])
    expect(page.locator("#practice-title")).to_have_text("Practice")
    page.screenshot(path=str(SHOTS / "lecture-phone.png"))
    page.set_viewport_size(WIDE)
    page.click("#run-forward")
    page.wait_for_timeout(700)  # halfway through the animation: the hidden layer has its values
    page.screenshot(path=str(SHOTS / "forward-flow.png"))


def test_selecting_on_the_diagram_moves_focus_to_its_panel(lecture: Page):
    lecture.locator("#diagram [data-neuron='h2']").click()
    expect(lecture.locator(":focus")).to_have_text("h2")
    expect(lecture.locator("#inspector h3:focus")).to_have_count(1)


def test_stop_keeps_the_network_trained_so_far(lecture: Page):
    """Stop on a data-set run keeps the last network the server sent, as the CLI's Ctrl-C does."""
    lecture.select_option("#ds-name", "spiral")
    lecture.fill("#ds-epochs", "3000")
    lecture.click("#ds-train")
    expect(lecture.locator("#ds-error")).to_be_empty()
    # a few epochs in: progress events have come, and with them a network
    expect(lecture.locator("#ds-info")).to_contain_text(
        re.compile(r"epoch [1-9]\d*"), timeout=30_000
    )
    lecture.wait_for_timeout(600)
    lecture.click("#ds-stop")
    expect(lecture.locator("#ds-info")).to_contain_text(
        "the network trained so far is kept", timeout=10_000
    )
    expect(lecture.locator("#ds-train")).to_be_enabled()
    expect(lecture.locator("#ds-boundary")).to_have_attribute("data-drawn", "1", timeout=10_000)
    lecture.click("#ds-show")
    expect(lecture.locator("#ds-error")).to_be_empty()
    # spiral is 2-D: the diagram now draws the stopped run's network with two inputs
    expect(lecture.locator("#diagram [data-param='w11']")).to_have_count(1)
