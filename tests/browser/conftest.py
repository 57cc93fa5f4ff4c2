"""Real-browser tests: headless Chromium (the system's, not Playwright's download) via Playwright."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Opens a fresh Chromium page for the length of a ``with`` block. Ask for it
    first, so a machine without Chromium skips before any server starts.

    A factory, not a long-lived page: Playwright's sync API leaves its event loop
    marked as running in this thread while it is open, and Django then refuses
    every ORM call (SynchronousOnlyOperation). So: drive the browser inside the
    block, touch the database outside it.
    """
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")

    @contextmanager
    def open_page(*, locale="zh-CN", viewport=None, mobile=False):
        """``viewport`` a {"width", "height"} dict (a desk's 1280 × 900 unless given);
        ``mobile`` makes it a phone: the page's meta viewport honoured, touch events."""
        options = {"locale": locale, "viewport": viewport or {"width": 1280, "height": 900}}
        if mobile:
            options.update(is_mobile=True, has_touch=True)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
            try:
                context = browser.new_context(**options)
                page = context.new_page()
                page.set_default_timeout(15_000)
                page.set_default_navigation_timeout(15_000)
                page.problems = []  # script errors and failed requests, for the test to assert on
                page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
                page.on("requestfailed", lambda request: page.problems.append(
                    f"request failed: {request.url} {request.failure}"))
                page.on("response", lambda response: response.status >= 400 and page.problems.append(
                    f"HTTP {response.status}: {response.url}"))
                yield page
            finally:
                browser.close()

    return open_page


def sign_in(page, base: str, username: str, password: str, *, next_path: str = "") -> None:
    """The sign-in page, then the second-factor page for the roles that have one (the
    test world's authenticators have known keys: ``tests.two_factor``)."""
    from tests.two_factor import next_code

    page.goto(f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/two-factor/" in page.url:
        page.fill("#id_code", next_code(username))
        page.click("form.stacked button[type=submit]")
        page.wait_for_url(lambda url: "/accounts/two-factor/" not in url)
