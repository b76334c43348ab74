"""Shared fixtures: the browser (Debian's Chromium, no downloads) and a live server for it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

# benchmarks/serving.py: the free port and Chromium's launch flags the benchmarks use too
sys.path.append(str(Path(__file__).resolve().parent.parent / "benchmarks"))
from serving import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page

# CI draws the same examples every run, so a run passes or fails on the code alone; a developer's
# runs keep drawing new ones (hypothesis's default) and find what CI would not
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright launches Debian's Chromium, kept off the network."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def live_server():
    """The whole app served by uvicorn on 127.0.0.1 in a background thread; yields its base URL."""
    from app_server import served
    from byhand.web.app import create_app

    with served(create_app()) as url:
        yield url


@pytest.fixture
def lecture(page: Page, live_server: str) -> Page:
    """The lecture page at 1280×800, loaded and drawn, with JavaScript errors collected."""
    from playwright.sync_api import expect

    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server + "/lectures/3")
    expect(page.locator("body.ready")).to_have_count(1)
    expect(page.locator("#diagram [data-param='w31']")).to_have_count(1)
    yield page
    assert not errors, errors
