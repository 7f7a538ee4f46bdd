"""The admin console in a real browser (Debian's Chromium, no internet): an admin uploads
an import and reads its report, runs a backfill and watches it complete, adds a retroactive
rate card and re-runs the days it re-prices (the amounts change by the exact figure), places
an ad on a video and opens a creator's page read-only. Pages are saved as screenshots at
desktop and phone width (into ``STREAMSETTLE_SCREENSHOTS`` when set, for docs/screenshots).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page

from streamsettle.db.models import Video
from streamsettle.runtime import Runtime
from streamsettle.services import catalogue
from streamsettle.services.identity import accounts
from tests.e2e.chromium import Offline, chromium, console_errors, log_in, submit

pytestmark = pytest.mark.browser

PASSWORD = "admin-e2e-password"
DAYS = ["2026-10-06", "2026-10-07", "2026-10-08"]
VIEWS = {"2026-10-06": 30, "2026-10-07": 40, "2026-10-08": 50}
# The default rate card: 1 KRW per view and 10 KRW per ad view below 100,000; every log
# below is a counted view that also counts an ad view.
PER_VIEW, PER_AD_VIEW = 1, 10
NEW_PER_VIEW, NEW_PER_AD_VIEW = 2, 20


@dataclass(frozen=True)
class World:
    admin_email: str
    creator_id: int
    long_video: int
    short_video: int
    ads: dict[str, int]


def _load(runtime: Runtime) -> World:
    with runtime.db.session() as session:
        admin, creator, brand = (
            accounts.create_user(
                session, email=email, password=PASSWORD, display_name=name, roles=[role]
            )
            for email, name, role in (
                ("root@e2e.test", "Root", "admin"),
                ("maker@e2e.test", "Maker <Kim>", "creator"),
                ("brand@e2e.test", "Brand", "advertiser"),
            )
        )
        ads = {
            title: catalogue.create_ad(session, brand, title=title, duration_seconds=15).id
            for title in ("Coffee", "Sneakers")
        }
        long_video = catalogue.create_video(
            session, creator, title="Hiking <b>Bukhansan</b>", duration_seconds=1800
        )
        short_video = catalogue.create_video(session, creator, title="Tea", duration_seconds=600)
        return World(admin.email, creator.id, long_video.id, short_video.id, ads)


def _ndjson(world: World) -> str:
    """One counted view with one ad view per line (distinct addresses, minutes apart), and
    two lines to reject: line 2 is not JSON, the last names an unknown video."""
    lines: list[str] = []
    for day, count in VIEWS.items():
        for i in range(count):
            start = f"{day}T{10 + i // 60:02d}:{i % 60:02d}:00+09:00"
            end = f"{day}T{10 + i // 60:02d}:{i % 60:02d}:30+09:00"
            line = {
                "session_id": f"00000000-0000-4000-8000-{len(lines) + 1:012d}",
                "video_id": world.long_video,
                "viewer_id": None,
                "ip": f"198.51.100.{len(lines) % 250 + 1}",
                "user_agent": "e2e",
                "started_at": start,
                "ended_at": end,
                "start_position_seconds": 290,
                "end_position_seconds": 320,
                "watched_seconds": 30,
                "ad_slot_positions": [300],
            }
            lines.append(json.dumps(line))
    lines.insert(1, "this is not json")
    unknown = json.loads(lines[0]) | {"session_id": "00000000-0000-4000-8000-999999999999"}
    lines.append(json.dumps(unknown | {"video_id": 9_999_999}))
    return "\n".join(lines) + "\n"


def _krw(amount: int) -> str:
    return f"₩{amount:,}"


def _expected_total(per_view: dict[str, tuple[int, int]]) -> int:
    return sum(VIEWS[d] * (v + a) for d, (v, a) in per_view.items())


class Shots:
    """Each page at desktop width and at 390 px (where it must not scroll sideways), taken
    from the same page so that the answer to a form is kept."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.directory / f"admin-{name}.png"), full_page=True)
        desktop = page.viewport_size
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name} scrolls sideways on a phone ({width}px)"
        for money in page.locator("th.money").all():  # amounts are never scrolled away
            box = money.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 390, (name, box)
        page.screenshot(path=str(self.directory / f"admin-{name}-phone.png"), full_page=True)
        assert desktop is not None
        page.set_viewport_size(desktop)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _wait_for_backfill(page: Page, days: int) -> None:
    page.wait_for_selector("[data-testid=progress][data-finished=true]", timeout=60_000)
    summary = page.inner_text("[data-testid=progress-summary]")
    assert summary == f"done: {days} of {days} day(s) settled", summary
    statuses = page.locator("[data-testid=progress-days] td.status").all_inner_texts()
    assert statuses == ["completed"] * days


