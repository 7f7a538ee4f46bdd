"""The creators' studio and the advertiser page over HTTP, on the settled data set.

Expected figures are summed by hand from ``queries_dataset``: creator A's videos from
2026-11-30 to 2026-12-02 (a custom range wholly in the past), compared with the three days
before it (2026-11-27..29).
"""

from __future__ import annotations

import csv
import html as html_text
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from streamsettle.domain.periods import business_date
from streamsettle.runtime import Runtime
from streamsettle.web.i18n import LANGUAGE_COOKIE
from streamsettle.web.session import ACCESS_COOKIE
from tests.integration.queries.queries_dataset import Settled

RANGE = "from=2026-11-30&to=2026-12-02"


def _as(settled: Settled, who: str) -> Settled:
    settled.client.cookies.clear()
    settled.client.cookies.set(ACCESS_COOKIE, settled.tokens[who])
    return settled


def _text(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert match, testid
    return html_text.unescape(match.group(1).strip())


def _rows(html: str, table: str) -> list[dict[str, str]]:
    """Each body row of a table as {column: shown text}."""
    body = html.split(f'data-testid="table-{table}"', 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S):
        cells = re.findall(r'data-column="([^"]+)"[^>]*>(.*?)</td>', tr, re.S)
        rows.append({k: html_text.unescape(re.sub(r"<[^>]+>", "", v)).strip() for k, v in cells})
    return rows


def _csv(settled: Settled, path: str) -> list[dict[str, str]]:
    response = settled.client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_overview_kpis_compare_with_the_previous_range(settled: Settled) -> None:
    html = _as(settled, "A").client.get(f"/studio?{RANGE}&lang=en").text
    assert _text(html, "range") == "Nov 30, 2026 \u2013 Dec 2, 2026"
    kpis = {
        k: _text(html, f"kpi-{k}-value")
        for k in ("views", "watch-hours", "earnings", "rpm", "average-view")
    }
    # 81 views, 6,560 s watched, 235 KRW; before: 30 views, 1,500 s, 123 KRW.
    assert kpis == {
        "views": "81",
        "watch-hours": "1.8",
        "earnings": "₩235",
        "rpm": "₩2,901",
        "average-view": "1:20",
    }
    assert _text(html, "kpi-views-change") == "+170.0%"
    assert _text(html, "kpi-earnings-change") == "+91.1%"
    videos = _rows(html, "videos")
    assert [v["title"] for v in videos] == [
        'Cats, "live"', "=HYPERLINK(1)", "Night drive", "Morning walk", "Tea ceremony",
        "Short clip",
    ]  # fmt: skip  # by earnings: 114, 52, 44, 22, 2, 1
    assert videos[0]["total_amount"] == "₩114" and videos[0]["rpm"] == "₩5,182"
    assert f'href="/studio/videos/{settled.ids["v3"]}?from=2026-11-30&amp;to=2026-12-02"' in html
    assert "B&#39;s only video" not in html and "B's only video" not in html
    days = _rows(html, "days")
    assert [d["date"] for d in days] == ["Nov 30, 2026", "Dec 1, 2026", "Dec 2, 2026"]
    assert [d["total_amount"] for d in days] == ["₩85", "₩96", "₩54"]


def test_every_table_has_its_csv(settled: Settled) -> None:
    _as(settled, "A")
    videos = _csv(settled, f"/studio.csv?table=videos&{RANGE}")
    assert sum(int(v["total_amount"]) for v in videos) == 235
    hyperlink = next(v for v in videos if v["video_id"] == str(settled.ids["v6"]))
    assert hyperlink["title"] == "'=HYPERLINK(1)"  # a formula is never run by a spreadsheet
    assert (hyperlink["watch_hours"], hyperlink["average_view_seconds"]) == ("0.7", "118")
    days = _csv(settled, f"/studio.csv?table=days&{RANGE}")
    assert [(d["date"], d["views"], d["total_amount"]) for d in days] == [
        ("2026-11-30", "18", "85"),
        ("2026-12-01", "39", "96"),
        ("2026-12-02", "24", "54"),
    ]
    v3 = settled.ids["v3"]
    ads = _csv(settled, f"/studio/videos/{v3}.csv?table=ads&{RANGE}")
    assert ads == [
        {"ad_id": str(settled.ids["ad2"]), "title": "Ad ad2", "ad_views": "8", "amount": "90"}
    ]
    unknown = settled.client.get(f"/studio.csv?table=nope&{RANGE}")
    assert unknown.status_code == 404 and "videos, days" in unknown.text


def test_a_video_page_has_its_own_figures_and_ad_breakdown(settled: Settled) -> None:
    v3 = settled.ids["v3"]
    html = _as(settled, "A").client.get(f"/studio/videos/{v3}?{RANGE}&lang=en").text
    assert _text(html, "video-title") == 'Cats, "live"'
    assert "Cats, &#34;live&#34;" in html
    assert _text(html, "kpi-earnings-value") == "₩114"
    assert _text(html, "kpi-rpm-value") == "₩5,182"  # 114 KRW per 22 views
    assert _text(html, "kpi-average-view-value") == "2:11"  # 2,900 s / 22 views
    assert "kpi-earnings-change" not in html  # nothing before to compare with
    assert _rows(html, "ads") == [
        {"ad_id": str(settled.ids["ad2"]), "title": "Ad ad2", "ad_views": "8", "amount": "₩90"}
    ]
    assert 'data-canvas="video-views"' in html and '"data": [12, 10, 0]' in html


def test_nobody_sees_another_creators_video_or_studio(settled: Settled) -> None:
    v3 = settled.ids["v3"]
    forbidden = _as(settled, "B").client.get(f"/studio/videos/{v3}?{RANGE}")
    assert forbidden.status_code == 403 and 'data-testid="error-page"' in forbidden.text
    assert settled.client.get(f"/studio/videos/{v3}.csv?table=ads").status_code == 403
    assert settled.client.get("/studio/videos/999999").status_code == 404
    assert settled.client.get(f"/studio?creator_id={settled.ids['A']}").status_code == 403
    assert _as(settled, "P").client.get("/studio").status_code == 403
    admin = _as(settled, "admin").client.get(f"/studio?creator_id={settled.ids['A']}&{RANGE}")
    assert admin.status_code == 200 and _text(admin.text, "kpi-earnings-value") == "₩235"
    settled.client.cookies.clear()
    anonymous = settled.client.get("/studio", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/login")


def test_a_range_never_runs_into_the_future(settled: Settled, runtime: Runtime) -> None:
    today = business_date(datetime.now(UTC), runtime.settings.tz)
    later = today + timedelta(days=40)
    _as(settled, "A")
    for query in (f"period=month&date={later}", f"from={today.replace(day=1)}&to={later}"):
        days = _csv(settled, f"/studio.csv?table=days&{query}")
        assert days[-1]["date"] == today.isoformat()
        assert len(days) == today.day
    html = settled.client.get(f"/studio?period=week&date={today}").text
    assert 'data-testid="next"' not in html
    assert f'max="{today.isoformat()}"' in html


def test_unreadable_range_falls_back_and_says_so(settled: Settled) -> None:
    html = _as(settled, "A").client.get("/studio?from=2026-12-02&to=2026-11-01&lang=en").text
    assert "starts (2026-12-02) after it ends (2026-11-01)" in html
    assert "showing this month instead" in html
    html = settled.client.get("/studio?period=year").text
    assert 'data-testid="range-problem"' in html


def test_korean_by_default_english_on_request(settled: Settled) -> None:
    client = _as(settled, "A").client
    korean = client.get(f"/studio?{RANGE}").text
    assert '<html lang="ko">' in korean
    assert "채널 분석" in korean and "조회수" in korean
    assert _text(korean, "range") == "2026년 11월 30일 \u2013 2026년 12월 2일"
    english = client.get(f"/studio?{RANGE}&lang=en")
    assert english.cookies[LANGUAGE_COOKIE] == "en"
    assert '<html lang="en">' in english.text and "Channel analytics" in english.text
    kept = client.get(f"/studio?{RANGE}").text  # the cookie keeps the choice
    assert '<html lang="en">' in kept
    assert 'data-testid="language-switch"' in kept and "한국어" in kept
    assert "default-src 'self'" in english.headers["content-security-policy"]


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_advertiser_spend_matches_the_ad_settlement_api(settled: Settled, period: str) -> None:
    client = _as(settled, "P").client
    html = client.get(f"/advertiser?period={period}&date=2026-12-01&lang=en").text
    ads = _csv(settled, f"/advertiser.csv?table=ads&period={period}&date=2026-12-01")
    assert {a["title"] for a in ads} == {"Ad ad1", "Ad ad2"}  # not Q's ad3
    for line in ads:
        api = settled.get(
            "P", f"/api/v1/settlements/ads/{line['ad_id']}", period=period, date="2026-12-01"
        )
        assert (int(line["ad_views"]), int(line["amount"])) == (api["ad_views"], api["amount"])
    total = sum(int(a["amount"]) for a in ads)
    assert _text(html, "kpi-spend-value") == f"₩{total:,}"
    shown = {r["title"]: r["amount"] for r in _rows(html, "ads")}
    assert shown == {a["title"]: f"₩{int(a['amount']):,}" for a in ads}


def test_advertiser_week_by_hand_and_who_may_see_it(settled: Settled) -> None:
    _as(settled, "P")
    ads = _csv(settled, "/advertiser.csv?table=ads&period=week&date=2026-12-02")
    assert [(a["title"], a["ad_views"], a["amount"]) for a in ads] == [
        ("Ad ad2", "10", "110"),
        ("Ad ad1", "4", "40"),
    ]
    days = _csv(settled, "/advertiser.csv?table=days&from=2026-11-28&to=2026-12-02")
    assert [(d["date"], d["amount"]) for d in days] == [
        ("2026-11-28", "40"),
        ("2026-11-29", "31"),
        ("2026-11-30", "66"),
        ("2026-12-01", "54"),
        ("2026-12-02", "30"),
    ]
    assert _as(settled, "A").client.get("/advertiser").status_code == 403


def test_the_embedded_sqlite_database_gives_the_same_figures(sqlite_settled: Settled) -> None:
    client = _as(sqlite_settled, "A").client
    html = client.get(f"/studio?{RANGE}&lang=en").text
    assert _text(html, "kpi-earnings-value") == "₩235"
    assert _text(html, "kpi-views-change") == "+170.0%"
    videos = _csv(sqlite_settled, f"/studio.csv?table=videos&{RANGE}")
    assert sum(int(v["total_amount"]) for v in videos) == 235
    _as(sqlite_settled, "P")
    ads = _csv(sqlite_settled, "/advertiser.csv?table=ads&period=week&date=2026-12-02")
    assert [(a["title"], a["amount"]) for a in ads] == [("Ad ad2", "110"), ("Ad ad1", "40")]
