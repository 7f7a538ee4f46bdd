"""The statements API and the explanations of a daily settlement, over HTTP, checked
against the settled amounts: the breakdown and the lineage both give them back to the won."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from streamsettle.domain.money import truncate_krw
from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import issue_access_token
from tests.integration.batch.batch_world import World
from tests.integration.statements.ledger import settle
from tests.support.auth_helpers import bearer, quick_user_headers

OCT1, OCT2 = date(2026, 10, 1), date(2026, 10, 2)
MAX_ID = 2**63 - 1


class Scene:
    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        world = self.world = World(runtime)
        self.client = client
        self.creator, self.other = world.user("creator"), world.user("creator")
        self.ad = world.ad(world.user("advertiser"))
        self.video = world.video(self.creator)
        # Before the day: 99,998 views and 99,995 ad views, so the day crosses a tier.
        world.stats(OCT1, self.video, 99_998, creator=self.creator)
        world.ad_stats(OCT1, self.video, self.ad, 99_995)
        slot: dict[int, int | None] = {300: self.ad}
        self.first = world.log(self.video, world.at(OCT2, "09:00:00"), ip="10.0.0.1", slots=slot)
        self.repeat = world.log(self.video, world.at(OCT2, "09:00:10"), ip="10.0.0.1", slots=slot)
        self.self_view = world.log(
            self.video, world.at(OCT2, "09:05:00"), viewer=self.creator, ip="10.0.0.9"
        )
        for i in range(2, 7):  # five more counted views, the first four with the ad
            world.log(
                self.video,
                world.at(OCT2, f"10:0{i}:00"),
                ip=f"10.0.0.{i + 10}",
                slots=slot if i < 6 else None,
            )
        settle(world, OCT1, date(2026, 10, 31))
        self.headers = self._token(self.creator, ["creator"])
        self.other_headers = self._token(self.other, ["creator"])
        self.admin = quick_user_headers(runtime, "admin@example.com", ["admin"])

    def _token(self, user: int, roles: list[str]) -> dict[str, str]:
        token, _ = issue_access_token(self.world.runtime.settings, user, roles)
        return bearer(token)

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=headers or self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def status(self, method: str, path: str, headers: dict[str, str] | None, **params: Any) -> int:
        response = self.client.request(method, path, params=params, headers=headers or {})
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "details"}
        return response.status_code


@pytest.fixture
def scene(runtime: Runtime, client: TestClient) -> Scene:
    return Scene(runtime, client)


def _day_settlement(scene: Scene) -> dict[str, Any]:
    body = scene.get(
        f"/api/v1/settlements/videos/{scene.video}", period="day", date=OCT2.isoformat()
    )
    (day,) = body["days"]
    return dict(day)


def test_breakdown_gives_back_the_settled_amounts(scene: Scene) -> None:
    settled = _day_settlement(scene)
    body = scene.get(f"/api/v1/settlements/videos/{scene.video}/days/2026-10-02/breakdown")
    # Views 99,999 .. 100,004: one at 1.0, five at 1.1 = 6.5. Five counted sessions reached
    # the ad (the repeat's slot does not count): 99,996 .. 100,000, four at 10, one at 12.
    assert body["video"] == {
        "views_before": 99_998,
        "views": 6,
        "tiers": [
            {"from_views": 0, "unit_price": "1", "views": 1, "exact_amount": "1"},
            {"from_views": 100_000, "unit_price": "1.1", "views": 5, "exact_amount": "5.5"},
        ],
        "exact_amount": "6.5",
        "amount": 6,
    }
    (ad,) = body["ads"]
    assert ad["ad_id"] == scene.ad
    assert [(t["from_views"], t["views"]) for t in ad["tiers"]] == [(0, 4), (100_000, 1)]
    assert ad["exact_amount"] == "52" and ad["amount"] == 52
    assert body["video"]["amount"] == settled["video_amount"]
    assert ad["amount"] == settled["ad_amount"]
    assert body["total_amount"] == settled["total_amount"]
    for part in (body["video"], ad):
        exact = sum((Decimal(t["exact_amount"]) for t in part["tiers"]), Decimal())
        assert exact == Decimal(part["exact_amount"])
        assert truncate_krw(exact) == part["amount"]
        assert all(Decimal(t["unit_price"]) * t["views"] == Decimal(t["exact_amount"])
                   for t in part["tiers"])  # fmt: skip


def test_lineage_pages_through_every_log_and_prices_the_views(scene: Scene) -> None:
    path = f"/api/v1/settlements/videos/{scene.video}/days/2026-10-02/logs"
    items: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = scene.get(path, **params)
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(items) == 8
    by_id = {item["session_id"]: item for item in items}
    assert by_id[str(scene.repeat)]["class"] == "repeat"
    assert by_id[str(scene.repeat)]["repeat_of"] == str(scene.first)
    assert by_id[str(scene.self_view)]["class"] == "self"
    views = [item for item in items if item["class"] == "view"]
    assert [v["view_number"] for v in views] == list(range(99_999, 100_005))
    assert [v["tier_from_views"] for v in views] == [0] + [100_000] * 5
    assert all(i["view_number"] is None for i in items if i["class"] != "view")
    prices = {0: Decimal("1.0"), 100_000: Decimal("1.1")}
    recomputed = truncate_krw(sum((prices[v["tier_from_views"]] for v in views), Decimal()))
    assert recomputed == _day_settlement(scene)["video_amount"]


def test_explanations_refuse_what_they_cannot_show(scene: Scene) -> None:
    base = f"/api/v1/settlements/videos/{scene.video}/days"
    for tail in ("breakdown", "logs"):
        assert scene.status("GET", f"{base}/2026-10-02/{tail}", scene.admin) == 200
        assert scene.status("GET", f"{base}/2026-10-02/{tail}", scene.other_headers) == 403
        assert scene.status("GET", f"{base}/2026-10-02/{tail}", None) == 401
        for day in ("2026-10-03", "0001-01-01", "9999-12-31"):
            assert scene.status("GET", f"{base}/{day}/{tail}", scene.headers) == 404
        assert scene.status("GET", f"{base}/2026-02-30/{tail}", scene.headers) == 422
        for video in (MAX_ID, MAX_ID + 1, 0):
            path = f"/api/v1/settlements/videos/{video}/days/2026-10-02/{tail}"
            assert scene.status("GET", path, scene.headers) == (404 if video == MAX_ID else 422)
    logs = f"{base}/2026-10-02/logs"
    edges = [  # instants that exist in their own offset but not in UTC
        base64.urlsafe_b64encode(f"{instant}|{'0' * 32}".encode()).decode()
        for instant in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
    ]
    for cursor in ("nope", "MjAyNi0xMC0wMlQwMDowMDowMHx4", "A" * 201, *edges):
        assert scene.status("GET", logs, scene.headers, cursor=cursor) == 422
    assert scene.status("GET", logs, scene.headers, limit=0) == 422


def test_statements_over_http(scene: Scene) -> None:
    me = "/api/v1/statements/creators/me"
    open_oct = scene.get(me, month="2026-10")
    assert open_oct["status"] == "open"
    assert open_oct["total_amount"] == _day_settlement(scene)["total_amount"] == 58
    close = scene.client.post("/api/v1/admin/statements/2026-10/close", headers=scene.admin)
    assert close.status_code == 200, close.text
    assert close.json() == {"month": "2026-10", "statements": 1, "closed_now": True}
    again = scene.client.post("/api/v1/admin/statements/2026-10/close", headers=scene.admin)
    assert again.json() == {"month": "2026-10", "statements": 1, "closed_now": False}
    closed = scene.get(me, month="2026-10")
    assert closed["status"] == "closed"
    assert {k: closed[k] for k in ("carried_in", "total_amount", "adjustments_amount",
                                   "payable_amount", "paid_out", "carried_out")} == {
        "carried_in": 0, "total_amount": 58, "adjustments_amount": 0,
        "payable_amount": 58, "paid_out": 0, "carried_out": 58,
    }  # fmt: skip
    assert closed["lines"] == [
        {"video_id": scene.video, "title": "v", "views": 6, "ad_views": 5,
         "video_amount": 6, "ad_amount": 52, "total_amount": 58}
    ]  # fmt: skip
    nov = scene.get(me, month="2026-11")
    assert (nov["status"], nov["carried_in"], nov["payable_amount"]) == ("open", 58, 58)

    text = scene.client.get(me + ".csv", params={"month": "2026-10"}, headers=scene.headers)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert [(r["row"], r["amount"]) for r in rows if r["row"] != "line"] == [
        ("carried_in", "0"), ("total_amount", "58"), ("adjustments_amount", "0"),
        ("payable_amount", "58"), ("paid_out", "0"), ("carried_out", "58"),
    ]  # fmt: skip

    listed = scene.get("/api/v1/admin/statements", scene.admin, month="2026-10")
    assert listed["status"] == "closed" and [s["creator_id"] for s in listed["items"]] == [
        scene.creator
    ]
    one = scene.get(
        "/api/v1/admin/statements", scene.admin, month="2026-10", creator_id=scene.other
    )
    assert one["items"] == []
    assert scene.get(me, scene.other_headers, month="2026-10")["lines"] == []


def test_statements_input_edges(scene: Scene) -> None:
    me = "/api/v1/statements/creators/me"
    for month in ("0001-01", "9999-12"):
        assert scene.status("GET", me, scene.headers, month=month) == 200
        assert scene.status("GET", "/api/v1/admin/statements", scene.admin, month=month) == 200
    for month in ("2026-13", "0000-01", "2026-1", "2026-10-01", ""):
        assert scene.status("GET", me, scene.headers, month=month) == 422
    assert scene.status("GET", me, scene.headers) == 422
    assert scene.status("GET", me, scene.admin, month="2026-10") == 200
    assert scene.status("GET", "/api/v1/admin/statements", scene.headers, month="2026-10") == 403
    close = "/api/v1/admin/statements/{}/close"
    assert scene.status("POST", close.format("2026-10"), scene.headers) == 403
    assert scene.status("POST", close.format("2026-10"), None) == 401
    for month in ("9999-12", "0001-01", "2026-12"):
        assert scene.status("POST", close.format(month), scene.admin) == 409
    assert scene.status("POST", close.format("2026-00"), scene.admin) == 422
    assert (
        scene.status(
            "GET", "/api/v1/admin/statements", scene.admin, month="2026-10", creator_id=MAX_ID + 1
        )
        == 422
    )
