"""``/docs`` and ``/redoc`` render every operation with the network cut off."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.chromium import Offline, chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _operations(base: str) -> list[tuple[str, str]]:
    document = httpx.get(f"{base}/openapi.json", timeout=10).json()
    return [(m.upper(), p) for p, ops in document["paths"].items() for m in ops]


def test_swagger_ui_and_redoc_render_without_internet(live_server: str, browser: Browser) -> None:
    operations = _operations(live_server)
    assert len(operations) > 20
    for path in ("/docs", "/redoc"):
        answer = httpx.get(live_server + path, timeout=10)
        assert "https://" not in answer.text and "http://" not in answer.text, answer.text
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    offline = Offline()
    context.route("**/*", offline)
    problems: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    blocks = page.locator(".opblock-summary")
    assert blocks.count() == len(operations)
    shown = {
        (
            blocks.nth(i).locator(".opblock-summary-method").inner_text().strip(),
            blocks.nth(i).locator(".opblock-summary-path").get_attribute("data-path"),
        )
        for i in range(blocks.count())
    }
    assert shown == set(operations)
    assert "streamsettle" in page.locator(".info .title").inner_text()

    page.goto(f"{live_server}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=20_000)
    assert page.locator("[data-section-id^='operation/']").count() == len(operations)
    assert page.get_by_text("No, an invalid, an expired or a revoked bearer token").count() > 0

    assert offline.blocked == []
    assert problems == []
    context.close()
