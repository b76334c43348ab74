"""The Practice section in a real browser: one right and one wrong answer, and the solution.

The expected numbers are worked out here by hand from the sheet's own weights:
z_h = Σ wᵢⱼ xⱼ + bᵢ, h = 1 / (1 + e^(−z)).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian's Chromium is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

from byhand.teach import generate  # noqa: E402

SEED = 8


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def box(page: Page, name: str):
    return page.locator(f".practice-item[data-name='{name}']")


@pytest.fixture
def practice(page: Page, live_server: str):
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + f"/lectures/3?practice={SEED}#practice")
    expect(page.locator("#practice-exercise")).to_be_visible()
    yield page
    assert not problems, problems


def test_right_and_wrong_answers_get_their_feedback(practice: Page):
    page = practice
    expect(page.locator("#practice-seed")).to_have_text(f"exercise {SEED}")
    sheet = generate(SEED)  # the page's default sheet: 3-2-2, sigmoid
    net, x = sheet.net, sheet.inputs
    W1, b1 = net.layers[0].W, net.layers[0].b
    h = [sigma(sum(W1[i, j] * x[j] for j in range(3)) + b1[i]) for i in range(2)]
    W2, b2 = net.layers[1].W, net.layers[1].b
    o1 = sigma(W2[0, 0] * h[0] + W2[0, 1] * h[1] + b2[0])

    box(page, "h1").locator("input").fill(f"{h[0]:.4f}")
    box(page, "h2").locator("input").fill(f"{h[1]:.4f}".replace("-", "−"))
    wrong = o1 + 0.2  # no common slip gives this value on this sheet
    box(page, "o1").locator("input").fill(f"{wrong:.4f}")

    expect(box(page, "h1")).to_have_class(re.compile(r"\bis-right\b"))
    expect(box(page, "h1").locator(".practice-feedback")).to_have_text("✓ right")
    expect(box(page, "o1")).to_have_class(re.compile(r"\bis-wrong\b"))
    feedback = box(page, "o1").locator(".practice-feedback")
    expect(feedback).to_contain_text(f"o1 = {wrong:.4f} is wrong but h1 and h2 are right")
    expect(feedback).to_contain_text("weighted sum for neuron 3")
    expect(page.locator("#practice-summary")).to_contain_text("first wrong step")

    # a box that is not a number is caught before it reaches the server
    box(page, "z_h1").locator("input").fill("abc")
    expect(box(page, "z_h1")).to_have_class(re.compile(r"\bis-invalid\b"))


def test_solution_is_revealed_step_by_step(practice: Page):
    page = practice
    page.locator("#practice-next").click()
    steps = page.locator(".practice-solution-step")
    expect(steps).to_have_count(1)
    expect(steps.first.locator("math")).to_have_count(1)
    expect(steps.first).to_have_attribute("data-name", "z_h1")
    page.locator("#practice-next").click()
    expect(steps).to_have_count(2)
    page.locator("#practice-all").click()
    expect(page.locator("#practice-all")).to_be_disabled()
    expect(steps).to_have_count(len(generate(SEED).solution.steps))

    box(page, "h1").locator("input").fill("0.5")
    page.locator("#practice-new").click()
    expect(page.locator(".practice-solution-step")).to_have_count(0)
    expect(box(page, "h1").locator("input")).to_have_value("")


#: a 3-2-2 sigmoid sheet whose ∂L/∂w21 is −5.21 × 10⁻⁵ (found by drawing seeds until one was
#: below 10⁻⁴)
SMALL_SEED = 29


def test_small_numbers_are_written_times_ten_to_a_power_never_with_e(page: Page, live_server):
    sol = generate(SMALL_SEED).solution
    small = sol.values["dL/dw21"]
    assert 1e-5 < abs(small) < 1e-4  # the sheet this test is about
    mantissa, exponent = f"{small:.2e}".split("e")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + f"/lectures/3?practice={SMALL_SEED}#practice")
    expect(page.locator("#practice-seed")).to_have_text(f"exercise {SMALL_SEED}")
    page.locator("#practice-all").click()
    step = page.locator(".practice-solution-step[data-name='dL/dw21']")
    expect(step.locator("math").first).to_be_visible()
    # … = −5.21 × 10⁻⁵, laid out as MathML: 5.21, ×, then 10 with a superscript −5
    shown = step.locator("math").first.text_content()
    assert f"{abs(float(mantissa)):g}" in shown and "×" in shown, shown
    power = step.locator("math").first.locator("msup").last
    expect(power.locator("mn").first).to_have_text("10")
    assert power.text_content().replace("\n", "").replace("−", "-").endswith(str(int(exponent)))
    # nowhere in the section does a formula write 5.2e−6
    texts = page.locator("#practice-app math").all_text_contents()
    assert texts and not [t for t in texts if re.search(r"\d\s*[eE]\s*[−+-]?\s*\d", t)]


def test_api_docs_page_works_offline_under_the_sites_policy(page: Page, live_server: str):
    """/docs: Swagger UI from this server alone, no request elsewhere, no CSP violation."""
    problems: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "request",
        lambda r: None if r.url.startswith(live_server) else elsewhere.append(r.url),
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + "/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("byhand")
    expect(page.locator(".opblock-summary-path", has_text="/api/practice/check")).to_be_visible()
    # "Try it out" on one operation: the request goes to this server, under connect-src 'self'
    lecture = page.locator(
        ".opblock", has=page.locator(".opblock-summary-path", has_text="/api/lecture")
    )
    lecture.locator(".opblock-summary").click()
    lecture.locator("button.try-out__btn").click()
    lecture.locator("button.execute").click()
    expect(lecture.locator(".live-responses-table tbody .response-col_status").first).to_have_text(
        "200"
    )
    expect(lecture.locator(".live-responses-table .microlight").first).to_contain_text(
        "byhand.network"
    )
    assert not problems, problems
    assert not elsewhere, elsewhere
