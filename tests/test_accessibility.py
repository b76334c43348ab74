"""axe-core (through axe-playwright-python, no download at run time) on the Lecture Series and
on the lecture in each state a student reaches: first drawn, after the forward pass, after
backpropagation, after training, and in Practice (with a wrong and a carried answer), at 1280 px and at 375 px: no serious or
critical violation."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
if not Path("/usr/bin/chromium").exists():
    pytest.skip("Debian's Chromium is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect  # noqa: E402

WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}
AXE = axe_module.Axe()


def serious(page: Page) -> list[str]:
    """Every serious or critical violation on the page, with the elements it names."""
    found = AXE.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v.get("impact") in ("serious", "critical")
    ]


def forward(page: Page) -> None:
    page.click("#run-forward")
    expect(page.locator("#forward-table")).to_have_count(1)
    page.click("#flow-skip")


def backprop(page: Page) -> None:
    page.click("#backpropagate")
    expect(page.locator("#gradients-table")).to_have_count(1)
    page.click("#flow-skip")
    page.locator("#gradients-table tr[data-param='w11']").click()
    expect(page.locator("#explain")).to_have_attribute("data-param", "w11")


def trained(page: Page) -> None:
    page.fill("#train-steps", "50")
    page.click("#train")
    expect(page.locator("#train-status")).to_have_attribute("data-points", "51", timeout=30_000)
    page.fill("#ds-epochs", "5")
    page.click("#ds-train")
    expect(page.locator("#ds-boundary")).to_have_attribute("data-drawn", "1", timeout=30_000)


def practice(page: Page) -> None:
    first = page.locator("#practice-form input").first
    expect(first).to_be_visible(timeout=10_000)
    first.fill("0.5")
    first.dispatch_event("change")
    page.locator("#practice").scroll_into_view_if_needed()
    page.wait_for_timeout(600)


def practice_carried(page: Page) -> None:
    """Exercise 1 with z_h1 wrong (2 for 1.14) and h1 = σ(2) worked from it: h1 is `carried`,
    so its orange verdict is on the page when axe looks."""
    page.goto(page.url.split("?")[0] + "?practice=1")
    expect(page.locator("body.ready")).to_have_count(1)
    page.locator("#practice-form input[name='z_h1']").fill("2")
    page.locator("#practice-form input[name='h1']").fill("0.8808")
    page.locator("#practice-form input[name='h1']").dispatch_event("change")
    expect(page.locator(".practice-item.is-carried")).to_have_count(1, timeout=10_000)
    page.locator("#practice").scroll_into_view_if_needed()


#: the states a student reaches one after another, each checked as it is reached
STATES = {"initial": lambda page: None, "forward": forward, "backprop": backprop}
STATES.update(trained=trained, practice=practice, carried=practice_carried)


@pytest.fixture
def csp_free(browser):
    """A context that lets axe's script run: the page's policy blocks eval (tests only)."""
    contexts = []

    def make(width: str) -> Page:
        ctx = browser.new_context(bypass_csp=True, viewport=WIDTHS[width])
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_series_index_has_no_serious_violation(csp_free, live_server, width):
    page = csp_free(width)
    page.goto(live_server + "/")
    expect(page.locator(".card")).not_to_have_count(0)
    assert serious(page) == []


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_lecture_has_no_serious_violation_in_any_state(csp_free, live_server, width):
    page = csp_free(width)
    page.goto(live_server + "/lectures/3")
    expect(page.locator("body.ready")).to_have_count(1)
    found = {}
    for name, reach in STATES.items():
        reach(page)
        found[name] = serious(page)
    assert found == {name: [] for name in STATES}
