"""The statements on the creators' page in a real browser (Debian's Chromium, Playwright):
a closed month, the next month's adjustment, the printable statement and its CSV, and the
drill-down from a video's day to its tier breakdown and watch logs, all checked against
the JSON API. Fails (never skips) without Chromium."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from streamsettle.db.models import User
from streamsettle.runtime import Runtime
from streamsettle.services.identity.passwords import hash_password
from streamsettle.services.statements import close_month
from tests.e2e.chromium import console_errors, log_in
from tests.integration.batch.batch_world import World
from tests.integration.statements.ledger import settle

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "statements@e2e.test", "e2e-password-2"
OCT2 = date(2026, 10, 2)


def _load(runtime: Runtime) -> tuple[int, int]:
    """A creator with a video and an ad: October closed, then late logs for October 2."""
    world = World(runtime)
    creator = world.user("creator")
    with runtime.db.session() as session:
        user = session.get(User, creator)
        assert user is not None
        user.email, user.display_name = EMAIL, "Maker <i>"
        user.password_hash = hash_password(PASSWORD)
    video = world.video(creator)
    ad = world.ad(world.user("advertiser"))
    for i in range(5):
        slots: dict[int, int | None] = {300: ad} if i < 3 else {}
        world.log(video, world.at(OCT2, f"09:0{i}:00"), ip=f"10.3.0.{i}", slots=slots)
    world.log(video, world.at(OCT2, "09:04:10"), ip="10.3.0.4")  # a repeat of the last one
    world.log(video, world.at(OCT2, "11:00:00"), viewer=creator, ip="10.3.9.9")  # self view
    settle(world, date(2026, 10, 1), date(2026, 10, 31))
    close_month(runtime, date(2026, 10, 1))
    world.log(video, world.at(OCT2, "20:00:00"), ip="10.3.0.77")  # arrives late
    settle(world, OCT2, date(2026, 11, 30))
    return creator, video


def _api(base: str, token: str, path: str, **params: str) -> Any:
    response = httpx.get(
        base + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json() if "json" in response.headers["content-type"] else response.text


def _krw(amount: int) -> str:
    return f"₩{amount:,}"


def _assert_balance(page: Page, statement: dict[str, Any]) -> None:
    for testid, key in (
        ("carried-in", "carried_in"),
        ("statement-total", "total_amount"),
        ("adjustments-amount", "adjustments_amount"),
        ("payable", "payable_amount"),
        ("paid-out", "paid_out"),
        ("carried-out", "carried_out"),
    ):
        assert page.inner_text(f"[data-testid={testid}]") == _krw(statement[key]), testid


def test_statement_and_drill_down(
    runtime: Runtime, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    _creator, video = _load(runtime)
    token = httpx.post(
        f"{live_server}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}
    ).json()["access_token"]
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "streamsettle_lang", "value": "en", "url": live_server}])
    page = context.new_page()
    problems = console_errors(page)

    page.goto(live_server + "/login")
    log_in(page, EMAIL, PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=statements-link]")
    assert page.inner_text("[data-testid=user-name]") == "Maker <i>"  # escaped, shown as text

    october = _api(live_server, token, "/api/v1/statements/creators/me", month="2026-10")
    assert october["status"] == "closed"
    assert page.inner_text("[data-testid=statement-title]").startswith("Statement 2026-10")
    assert page.inner_text("[data-testid=statement-status]") == "closed"
    _assert_balance(page, october)
    cells = page.locator("[data-testid=statement-lines] tbody tr[data-video]").all()
    assert len(cells) == len(october["lines"]) == 1
    assert cells[0].locator("td").last.inner_text() == _krw(october["lines"][0]["total_amount"])
    progress = page.get_attribute("[data-testid=threshold-progress]", "value")
    assert progress == str(min(100, max(0, october["payable_amount"] * 100 // 10_000)))
    page.screenshot(path=str(tmp_path / "statement-october.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("[data-testid=statement-csv]")
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(str(saved))
    api_csv = _api(live_server, token, "/api/v1/statements/creators/me.csv", month="2026-10")
    assert saved.read_text(encoding="utf-8") == api_csv

    with page.expect_navigation():
        page.click("[data-testid=next-month]")
    november = _api(live_server, token, "/api/v1/statements/creators/me", month="2026-11")
    assert november["status"] == "open" and len(november["adjustments"]) == 1
    _assert_balance(page, november)
    (adjustment,) = november["adjustments"]
    row = page.locator("[data-testid=statement-adjustments] tbody tr").all_inner_texts()
    assert row == [
        "\t".join(
            [
                "2026-10",
                "2026-10-02",
                str(video),
                _krw(adjustment["previous_amount"]),
                _krw(adjustment["new_amount"]),
                _krw(adjustment["amount"]),
            ]
        )
    ]

    printable = context.new_page()
    printable.goto(f"{live_server}/statements?month=2026-10&view=print")
    assert printable.inner_text("[data-testid=statement-title]") == (
        "streamsettle statement 2026-10 (closed)"
    )
    _assert_balance(printable, october)
    printable.pdf(path=str(tmp_path / "statement-october.pdf"))
    printable.close()

    page.goto(f"{live_server}/statements?month=2026-10")
    page.click("[data-testid=statement-lines] details summary")
    with page.expect_navigation():
        page.click("[data-testid=day-link]")
    breakdown = _api(
        live_server, token, f"/api/v1/settlements/videos/{video}/days/2026-10-02/breakdown"
    )
    assert page.inner_text("[data-testid=day-total]") == _krw(breakdown["total_amount"])
    assert page.inner_text("[data-testid=video-tiers-amount]") == _krw(breakdown["video"]["amount"])
    tiers = page.locator("[data-testid=video-tiers] tbody tr").all()
    assert [t.locator("td").nth(2).inner_text() for t in tiers] == [
        f"{t['views']:,}" for t in breakdown["video"]["tiers"]
    ]
    logs = _api(live_server, token, f"/api/v1/settlements/videos/{video}/days/2026-10-02/logs")
    shown = page.locator("[data-testid=watch-logs] tbody tr")
    assert [shown.nth(i).get_attribute("data-class") for i in range(shown.count())] == [
        item["class"] for item in logs["items"]
    ]
    assert sorted(item["class"] for item in logs["items"]) == ["repeat", "self"] + ["view"] * 6
    page.screenshot(path=str(tmp_path / "statement-drill-down.png"), full_page=True)
    assert problems == []
    context.close()
