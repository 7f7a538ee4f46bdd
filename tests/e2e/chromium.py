"""Debian's Chromium under Playwright, with every request to another host refused and
recorded: the pages under test must work without internet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@contextmanager
def chromium() -> Iterator[Browser]:
    """The browser; fails (never skips) without Chromium."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Offline:
    """A route handler that lets loopback requests through and aborts every other one."""

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def __call__(self, route: Route) -> None:
        url = route.request.url
        scheme, host = urlsplit(url).scheme, urlsplit(url).hostname
        if scheme in ("data", "blob") or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")


def console_errors(page: Page) -> list[str]:
    """The page's console errors and uncaught exceptions, collected as they happen."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def submit(page: Page, button: str, fields: dict[str, str]) -> None:
    """Fill the ``fields`` (selector: text), click ``button`` and wait for where it leads."""
    for selector, text in fields.items():
        page.fill(selector, text)
    with page.expect_navigation():
        page.click(button)


def log_in(page: Page, email: str, password: str) -> None:
    """Submit the login form the page shows."""
    fields = {"input[name=email]": email, "input[name=password]": password}
    submit(page, "form[action='/login'] button[type=submit]", fields)