def _week_total(page: Page, base: str) -> str:
    page.goto(f"{base}/admin?period=week&date={DAYS[1]}")
    return page.inner_text("[data-testid=total-amount]")


def test_admin_imports_backfills_reprices_and_places_ads(
    runtime: Runtime, live_server: str, browser: Browser, tmp_path: Path
) -> None:
    world = _load(runtime)
    shots_dir = Path(os.environ.get("STREAMSETTLE_SCREENSHOTS") or tmp_path / "shots")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    offline = Offline()
    context.route("**/*", offline)
    shots = Shots(shots_dir)
    page = context.new_page()
    problems = console_errors(page)

    page.goto(f"{live_server}/admin")
    assert page.url == f"{live_server}/login"
    log_in(page, world.admin_email, PASSWORD)
    page.goto(f"{live_server}/admin")
    assert page.locator("[data-testid=admin-nav] a").all_inner_texts() == [
        "Overview",
        "Batch",
        "Import",
        "Rate cards",
        "Ads",
        "Creators",
    ]

    # Import: the per-line report.
    upload = tmp_path / "watch-logs.ndjson"
    upload.write_text(_ndjson(world))
    page.click("[data-testid=admin-nav] >> text=Import")
    page.set_input_files("[data-testid=import-file]", str(upload))
    with page.expect_navigation():
        page.click("[data-testid=import-start]")
    valid = sum(VIEWS.values())
    assert page.inner_text("[data-testid=import-lines]") == f"{valid + 2:,}"
    assert page.inner_text("[data-testid=import-inserted]") == f"{valid:,}"
    assert page.inner_text("[data-testid=import-rejected]") == "2"
    rejections = page.locator("[data-testid=import-rejections] tbody tr")
    assert rejections.nth(0).locator("td").all_inner_texts()[0] == "2"
    assert "invalid JSON" in rejections.nth(0).inner_text()
    assert rejections.nth(1).locator("td").all_inner_texts() == [
        str(valid + 2),
        "unknown video 9999999",
    ]
    shots.take(page, "import")

    # Backfill: three days in the background, followed until complete.
    page.click("[data-testid=admin-nav] >> text=Batch")
    dates = {"[data-testid=batch-from]": DAYS[0], "[data-testid=batch-to]": DAYS[-1]}
    submit(page, "[data-testid=batch-start]", dates)
    _wait_for_backfill(page, 3)
    shots.take(page, "batch")
    before = _expected_total({d: (PER_VIEW, PER_AD_VIEW) for d in DAYS})
    assert before == 120 * 11
    assert _week_total(page, live_server) == _krw(before)
    top = page.locator("[data-testid=top-views] tbody tr").first.locator("td").all_inner_texts()
    assert top[1:4] == ["Hiking <b>Bukhansan</b>", "Maker <Kim>", f"{valid:,}"]
    assert top[-1] == _krw(before)  # the video's settled total: its views and its ads
    ads = page.locator("[data-testid=top-ads] tbody tr").first.locator("td").all_inner_texts()
    assert ads[2:] == ["Brand", f"{valid:,}", _krw(valid * PER_AD_VIEW)]
    shots.take(page, "overview")

    # A rate card from the second day: it re-prices two settled days, re-run from the page.
    page.click("[data-testid=admin-nav] >> text=Rate cards")
    page.fill("[data-testid=card-effective-from]", DAYS[1])
    for kind, price in (("video", NEW_PER_VIEW), ("ad", NEW_PER_AD_VIEW)):
        inputs = page.locator(f"[data-testid=tiers-{kind}] input")
        for i in range(inputs.count()):
            inputs.nth(i).fill("")
        inputs.nth(0).fill("0")
        inputs.nth(1).fill(str(price))
    with page.expect_navigation():
        page.click("[data-testid=card-add]")
    assert page.inner_text("[data-testid=repriced-days]") == ", ".join(DAYS[1:])
    shots.take(page, "rate-cards")
    assert _week_total(page, live_server) == _krw(before)  # not re-priced until re-run
    page.go_back()
    with page.expect_navigation():
        page.click("[data-testid=rerun-repriced]")
    _wait_for_backfill(page, 2)
    after = _expected_total(
        {DAYS[0]: (PER_VIEW, PER_AD_VIEW)} | {d: (NEW_PER_VIEW, NEW_PER_AD_VIEW) for d in DAYS[1:]}
    )
    assert after == 30 * 11 + 90 * 22
    assert _week_total(page, live_server) == _krw(after)
    assert "Every settled day is up to date." in page.inner_text("[data-testid=needing-rerun]")
    page.goto(f"{live_server}/admin/rate-cards")
    assert "none" in page.locator("[data-testid=cards] tbody tr").first.inner_text()

    # Place an ad on the short video's new slot.
    page.click("[data-testid=admin-nav] >> text=Ads")
    with page.expect_navigation():
        page.click(f"[data-testid=place-ads-{world.short_video}]")
    page.locator("[data-testid=new-slot-position]").first.fill("450")
    page.locator("[data-testid=new-slot-ad]").first.select_option(str(world.ads["Sneakers"]))
    with page.expect_navigation():
        page.click("[data-testid=slots-save]")
    assert page.is_visible("[data-testid=slots-saved]")
    shots.take(page, "ad-slots")
    slots = httpx.get(f"{live_server}/api/v1/videos/{world.short_video}", timeout=10).json()
    placed = {(s["position_seconds"], s["ad_id"]) for s in slots["ad_slots"]}
    assert (450, world.ads["Sneakers"]) in placed and len(placed) == 2
    with runtime.db.session() as session:
        video = session.get(Video, world.short_video)
        assert video is not None
        assert [s.position_seconds for s in video.ad_slots] == [300, 450]

    # A refused placement (outside the video) changes nothing and says why (a 422 page).
    assert problems == []
    page.locator("[data-testid=new-slot-position]").first.fill("601")
    with page.expect_navigation():
        page.click("[data-testid=slots-save]")
    assert "position 601 is outside the video" in page.inner_text("[data-testid=problem]")
    assert [p for p in problems if "status of 422" not in p] == []
    problems.clear()

    # The creator's own page, read-only, clearly labelled.
    page.click("[data-testid=admin-nav] >> text=Creators")
    with page.expect_navigation():
        page.click(f"[data-testid=open-creator-{world.creator_id}]")
    assert "Maker <Kim>" in page.inner_text("[data-testid=viewing-as]")
    assert "read-only" in page.inner_text("[data-testid=viewing-as]")
    page.goto(f"{live_server}/admin/creators/{world.creator_id}?period=week&date={DAYS[1]}")
    assert page.inner_text("[data-testid=total-amount]") == _krw(after)
    page.wait_for_selector("#creator-chart[data-drawn=true]")
    shots.take(page, "creator")

    assert offline.blocked == []
    assert problems == []
    context.close()
