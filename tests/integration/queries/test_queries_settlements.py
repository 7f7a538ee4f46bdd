"""Settlement endpoints over the settled data set (see queries_dataset.py for the tables)."""

from __future__ import annotations

import pytest

from tests.integration.queries.queries_dataset import Settled, load_settled

WEEK = {"period": "week", "date": "2026-12-02"}  # Mon 2026-11-30 .. Sun 2026-12-06


@pytest.fixture(params=["primary", "replica"])
def settled(request: pytest.FixtureRequest) -> Settled:
    """Each test on the primary alone, then with the reads served by a real hot standby."""
    if request.param == "replica":
        on_replica: Settled = request.getfixturevalue("replica_settled")
        return on_replica
    runtime = request.getfixturevalue("runtime")
    ids, tokens = load_settled(runtime)
    return Settled(request.getfixturevalue("client"), ids, tokens)


def _day(date: str, views: int, ad_views: int, video: int, ad: int) -> dict[str, object]:
    return {
        "date": date,
        "views": views,
        "ad_views": ad_views,
        "video_amount": video,
        "ad_amount": ad,
        "total_amount": video + ad,
    }


def test_video_settlement_over_a_week_straddling_two_months(settled: Settled) -> None:
    v1 = settled.ids["v1"]
    body = settled.get("A", f"/api/v1/settlements/videos/{v1}", **WEEK)
    assert body == {
        "video_id": v1,
        "title": "Morning walk",
        "period": "week",
        "from": "2026-11-30",
        "to": "2026-12-06",
        "views": 12,
        "ad_views": 1,
        "video_amount": 12,
        "ad_amount": 10,
        "total_amount": 22,
        "days": [_day("2026-11-30", 5, 0, 5, 0), _day("2026-12-01", 7, 1, 7, 10)],
    }


def test_video_settlement_for_a_month_and_an_unsettled_day(settled: Settled) -> None:
    path = f"/api/v1/settlements/videos/{settled.ids['v1']}"
    november = settled.get("A", path, period="month", date="2026-11-30")
    assert (november["from"], november["to"]) == ("2026-11-01", "2026-11-30")
    assert november["days"] == [_day("2026-11-28", 10, 4, 10, 40), _day("2026-11-30", 5, 0, 5, 0)]
    assert (november["views"], november["ad_views"], november["total_amount"]) == (15, 4, 55)
    unsettled = settled.get("A", path, period="day", date="2026-12-03")
    assert unsettled["days"] == []
    assert [unsettled[k] for k in ("views", "video_amount", "ad_amount", "total_amount")] == [
        0,
        0,
        0,
        0,
    ]


def test_video_settlement_access_404_before_403(settled: Settled) -> None:
    path = f"/api/v1/settlements/videos/{settled.ids['v1']}"
    assert settled.status("admin", path, **WEEK) == 200
    assert settled.status("B", path, **WEEK) == 403
    assert settled.status("P", path, **WEEK) == 403
    assert settled.status("viewer", path, **WEEK) == 403
    assert settled.status(None, path, **WEEK) == 401
    assert settled.status("B", "/api/v1/settlements/videos/999999", **WEEK) == 404
    assert settled.status("A", "/api/v1/settlements/videos/999999", **WEEK) == 404
    assert settled.status("A", path, period="quarter", date="2026-12-01") == 422
    assert settled.status("A", path, period="week", date="2026-02-30") == 422
    assert settled.status("A", "/api/v1/settlements/videos/abc", **WEEK) == 422


def test_creator_totals_with_per_video_lines_and_days(settled: Settled) -> None:
    ids = settled.ids
    body = settled.get("A", "/api/v1/settlements/creators/me", **WEEK)

    def line(v: str, title: str, views: int, ad_views: int, va: int, aa: int) -> object:
        return {
            "video_id": ids[v],
            "title": title,
            "views": views,
            "ad_views": ad_views,
            "video_amount": va,
            "ad_amount": aa,
            "total_amount": va + aa,
        }

    assert body == {
        "creator_id": ids["A"],
        "period": "week",
        "from": "2026-11-30",
        "to": "2026-12-06",
        "views": 81,
        "ad_views": 14,
        "video_amount": 85,
        "ad_amount": 150,
        "total_amount": 235,
        "videos": [
            line("v1", "Morning walk", 12, 1, 12, 10),
            line("v2", "Tea ceremony", 2, 0, 2, 0),
            line("v3", 'Cats, "live"', 22, 8, 24, 90),
            line("v4", "Night drive", 22, 2, 24, 20),
            line("v5", "Short clip", 1, 0, 1, 0),
            line("v6", "=HYPERLINK(1)", 22, 3, 22, 30),
        ],
        "days": [
            _day("2026-11-30", 18, 6, 19, 66),
            _day("2026-12-01", 39, 5, 42, 54),
            _day("2026-12-02", 24, 3, 24, 30),
        ],
    }


def test_creator_months_on_both_sides_of_the_boundary(settled: Settled) -> None:
    path = "/api/v1/settlements/creators/me"
    november = settled.get("A", path, period="month", date="2026-11-01")
    assert [november[k] for k in ("views", "ad_views", "video_amount", "ad_amount")] == [
        48,
        15,
        50,
        158,
    ]
    assert november["total_amount"] == 208
    lines = november["videos"]
    assert [(v["video_id"], v["total_amount"]) for v in lines] == [
        (settled.ids["v1"], 55),
        (settled.ids["v2"], 73),
        (settled.ids["v3"], 79),
        (settled.ids["v5"], 1),
    ]
    december = settled.get("A", path, period="month", date="2026-12-31")
    assert december["total_amount"] == 150
    day = settled.get("A", path, period="day", date="2026-12-03")
    assert (day["total_amount"], day["videos"], day["days"]) == (0, [], [])
    b_week = settled.get("B", path, **WEEK)
    assert (b_week["total_amount"], b_week["views"], b_week["ad_amount"]) == (233, 103, 120)


