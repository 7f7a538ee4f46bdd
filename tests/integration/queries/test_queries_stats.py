"""Top-5 statistics over the settled data set (see conftest.py for the tables)."""

from __future__ import annotations

from tests.integration.queries.queries_dataset import Settled

TOP_VIDEOS = "/api/v1/stats/top-videos"
TOP_ADS = "/api/v1/stats/top-ads"


def _ranked(settled: Settled, body: dict[str, object]) -> list[tuple[str, int, int]]:
    names = {v: k for k, v in settled.ids.items()}
    items = body["items"]
    assert isinstance(items, list)
    assert [i["rank"] for i in items] == list(range(1, len(items) + 1))
    return [(names[i["video_id"]], i["views"], i["watched_seconds"]) for i in items]


def test_week_straddling_two_months_ranks_by_views_with_ties_to_the_smaller_id(
    settled: Settled,
) -> None:
    body = settled.get("A", TOP_VIDEOS, metric="views", period="week", date="2026-12-02")
    assert (body["period"], body["from"], body["to"]) == ("week", "2026-11-30", "2026-12-06")
    assert body["metric"] == "views"
    # v3, v4 and v6 all have 22 views in the week; v5 (1 view) is sixth and left out.
    assert _ranked(settled, body) == [
        ("v3", 22, 2900),
        ("v4", 22, 50),
        ("v6", 22, 2600),
        ("v1", 12, 900),
        ("v2", 2, 100),
    ]
    first = body["items"][0]
    assert first["title"] == 'Cats, "live"'


def test_week_ranked_by_watched_seconds(settled: Settled) -> None:
    body = settled.get("A", TOP_VIDEOS, metric="watched_seconds", period="week", date="2026-11-30")
    assert _ranked(settled, body) == [
        ("v3", 22, 2900),
        ("v6", 22, 2600),
        ("v1", 12, 900),
        ("v2", 2, 100),
        ("v4", 22, 50),
    ]


def test_month_and_day_windows(settled: Settled) -> None:
    november = settled.get("A", TOP_VIDEOS, metric="views", period="month", date="2026-11-15")
    assert (november["from"], november["to"]) == ("2026-11-01", "2026-11-30")
    assert _ranked(settled, november) == [
        ("v2", 20, 500),
        ("v1", 15, 1600),
        ("v3", 12, 900),
        ("v5", 1, 10),
    ]
    # The ISO week of Saturday 11-28 is Mon 11-23 .. Sun 11-29.
    week = settled.get("A", TOP_VIDEOS, metric="views", period="week", date="2026-11-28")
    assert (week["from"], week["to"]) == ("2026-11-23", "2026-11-29")
    assert _ranked(settled, week) == [("v2", 20, 500), ("v1", 10, 1000)]
    day = settled.get("A", TOP_VIDEOS, metric="views", period="day", date="2026-12-01")
    assert _ranked(settled, day) == [("v4", 22, 50), ("v3", 10, 2000), ("v1", 7, 300)]


def test_a_day_not_settled_yet_is_empty(settled: Settled) -> None:
    body = settled.get("A", TOP_VIDEOS, metric="views", period="day", date="2026-12-03")
    assert body["items"] == []


def test_scoping_creator_own_admin_all_or_one_creator(settled: Settled) -> None:
    week = {"metric": "views", "period": "week", "date": "2026-12-01"}
    everyone = settled.get("admin", TOP_VIDEOS, **week)
    assert _ranked(settled, everyone) == [
        ("v7", 103, 10002),
        ("v3", 22, 2900),
        ("v4", 22, 50),
        ("v6", 22, 2600),
        ("v1", 12, 900),
    ]
    only_b = settled.get("admin", TOP_VIDEOS, creator_id=settled.ids["B"], **week)
    assert _ranked(settled, only_b) == [("v7", 103, 10002)]
    assert _ranked(settled, settled.get("B", TOP_VIDEOS, **week)) == [("v7", 103, 10002)]
    mine = settled.get("A", TOP_VIDEOS, creator_id=settled.ids["A"], **week)
    assert len(mine["items"]) == 5
    assert settled.status("A", TOP_VIDEOS, creator_id=settled.ids["B"], **week) == 403
    assert settled.status("viewer", TOP_VIDEOS, **week) == 403
    assert settled.status("P", TOP_VIDEOS, **week) == 403
    assert settled.status(None, TOP_VIDEOS, **week) == 401


def test_top_ads_scoped_to_the_advertiser_with_ties_to_the_smaller_id(settled: Settled) -> None:
    ids = settled.ids
    week = {"period": "week", "date": "2026-12-06"}
    body = settled.get("admin", TOP_ADS, **week)
    assert (body["period"], body["from"], body["to"]) == ("week", "2026-11-30", "2026-12-06")
    # ad2: 6 + 2 + 2 = 10, ad3: 10 (tie, ad2 has the smaller id), ad1: 2 + 1 + 1 = 4
    assert body["items"] == [
        {"rank": 1, "ad_id": ids["ad2"], "title": "Ad ad2", "ad_views": 10},
        {"rank": 2, "ad_id": ids["ad3"], "title": "Ad ad3", "ad_views": 10},
        {"rank": 3, "ad_id": ids["ad1"], "title": "Ad ad1", "ad_views": 4},
    ]
    own = settled.get("P", TOP_ADS, **week)["items"]
    assert [(i["ad_id"], i["ad_views"]) for i in own] == [(ids["ad2"], 10), (ids["ad1"], 4)]
    december = settled.get("P", TOP_ADS, period="month", date="2026-12-31")["items"]
    assert [(i["ad_id"], i["ad_views"]) for i in december] == [(ids["ad1"], 4), (ids["ad2"], 4)]
    q_own = settled.get("Q", TOP_ADS, period="month", date="2026-11-01")["items"]
    assert [(i["ad_id"], i["ad_views"]) for i in q_own] == [(ids["ad3"], 12)]
    assert settled.status("A", TOP_ADS, **week) == 403
    assert settled.status("viewer", TOP_ADS, **week) == 403


def test_bad_period_date_or_metric_is_422(settled: Settled) -> None:
    for params in (
        {"metric": "views", "period": "year", "date": "2026-12-01"},
        {"metric": "views", "period": "week", "date": "2026-13-01"},
        {"metric": "views", "period": "week", "date": "yesterday"},
        {"metric": "views", "period": "week"},
        {"metric": "likes", "period": "week", "date": "2026-12-01"},
    ):
        response = settled.client.get(TOP_VIDEOS, params=params, headers=settled.auth("A"))
        assert response.status_code == 422, params
        assert response.json()["error"]["code"] == "invalid_input"
    assert settled.status("P", TOP_ADS, period="fortnight", date="2026-12-01") == 422
