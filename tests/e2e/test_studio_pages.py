"""The creators' studio and the advertiser page in a real browser (Debian's Chromium).

A creator opens a video's page from the overview and sees its charts; at 390 px every money
cell is inside the viewport; the page is Korean by default and switches to English; an
advertiser sees the spend the API answers. The data: four weeks up to yesterday, so the
ranges (which end today) are full. With ``STREAMSETTLE_SCREENSHOTS=DIR`` the pages are also
saved there at desktop and phone width (how ``docs/screenshots/`` is made).
"""

from __future__ import annotations

import functools
import os
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from streamsettle.db.models import (
    Ad,
    DailyAdSettlement,
    User,
    UserRole,
    Video,
)
from streamsettle.domain.periods import business_date
from streamsettle.runtime import Runtime
from streamsettle.services.identity.passwords import hash_password
from tests.e2e.chromium import console_errors, log_in
from tests.support.settled import add_settled_day

pytestmark = pytest.mark.browser

PASSWORD = "studio-password-1"
CREATOR, ADVERTISER = "minji@studio.test", "brand@studio.test"
TITLES = ["서울 야경 드라이브", "Ramen <b>night</b>", "Morning walk in Busan"]
ADS = ["Coffee 15s", "Bank app"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@functools.cache
def _hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class World:
    today: date
    videos: list[int]
    ads: list[int]


def _load(runtime: Runtime) -> World:
    """70 settled days: views at 1 KRW each, ad views at 10 KRW, split over two ads."""
    today = business_date(datetime.now(UTC), runtime.settings.tz)
    rng = random.Random(17)
    with runtime.db.session() as session:
        creator = User(email=CREATOR, display_name="Minji Kim", password_hash=_hash())
        creator.role_rows = [UserRole(role="creator")]
        brand = User(email=ADVERTISER, display_name="Brand Co", password_hash=_hash())
        brand.role_rows = [UserRole(role="advertiser")]
        session.add_all([creator, brand])
        session.flush()
        videos = [Video(creator_id=creator.id, title=t, duration_seconds=900) for t in TITLES]
        ads = [Ad(owner_id=brand.id, title=t, duration_seconds=15, active=True) for t in ADS]
        session.add_all([*videos, *ads])
        session.flush()
        for back in range(70, 0, -1):
            day = today - timedelta(days=back)
            trend = 1 + (70 - back) / 70
            for rank, video in enumerate(videos):
                views = int(rng.randint(300, 700) * trend) // (rank + 1)
                ad_views = views // 4
                split = [ad_views - ad_views // 3, ad_views // 3]
                keys = {"business_date": day, "video_id": video.id, "creator_id": creator.id}
                add_settled_day(
                    session,
                    keys,
                    views=views,
                    watched=views * rng.randint(150, 420),
                    ad_views=ad_views,
                    video_amount=views,
                    ad_amount=10 * ad_views,
                )
                for ad, count in zip(ads, split, strict=True):
                    session.add(
                        DailyAdSettlement(
                            business_date=day,
                            video_id=video.id,
                            ad_id=ad.id,
                            rate_card_id=1,
                            ad_views=count,
                            ad_views_before=0,
                            amount=10 * count,
                        )
                    )
        return World(today, [v.id for v in videos], [a.id for a in ads])


def _shoot(page: Page, tmp_path: Path, name: str) -> None:
    """The top of the page (down to about two screens on a phone) as a PNG."""
    folder = Path(os.environ.get("STREAMSETTLE_SCREENSHOTS") or tmp_path)
    width = page.viewport_size["width"] if page.viewport_size else 1280
    height = min(
        page.evaluate("document.documentElement.scrollHeight"), 1900 if width < 600 else 1500
    )
    page.screenshot(
        path=str(folder / f"{name}.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": width, "height": height},
    )


def _logged_in(browser: Browser, base: str, email: str, **options: object) -> BrowserContext:
    context = browser.new_context(**options)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(base + "/login")
    log_in(page, email, PASSWORD)
    page.close()
    return context


def _api(base: str, email: str, path: str, **params: str) -> dict[str, int]:
    login = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    token = login.json()["access_token"]
    response = httpx.get(
        base + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, int] = response.json()
    return body


def _won(amount: int) -> str:
    return f"₩{amount:,}"


def test_creator_opens_a_video_from_the_overview_and_sees_its_charts(
    runtime: Runtime, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    world = _load(runtime)
    context = _logged_in(browser, live_server, CREATOR, viewport=DESKTOP)
    page = context.new_page()
    problems = console_errors(page)
    month = {"period": "month", "date": world.today.isoformat()}
    four_weeks = f"from={world.today - timedelta(days=27)}&to={world.today}"
    page.goto(f"{live_server}/studio?{four_weeks}")
    page.wait_for_selector("#studio-earnings[data-drawn=true]")
    _shoot(page, tmp_path, "studio-overview-desktop")
    page.goto(f"{live_server}/studio?period=month&date={world.today}")
    assert page.locator("html").get_attribute("lang") == "ko"

    link = page.locator("[data-testid=table-videos] a", has_text="Ramen <b>night</b>")
    with page.expect_navigation():
        link.click()
    assert page.url.startswith(f"{live_server}/studio/videos/{world.videos[1]}?")
    assert page.inner_text("[data-testid=video-title]") == "Ramen <b>night</b>"
    page.wait_for_selector("#video-views[data-drawn=true]")
    page.wait_for_selector("#video-earnings[data-drawn=true]")
    api = _api(live_server, CREATOR, f"/api/v1/settlements/videos/{world.videos[1]}", **month)
    assert page.inner_text("[data-testid=kpi-earnings-value]") == _won(api["total_amount"])
    assert page.inner_text("[data-testid=kpi-views-value]") == f"{api['views']:,}"
    day_rows = page.locator("[data-testid=table-days] tbody tr")
    assert day_rows.count() == world.today.day  # the month so far, today included
    page.goto(f"{page.url.split('?')[0]}?{four_weeks}")
    page.wait_for_selector("#video-earnings[data-drawn=true]")
    _shoot(page, tmp_path, "studio-video-desktop")
    page.goto(f"{live_server}/studio/videos/{world.videos[1]}?period=month&date={world.today}")

    # Sorting by views, lowest first, then highest first.
    header = page.locator("[data-testid=table-days] th[data-column=views] button")
    header.click()
    cells = page.locator("[data-testid=table-days] td[data-column=views]")
    ascending = [int(v) for v in cells.evaluate_all("cs => cs.map(c => c.dataset.sort)")]
    assert ascending == sorted(ascending)
    header.click()
    descending = [int(v) for v in cells.evaluate_all("cs => cs.map(c => c.dataset.sort)")]
    assert descending == sorted(ascending, reverse=True)
    assert problems == []
    context.close()


def test_korean_by_default_and_english_on_request(
    runtime: Runtime, live_server: str, browser: Browser
) -> None:
    _load(runtime)
    context = _logged_in(browser, live_server, CREATOR, viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/studio")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.inner_text("h1") == "채널 분석"
    assert "조회수" in page.inner_text("[data-testid=kpi-views]")
    with page.expect_navigation():
        page.click("[data-testid=language-switch]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.inner_text("h1") == "Channel analytics"
    page.goto(live_server + "/studio")  # the choice is remembered
    assert page.inner_text("h1") == "Channel analytics"
    assert page.inner_text("[data-testid=language-switch]") == "한국어"
    context.close()


def _inside(page: Page, selector: str, width: int) -> int:
    """How many elements match; fails when one of them is not wholly within 0..width."""
    boxes = page.locator(selector).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"
    )
    for left, right in boxes:
        assert left >= 0 and right <= width, f"{selector} at {left}..{right} leaves 0..{width}"
    return len(boxes)


def test_money_stays_in_view_on_a_phone_and_wide_tables_say_they_scroll(
    runtime: Runtime, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    world = _load(runtime)
    context = _logged_in(browser, live_server, CREATOR, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    problems = console_errors(page)
    page.goto(f"{live_server}/studio?period=month&date={world.today}")
    page.wait_for_selector("#studio-earnings[data-drawn=true]")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    money = "[data-testid=table-videos] td.money"
    assert _inside(page, money, PHONE["width"]) == 4 * len(TITLES)
    assert page.locator("[data-testid=scroll-hint-videos]").is_hidden()
    _shoot(page, tmp_path, "studio-overview-phone")
    page.goto(f"{live_server}/studio/videos/{world.videos[0]}?period=week&date={world.today}")
    page.wait_for_selector("#video-views[data-drawn=true]")
    assert _inside(page, "[data-testid=table-days] td.money", PHONE["width"]) > 0
    _shoot(page, tmp_path, "studio-video-phone")

    # A tablet-sized window: the wide table scrolls, says so, and keeps its earnings in view.
    page.set_viewport_size({"width": 720, "height": 900})
    page.goto(f"{live_server}/studio?period=month&date={world.today}")
    hint = page.locator("[data-testid=scroll-hint-videos]")
    hint.wait_for(state="visible")
    box = page.locator("[data-testid=section-videos] .scroll").bounding_box()
    assert box is not None
    for left, right in page.locator(
        "[data-testid=table-videos] td[data-column=total_amount]"
    ).evaluate_all(
        "els => els.map(e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right])"
    ):
        assert box["x"] <= left and right <= box["x"] + box["width"] + 0.5
    assert problems == []
    context.close()


def test_advertiser_sees_the_spend_the_api_answers(
    runtime: Runtime, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    world = _load(runtime)
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context = _logged_in(browser, live_server, ADVERTISER, viewport=viewport)
        page = context.new_page()
        problems = console_errors(page)
        page.goto(f"{live_server}/advertiser?period=month&date={world.today}&lang=en")
        page.wait_for_selector("#ads-spend[data-drawn=true]")
        total = 0
        for ad_id, title in zip(world.ads, ADS, strict=True):
            api = _api(
                live_server,
                ADVERTISER,
                f"/api/v1/settlements/ads/{ad_id}",
                period="month",
                date=world.today.isoformat(),
            )
            assert api["amount"] > 0
            row = page.locator("[data-testid=table-ads] tbody tr", has_text=title)
            assert row.locator("td[data-column=amount]").inner_text() == _won(api["amount"])
            assert row.locator("td[data-column=ad_views]").inner_text() == f"{api['ad_views']:,}"
            total += api["amount"]
        assert page.inner_text("[data-testid=kpi-spend-value]") == _won(total)
        if name == "phone":
            assert _inside(page, "[data-testid=table-ads] td.money", PHONE["width"]) == len(ADS)
        page.goto(f"{live_server}/advertiser?period=month&date={world.today}&lang=ko")
        page.wait_for_selector("#ads-spend[data-drawn=true]")
        _shoot(page, tmp_path, f"advertiser-{name}")
        assert problems == []
        context.close()
