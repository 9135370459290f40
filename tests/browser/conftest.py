"""A live server on a free loopback port and headless Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import services

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test's app served over HTTP in a thread; yields its base URL."""
    url, stop = services.serve(app)
    yield url
    stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the test process."""
    executable = services.chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab with its own cookies."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