def test_creator_endpoint_is_for_creators(settled: Settled) -> None:
    path = "/api/v1/settlements/creators/me"
    assert settled.status("viewer", path, **WEEK) == 403
    assert settled.status("P", path, **WEEK) == 403
    assert settled.status(None, path, **WEEK) == 401
    assert settled.status("A", path, period="week", date="30/11/2026") == 422


def test_admin_overview_and_one_creator(settled: Settled) -> None:
    ids = settled.ids
    body = settled.get("admin", "/api/v1/settlements/creators", **WEEK)
    assert [body[k] for k in ("creators_count", "views", "ad_views", "total_amount")] == [
        2,
        184,
        24,
        468,
    ]
    assert (body["video_amount"], body["ad_amount"]) == (198, 270)
    assert [(c["creator_id"], c["views"], c["total_amount"]) for c in body["creators"]] == [
        (ids["A"], 81, 235),
        (ids["B"], 103, 233),
    ]
    limited = settled.get("admin", "/api/v1/settlements/creators", limit=1, **WEEK)
    assert len(limited["creators"]) == 1
    assert limited["creators_count"] == 2
    as_a = settled.get("admin", f"/api/v1/settlements/creators/{ids['A']}", **WEEK)
    assert as_a == settled.get("A", "/api/v1/settlements/creators/me", **WEEK)
    assert settled.status("A", "/api/v1/settlements/creators", **WEEK) == 403
    assert settled.status("A", f"/api/v1/settlements/creators/{ids['B']}", **WEEK) == 403


def test_ad_settlement_sums_its_videos_per_day(settled: Settled) -> None:
    ids = settled.ids
    path = f"/api/v1/settlements/ads/{ids['ad1']}"
    body = settled.get("P", path, **WEEK)
    # 12-01: v1 (1 view, 10) + v4 (2 views, 20); 12-02: v6 (1 view, 10)
    assert body == {
        "ad_id": ids["ad1"],
        "title": "Ad ad1",
        "period": "week",
        "from": "2026-11-30",
        "to": "2026-12-06",
        "ad_views": 4,
        "amount": 40,
        "days": [
            {"date": "2026-12-01", "ad_views": 3, "amount": 30},
            {"date": "2026-12-02", "ad_views": 1, "amount": 10},
        ],
    }
    november = settled.get("admin", path, period="month", date="2026-11-11")
    assert (november["ad_views"], november["amount"]) == (7, 71)
    assert settled.status("Q", path, **WEEK) == 403
    assert settled.status("A", path, **WEEK) == 403
    assert settled.status("Q", "/api/v1/settlements/ads/999999", **WEEK) == 404
    assert settled.status("P", path, period="week", date="") == 422


def test_creator_and_ad_sides_add_up_to_the_same_ad_total(settled: Settled) -> None:
    creators = settled.get(
        "admin", "/api/v1/settlements/creators", period="month", date="2026-12-01"
    )
    ad_total = sum(
        settled.get(
            "admin", f"/api/v1/settlements/ads/{settled.ids[a]}", period="month", date="2026-12-01"
        )["amount"]
        for a in ("ad1", "ad2", "ad3")
    )
    assert creators["ad_amount"] == ad_total == 10 + 24 + 20 + 10 + 20


def test_csv_export_one_row_per_video_per_day(settled: Settled) -> None:
    ids = settled.ids
    response = settled.client.get(
        "/api/v1/settlements/creators/me.csv", params=WEEK, headers=settled.auth("A")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="settlement-creator-{ids["A"]}-2026-11-30-2026-12-06.csv"'
    )
    assert response.text.splitlines() == [
        "date,video_id,title,views,ad_views,video_amount,ad_amount,total_amount",
        f"2026-11-30,{ids['v1']},Morning walk,5,0,5,0,5",
        f'2026-11-30,{ids["v3"]},"Cats, ""live""",12,6,13,66,79',
        f"2026-11-30,{ids['v5']},Short clip,1,0,1,0,1",
        f"2026-12-01,{ids['v1']},Morning walk,7,1,7,10,17",
        f'2026-12-01,{ids["v3"]},"Cats, ""live""",10,2,11,24,35',
        f"2026-12-01,{ids['v4']},Night drive,22,2,24,20,44",
        f"2026-12-02,{ids['v2']},Tea ceremony,2,0,2,0,2",
        f"2026-12-02,{ids['v6']},'=HYPERLINK(1),22,3,22,30,52",
    ]
    empty = settled.client.get(
        "/api/v1/settlements/creators/me.csv",
        params={"period": "day", "date": "2026-12-03"},
        headers=settled.auth("A"),
    )
    assert empty.text == "date,video_id,title,views,ad_views,video_amount,ad_amount,total_amount\n"
    assert settled.status("viewer", "/api/v1/settlements/creators/me.csv", **WEEK) == 403


def test_same_answers_on_sqlite(sqlite_settled: Settled) -> None:
    s = sqlite_settled
    me = s.get("A", "/api/v1/settlements/creators/me", **WEEK)
    assert (me["views"], me["ad_amount"], me["total_amount"]) == (81, 150, 235)
    top = s.get("A", "/api/v1/stats/top-videos", metric="views", **WEEK)
    assert [i["video_id"] for i in top["items"]] == [
        s.ids["v3"],
        s.ids["v4"],
        s.ids["v6"],
        s.ids["v1"],
        s.ids["v2"],
    ]
    overview = s.get("admin", "/api/v1/settlements/creators", **WEEK)
    assert (overview["creators_count"], overview["total_amount"]) == (2, 468)
