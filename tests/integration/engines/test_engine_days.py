"""Every columnar engine on crafted days read from the database: its rows equal those of the
domain rules (``reference``), and the numbers are the ones docs/rules.md gives."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from streamsettle.services.batch.engines.day import DayResults
from tests.integration.engines.conftest import RunDay
from tests.integration.engines.day_world import DayWorld

DAY = date(2024, 9, 2)
BEFORE = DAY - timedelta(days=1)


def _sid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _kinds(results: DayResults) -> dict[str, str]:
    return {
        row["session_id"]: row["kind"] for row in results.tables["view_classifications"].to_pylist()
    }


def _by(results: DayResults, name: str, *keys: str) -> dict[object, dict[str, object]]:
    return {
        tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row
        for row in results.tables[name].to_pylist()
    }


def test_repeat_window_edges_by_user_and_by_ip(day_world: DayWorld, run_day: RunDay) -> None:
    w = day_world
    creator, viewer, other = w.user("creator"), w.user(), w.user()
    start = w.at(DAY, "12:00:00")
    cases: dict[int, tuple[tuple[int, ...], tuple[uuid.UUID, ...], tuple[uuid.UUID, ...]]] = {}
    with w.batch():
        # Each offset on videos of its own: the same user from two addresses; the same
        # address, anonymous; a logged-in user and then an anonymous session from the
        # user's address. At the same instant, the smaller session id is the earlier one.
        for n, offset in enumerate((0, 1, 29, 30, 31)):
            by_user, by_ip, mixed = w.video(creator), w.video(creator), w.video(creator)
            later = start + timedelta(seconds=offset)
            net = f"10.{n}"
            firsts = (
                w.log(by_user, start, viewer=viewer, ip=f"{net}.1.1", session_id=_sid(6 * n + 1)),
                w.log(by_ip, start, ip=f"{net}.2.1", session_id=_sid(6 * n + 2)),
                w.log(mixed, start, viewer=other, ip=f"{net}.3.1", session_id=_sid(6 * n + 3)),
            )
            seconds = (
                w.log(by_user, later, viewer=viewer, ip=f"{net}.1.2", session_id=_sid(6 * n + 4)),
                w.log(by_ip, later, ip=f"{net}.2.1", session_id=_sid(6 * n + 5)),
                w.log(mixed, later, ip=f"{net}.3.1", session_id=_sid(6 * n + 6)),
            )
            cases[offset] = ((by_user, by_ip, mixed), firsts, seconds)
    results = run_day(DAY)
    kinds = _kinds(results)
    stats = _by(results, "daily_video_stats", "video_id")
    for offset, (case_videos, case_firsts, case_seconds) in cases.items():
        expected = "repeat" if offset <= 30 else None
        assert [kinds.get(str(sid)) for sid in case_seconds] == [expected] * 3, offset
        assert not {str(sid) for sid in case_firsts} & kinds.keys()
        for video in case_videos:
            assert stats[video]["sessions"] == 2
            assert stats[video]["views"] == (1 if offset <= 30 else 2)
            assert stats[video]["watched_seconds"] == 120  # a repeat keeps its watched seconds


def test_same_instant_orders_by_session_id(day_world: DayWorld, run_day: RunDay) -> None:
    w = day_world
    creator, viewer = w.user("creator"), w.user()
    video = w.video(creator)
    start = w.at(DAY, "08:00:00.123456")
    with w.batch():
        # Written in the reverse order: the smaller session id is the earlier session.
        w.log(video, start, viewer=viewer, ip="10.0.0.9", session_id=_sid(0xFF))
        w.log(video, start, viewer=viewer, ip="10.0.0.8", session_id=_sid(0x0F))
        w.log(video, start, ip="10.0.0.7", session_id=_sid(0xF0))
    results = run_day(DAY)
    assert _kinds(results) == {str(_sid(0xFF)): "repeat"}


def test_midnight_in_the_platform_time_zone(day_world: DayWorld, run_day: RunDay) -> None:
    w = day_world
    creator, viewer = w.user("creator"), w.user()
    video = w.video(creator)
    with w.batch():
        # 25 s across midnight (Seoul): a repeat of the day before's session.
        w.log(video, w.at(BEFORE, "23:59:45"), viewer=viewer, ip="10.0.0.1")
        across = w.log(video, w.at(DAY, "00:00:10"), viewer=viewer, ip="10.0.0.2")
        # 31 s across midnight: counted.
        w.log(video, w.at(BEFORE, "23:59:30"), ip="10.0.0.3")
        w.log(video, w.at(DAY, "00:00:01"), ip="10.0.0.3")
        # The first and the last instant of the day belong to it.
        w.log(video, w.at(DAY, "00:00:00"), ip="10.0.0.4")
        w.log(video, w.at(DAY, "23:59:59.999999"), ip="10.0.0.5")
        w.log(video, w.at(DAY + timedelta(days=1), "00:00:00"), ip="10.0.0.5")
    results = run_day(DAY)
    assert _kinds(results) == {str(across): "repeat"}
    stats = _by(results, "daily_video_stats", "video_id")[video]
    assert (stats["sessions"], stats["views"], stats["repeat_views"]) == (4, 3, 1)


def test_self_views_add_nothing_but_start_the_window(day_world: DayWorld, run_day: RunDay) -> None:
    w = day_world
    creator, advertiser = w.user("creator"), w.user("advertiser")
    video, ad = w.video(creator), w.ad(advertiser)
    start = w.at(DAY, "10:00:00")
    with w.batch():
        own = w.log(video, start, viewer=creator, ip="10.9.9.9", watched=700,
                    slots={300: ad, 600: ad})  # fmt: skip
        repeat = w.log(video, start + timedelta(seconds=10), ip="10.9.9.9", watched=400,
                       slots={300: ad})  # fmt: skip
        w.log(video, start + timedelta(hours=1), ip="10.1.1.1", watched=350, slots={300: ad})
    results = run_day(DAY)
    assert _kinds(results) == {str(own): "self", str(repeat): "repeat"}
    stats = _by(results, "daily_video_stats", "video_id")[video]
    assert stats == {
        "business_date": DAY, "video_id": video, "creator_id": creator, "sessions": 3,
        "views": 1, "self_views": 1, "repeat_views": 1, "watched_seconds": 750, "ad_views": 1,
    }  # fmt: skip
    settlement = _by(results, "daily_settlements", "video_id")[video]
    assert (settlement["video_amount"], settlement["ad_amount"]) == (1, 10)


def test_ad_replacement_between_sessions_and_empty_slots(
    day_world: DayWorld, run_day: RunDay
) -> None:
    w = day_world
    creator, advertiser = w.user("creator"), w.user("advertiser")
    video = w.video(creator)
    first, second, third = w.ad(advertiser), w.ad(advertiser), w.ad(advertiser)
    with w.batch():
        w.log(video, w.at(DAY, "10:00:00"), ip="10.0.0.1", watched=700,
              slots={300: first, 600: second})  # fmt: skip
        # The slot at 300 was re-placed with another ad; the slot at 600 emptied.
        w.log(video, w.at(DAY, "11:00:00"), ip="10.0.0.2", watched=700,
              slots={300: third, 600: None})  # fmt: skip
        w.log(video, w.at(DAY, "12:00:00"), ip="10.0.0.3", watched=700,
              slots={300: first, 600: first})  # fmt: skip
    results = run_day(DAY)
    pairs = _by(results, "daily_ad_settlements", "ad_id")
    assert {ad: row["ad_views"] for ad, row in pairs.items()} == {first: 3, second: 1, third: 1}
    per_ad = _by(results, "daily_ad_stats", "ad_id")
    assert {ad: (row["owner_id"], row["ad_views"]) for ad, row in per_ad.items()} == {
        first: (advertiser, 3),
        second: (advertiser, 1),
        third: (advertiser, 1),
    }
    assert _by(results, "daily_video_stats", "video_id")[video]["ad_views"] == 5
    assert _by(results, "daily_settlements", "video_id")[video]["ad_amount"] == 50


def test_tier_boundaries_crossed_within_the_day(day_world: DayWorld, run_day: RunDay) -> None:
    w = day_world
    creator, advertiser = w.user("creator"), w.user("advertiser")
    video, ad = w.video(creator), w.ad(advertiser)
    # docs/rules.md: an ad with 99,995 views on a video before today and 10 there today.
    w.history(BEFORE - timedelta(days=3), video, creator, 50_000, {ad: 50_000})
    w.history(BEFORE, video, creator, 49_998, {ad: 49_995})
    with w.batch():
        for i in range(10):
            w.log(video, w.at(DAY, "09:00:00") + timedelta(minutes=i), ip=f"10.0.1.{i}",
                  watched=400, slots={300: ad})  # fmt: skip
    results = run_day(DAY)
    pair = _by(results, "daily_ad_settlements", "ad_id")[ad]
    assert (pair["ad_views_before"], pair["ad_views"], pair["amount"]) == (99_995, 10, 112)
    settlement = _by(results, "daily_settlements", "video_id")[video]
    # Views 99,999 (1.0) and 100,000 to 100,008 (9 x 1.1): 10.9, truncated.
    assert settlement["views_before"] == 99_998
    assert (settlement["video_amount"], settlement["ad_amount"]) == (10, 112)
    assert settlement["total_amount"] == 122
    creator_row = _by(results, "daily_creator_settlements", "creator_id")[creator]
    assert creator_row["total_amount"] == 122


def test_rate_card_change_prices_each_day_with_its_card(
    day_world: DayWorld, run_day: RunDay
) -> None:
    w = day_world
    creator, advertiser = w.user("creator"), w.user("advertiser")
    video, ad = w.video(creator), w.ad(advertiser)
    card = w.rate_card(DAY, video=[(0, "0.5"), (3, "2.25")], ad=[(0, "1.333333"), (2, "7")])
    with w.batch():
        for day in (BEFORE, DAY):
            for i in range(5):
                slots: dict[int, int | None] = {300: ad} if i < 3 else {}
                w.log(video, w.at(day, "15:00:00") + timedelta(minutes=i), ip=f"10.0.2.{i}",
                      watched=400, slots=slots)  # fmt: skip
    before = _by(run_day(BEFORE), "daily_settlements", "video_id")
    assert (before[video]["rate_card_id"], before[video]["video_amount"]) == (1, 5)
    assert before[video]["ad_amount"] == 30
    results = run_day(DAY)
    settlement = _by(results, "daily_settlements", "video_id")[video]
    # Views 1-2 at 0.5 and 3-5 at 2.25: 7.75; ad views 1.333333 + 2 x 7: 15.333333.
    assert settlement["rate_card_id"] == card
    assert (settlement["video_amount"], settlement["ad_amount"]) == (7, 15)


def test_a_day_without_logs_gives_empty_tables(run_day: RunDay) -> None:
    results = run_day(DAY)
    assert results.row_count == 0
