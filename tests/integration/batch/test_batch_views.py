"""The batch classifies views (3.3), aggregates daily statistics (3.4) and settles (3.6),
on hand-made days whose every number is worked out in the comments."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from streamsettle.db.models import (
    DailyAdSettlement,
    DailyAdStats,
    DailySettlement,
    DailyVideoStats,
    User,
    Video,
    WatchLog,
)
from streamsettle.domain.views import LogKey, classify_views
from streamsettle.services import catalogue
from streamsettle.services.batch import run_date
from streamsettle.services.ingest import playback
from tests.integration.batch.batch_world import World

D = date(2024, 3, 10)
PREV = D - timedelta(days=1)


def _build(world: World) -> dict[str, object]:
    creator = world.user("creator")
    advertiser = world.user("advertiser")
    u1, u2 = world.user(), world.user()
    v1, v2 = world.video(creator), world.video(creator)  # one creator, several videos
    ad1, ad2 = world.ad(advertiser), world.ad(advertiser)
    at = world.at
    s = {
        # D-1, 23:59:50 Seoul: an earlier session for D's classification, settled on D-1.
        "s0": world.log(v2, at(PREV, "23:59:50"), viewer=u2, ip="10.0.0.9", watched=30),
        # Video 1 on D.
        "s1": world.log(v1, at(D, "10:00:00"), viewer=u1, ip="10.0.0.1", watched=100,
                        slots={300: ad1}),  # counted, 1 ad view of ad1
        "s2": world.log(v1, at(D, "10:00:30"), viewer=u1, ip="10.0.0.2", watched=50,
                        slots={300: ad1}),  # repeat by user: exactly 30 s after s1
        "s3": world.log(v1, at(D, "10:01:01"), viewer=u1, ip="10.0.0.3", watched=60,
                        slots={300: ad1, 600: ad2}),  # 31 s after s2: counted, 2 ad views
        "s4": world.log(v1, at(D, "11:00:00"), viewer=creator, ip="10.0.0.4", watched=500,
                        slots={300: ad1}),  # self view: nothing at all
        "s5": world.log(v1, at(D, "11:00:20"), viewer=None, ip="10.0.0.4", watched=40,
                        slots={300: ad1}),  # repeat by IP of the self view s4
        "s6": world.log(v1, at(D, "12:00:00"), viewer=u2, ip="10.0.0.5", watched=60,
                        slots={300: None}),  # counted; a slot without an ad is no ad view
        # Video 2 on D, just after midnight.
        "s7": world.log(v2, at(D, "00:00:10"), viewer=u2, ip="10.0.0.10", watched=20,
                        slots={300: ad1}),  # repeat by user of s0 (20 s across midnight)
        "s8": world.log(v2, at(D, "00:00:15"), viewer=None, ip="10.0.0.9", watched=25),
        # ^ repeat by IP of s0 (25 s across midnight)
        "s9": world.log(v2, at(D, "00:00:20"), viewer=u1, ip="10.0.0.11", watched=35,
                        slots={300: ad1}),  # counted, 1 ad view
        # Two anonymous sessions from one IP at the same instant: the smaller id comes first.
        "s10": world.log(v2, at(D, "13:00:00"), ip="10.0.0.12", watched=10,
                         session_id=uuid.UUID(int=1)),  # counted
        "s11": world.log(v2, at(D, "13:00:00"), ip="10.0.0.12", watched=10,
                         session_id=uuid.UUID(int=2)),  # repeat
    }  # fmt: skip
    return {"v1": v1, "v2": v2, "ad1": ad1, "ad2": ad2, "creator": creator,
            "advertiser": advertiser, "sessions": s}  # fmt: skip


def test_views_statistics_and_settlement_of_a_hand_made_day(world: World) -> None:
    ids = _build(world)
    v1, v2, ad1, ad2 = ids["v1"], ids["v2"], ids["ad1"], ids["ad2"]
    s: dict[str, uuid.UUID] = ids["sessions"]  # type: ignore[assignment]

    assert run_date(world.runtime, PREV).status == "completed"
    run = run_date(world.runtime, D)
    assert run.status == "completed", run.error

    kinds = world.kinds(D)
    expected = {
        "s1": "counted", "s2": "repeat", "s3": "counted", "s4": "self", "s5": "repeat",
        "s6": "counted", "s7": "repeat", "s8": "repeat", "s9": "counted", "s10": "counted",
        "s11": "repeat",
    }  # fmt: skip
    assert {name: kinds[s[name]] for name in expected} == expected
    assert s["s0"] not in kinds  # an earlier session, not classified for D
    assert world.kinds(PREV) == {s["s0"]: "counted"}

    stats1 = world.one(DailyVideoStats, business_date=D, video_id=v1)
    assert (stats1.sessions, stats1.views, stats1.self_views, stats1.repeat_views) == (6, 3, 1, 2)
    assert stats1.watched_seconds == 100 + 50 + 60 + 40 + 60  # all but the self view
    assert stats1.ad_views == 3  # s1 (ad1), s3 (ad1, ad2)
    assert stats1.creator_id == ids["creator"]
    stats2 = world.one(DailyVideoStats, business_date=D, video_id=v2)
    assert (stats2.sessions, stats2.views, stats2.self_views, stats2.repeat_views) == (5, 2, 0, 3)
    assert stats2.watched_seconds == 20 + 25 + 35 + 10 + 10
    assert stats2.ad_views == 1

    assert world.one(DailyAdSettlement, business_date=D, video_id=v1, ad_id=ad1).ad_views == 2
    assert world.one(DailyAdSettlement, business_date=D, video_id=v1, ad_id=ad2).ad_views == 1
    assert world.one(DailyAdSettlement, business_date=D, video_id=v2, ad_id=ad1).ad_views == 1
    ad_stats = world.one(DailyAdStats, business_date=D, ad_id=ad1)
    assert (ad_stats.ad_views, ad_stats.owner_id) == (3, ids["advertiser"])
    assert world.one(DailyAdStats, business_date=D, ad_id=ad2).ad_views == 1

    # Default rate card: 1.0 per video view, 10 per ad view at these counts.
    settle1 = world.one(DailySettlement, business_date=D, video_id=v1)
    assert (settle1.views, settle1.views_before, settle1.ad_views) == (3, 0, 3)
    assert (settle1.video_amount, settle1.ad_amount, settle1.total_amount) == (3, 30, 33)
    assert settle1.rate_card_id == 1
    settle2 = world.one(DailySettlement, business_date=D, video_id=v2)
    assert (settle2.views, settle2.views_before) == (2, 1)  # s0 counted on D-1
    assert (settle2.video_amount, settle2.ad_amount, settle2.total_amount) == (2, 10, 12)
    pair = world.one(DailyAdSettlement, business_date=D, video_id=v1, ad_id=ad1)
    assert (pair.ad_views, pair.ad_views_before, pair.amount) == (2, 0, 20)


def test_sql_classification_matches_the_reference_rules(world: World) -> None:
    ids = _build(world)
    run_date(world.runtime, PREV)
    run_date(world.runtime, D)
    # Every log (both days), classified by the pure reference of rule 3.3.
    with world.runtime.db.session() as session:
        rows = session.execute(
            sa.select(WatchLog, Video.creator_id).join(Video, Video.id == WatchLog.video_id)
        ).all()
    keys = [
        LogKey(str(log.session_id), log.video_id, log.viewer_id, log.ip, log.started_at, creator)
        for log, creator in rows
    ]
    reference = classify_views(keys, world.runtime.settings.repeat_view_window_seconds)
    on_d = {str(log.session_id) for log, _ in rows if log.business_date == D}
    kinds = {str(sid): kind for sid, kind in world.kinds(D).items()}
    assert len(kinds) == 11
    assert kinds == {sid: str(reference[sid]) for sid in on_d}
    assert ids


def test_running_a_date_twice_gives_identical_rows(world: World) -> None:
    _build(world)
    run_date(world.runtime, PREV)
    first = run_date(world.runtime, D)
    before = world.snapshot(D)
    second = run_date(world.runtime, D)
    assert second.id != first.id and second.status == "completed"
    assert world.snapshot(D) == before
    # classifications of the logs that did not count (s2, s4, s5, s7, s8, s11), video stats,
    # ad stats, settlements, (video, ad) settlements, the one creator's daily total
    assert sum(len(rows) for rows in before.values()) == 6 + 2 + 2 + 2 + 3 + 1


def test_the_flush_step_closes_the_days_live_sessions_first(world: World) -> None:
    """A session still live in the session store (Redis, or the database when embedded) is
    closed at its last heartbeat and counted by the batch of its day."""
    with world.runtime.db.session() as session:
        creator = session.get(User, world.user("creator"))
        advertiser = session.get(User, world.user("advertiser"))
        assert creator is not None and advertiser is not None
        ad = catalogue.create_ad(session, advertiser, title="ad", duration_seconds=15)
        video = catalogue.create_video(session, creator, title="v", duration_seconds=900)
        video_id, ad_id = video.id, ad.id
    start = world.at(D, "10:00:00")
    live = playback.start_session(
        world.runtime, video_id=video_id, viewer_id=None, ip="10.5.0.1", now=start
    )

    async def play() -> None:
        for seq in range(1, 33):  # 32 heartbeats, 10 s apart, 10 s of video each: 0 -> 320 s
            await playback.record_heartbeat(
                world.runtime, live.session_id, token=None, ip="10.5.0.1", seq=seq,
                position=10 * seq, playing=True, now=start + timedelta(seconds=10 * seq),
            )  # fmt: skip
        await world.runtime.heartbeats.aclose()

    asyncio.run(play())

    run = run_date(world.runtime, D)
    assert run.status == "completed", run.error
    assert [s.rows for s in run.steps if s.name == "flush"] == [1]
    assert world.kinds(D) == {live.session_id: "counted"}
    stats = world.one(DailyVideoStats, business_date=D, video_id=video_id)
    assert (stats.views, stats.watched_seconds, stats.ad_views) == (1, 320, 1)
    pair = world.one(DailyAdSettlement, business_date=D, video_id=video_id, ad_id=ad_id)
    assert pair.amount == 10
