"""The settlement page in a real browser: Debian's Chromium driven by Playwright.

Logs in as a creator, switches periods, checks that the page shows the numbers the JSON API
gives, downloads the CSV and saves screenshots. Fails (never skips) without Chromium.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from streamsettle.db.models import User, UserRole, Video
from streamsettle.runtime import Runtime
from streamsettle.services.identity.passwords import hash_password
from tests.e2e.chromium import console_errors, log_in, submit
from tests.support.settled import add_settled_day

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "maker@e2e.test", "e2e-password-1"

# (date, video, views, watched_seconds, video_amount, ad_views, ad_amount)
ROWS = [
    ("2026-11-29", "Sunrise", 1200, 90000, 1200, 300, 3000),
    ("2026-11-30", "Sunrise", 1500, 120000, 1500, 420, 4200),
    ("2026-11-30", "Ramen <b>night</b>", 900, 45000, 900, 100, 1000),
    ("2026-12-01", "Ramen <b>night</b>", 2500, 200000, 2500, 640, 6400),
    ("2026-12-02", "Sunrise", 700, 30000, 700, 0, 0),
]


@functools.cache
def _hash() -> str:
    return hash_password(PASSWORD)


def _load(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        creator = User(email=EMAIL, display_name="Maker", password_hash=_hash())
        creator.role_rows = [UserRole(role="creator")]
        session.add(creator)
        session.flush()
        videos: dict[str, int] = {}
        for title in sorted({row[1] for row in ROWS}):
            video = Video(creator_id=creator.id, title=title, duration_seconds=1800)
            session.add(video)
            session.flush()
            videos[title] = video.id
        for day, title, views, watched, video_amount, ad_views, ad_amount in ROWS:
            keys = {
                "business_date": date.fromisoformat(day),
                "video_id": videos[title],
                "creator_id": creator.id,
            }
            add_settled_day(
                session,
                keys,
                views=views,
                watched=watched,
                ad_views=ad_views,
                video_amount=video_amount,
                ad_amount=ad_amount,
            )


def _krw(amount: int) -> str:
    return f"₩{amount:,}"


def _api(base: str, token: str, path: str, **params: str) -> httpx.Response:
    response = httpx.get(
        base + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response


def _show(page: Page, period: str, day: str) -> None:
    page.select_option("[data-testid=period-select]", period)
    submit(
        page, "[data-testid=period-picker] button[type=submit]", {"[data-testid=date-input]": day}
    )


def _assert_totals_match(page: Page, body: dict[str, int]) -> None:
    assert page.inner_text("[data-testid=total-amount]") == _krw(body["total_amount"])
    assert page.inner_text("[data-testid=video-amount]") == _krw(body["video_amount"])
    assert page.inner_text("[data-testid=ad-amount]") == _krw(body["ad_amount"])
    assert page.inner_text("[data-testid=views]") == f"{body['views']:,}"


def test_creator_logs_in_switches_periods_and_downloads_the_csv(
    runtime: Runtime, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    _load(runtime)
    login = httpx.post(
        f"{live_server}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]

    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "streamsettle_lang", "value": "en", "url": live_server}])
    page = context.new_page()
    problems = console_errors(page)

    page.goto(live_server + "/")
    assert page.url == live_server + "/login"
    log_in(page, EMAIL, PASSWORD)
    assert page.url == live_server + "/"
    assert page.inner_text("[data-testid=user-name]") == "Maker"

    # The ISO week of 2026-12-02 straddles November and December.
    _show(page, "week", "2026-12-02")
    assert page.inner_text("[data-testid=range]") == "Week: 2026-11-30 to 2026-12-06"
    week = _api(
        live_server, token, "/api/v1/settlements/creators/me", period="week", date="2026-12-02"
    ).json()
    assert week["total_amount"] == 1500 + 4200 + 900 + 1000 + 2500 + 6400 + 700
    _assert_totals_match(page, week)
    page.wait_for_selector("#creator-chart[data-drawn=true]")
    rows = page.locator("[data-testid=creator-videos] tbody tr")
    assert rows.count() == len(week["videos"])
    for i, line in enumerate(week["videos"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[0] == line["title"]
        assert cells[-1] == _krw(line["total_amount"])
    top = _api(
        live_server,
        token,
        "/api/v1/stats/top-videos",
        metric="views",
        period="week",
        date="2026-12-02",
    ).json()
    top_titles = page.locator("[data-testid=creator-top-views] tbody td:nth-child(2)")
    assert top_titles.all_inner_texts() == [item["title"] for item in top["items"]]
    page.screenshot(path=str(tmp_path / "settlement-week.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("[data-testid=csv-download]")
    download = download_info.value
    assert download.suggested_filename.endswith("-2026-11-30-2026-12-06.csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    api_csv = _api(
        live_server, token, "/api/v1/settlements/creators/me.csv", period="week", date="2026-12-02"
    )
    assert saved.read_text(encoding="utf-8") == api_csv.text
    assert len(api_csv.text.splitlines()) == 1 + 4

    _show(page, "month", "2026-11-15")
    assert page.inner_text("[data-testid=range]") == "Month: 2026-11-01 to 2026-11-30"
    november = _api(
        live_server, token, "/api/v1/settlements/creators/me", period="month", date="2026-11-15"
    ).json()
    assert november["total_amount"] == 1200 + 3000 + 1500 + 4200 + 900 + 1000
    _assert_totals_match(page, november)

    with page.expect_navigation():
        page.click("[data-testid=next]")
    assert page.inner_text("[data-testid=range]") == "Month: 2026-12-01 to 2026-12-31"
    december = _api(
        live_server, token, "/api/v1/settlements/creators/me", period="month", date="2026-12-01"
    ).json()
    _assert_totals_match(page, december)

    _show(page, "day", "2026-12-03")
    assert page.inner_text("[data-testid=total-amount]") == "₩0"
    assert "No settled days in this period yet" in page.inner_text("[data-testid=empty-state]")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(context.cookies())  # type: ignore[arg-type]
    small = phone.new_page()
    small.goto(live_server + "/?period=week&date=2026-12-02")
    assert small.inner_text("[data-testid=total-amount]") == _krw(week["total_amount"])
    width = small.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    small.screenshot(path=str(tmp_path / "settlement-phone.png"), full_page=True)
    phone.close()

    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    assert page.url == live_server + "/login"
    assert problems == []
    context.close()
