"""Playback over HTTP on both session stores: rules 3.1 and 3.2, auth, validation, flushing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from streamsettle.db.models import ResumePosition, WatchLog
from streamsettle.services.ingest.flusher import close_and_flush_day, flush_once
from streamsettle.sessions.redis_store import LoopReporters
from tests.integration.playback.playback_stack import T0, Stack


def logs(stack: Stack) -> list[WatchLog]:
    with stack.runtime.db.session() as s:
        return list(s.scalars(select(WatchLog).order_by(WatchLog.started_at)))


def slot_hits(stack: Stack, session_id: str) -> list[tuple[int, int | None]]:
    with stack.runtime.db.session() as s:
        log = s.scalars(select(WatchLog).where(WatchLog.session_id == uuid.UUID(session_id))).one()
        return log.ad_slots


def test_start_answers_the_contract(stack: Stack) -> None:
    w = stack.world
    response = stack.client.post("/api/v1/playback/sessions", json={"video_id": w.video_id})
    assert response.status_code == 201
    body = response.json()
    assert uuid.UUID(body["session_id"]).version == 4
    assert body["resume_position_seconds"] == 0
    assert body["heartbeat_interval_seconds"] == 10
    assert body["ad_slots"] == [
        {"position_seconds": 300, "ad_id": w.ad_a},
        {"position_seconds": 600, "ad_id": w.ad_b},
    ]
    missing = stack.client.post("/api/v1/playback/sessions", json={"video_id": 999_999})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_full_session_becomes_one_exact_watch_log(stack: Stack) -> None:
    sid = stack.start()
    assert stack.beat(sid, 1, 10, at=10) == {"watched_seconds": 10, "ad_slots_reached": []}
    assert stack.beat(sid, 2, 20.5, at=20)["watched_seconds"] == 20  # 20.5 exactly, shown floored
    assert stack.beat(sid, 3, 30, at=30)["watched_seconds"] == 30
    stopped = stack.stop(sid, 4, 34.9, at=35)
    assert stopped.status_code == 200
    assert stopped.json() == {
        "session_id": sid,
        "watched_seconds": 34,
        "ad_slots_reached": [],
    }
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=36)) == 1
    [log] = logs(stack)
    assert str(log.session_id) == sid
    assert log.video_id == stack.world.video_id
    assert log.viewer_id is None
    assert log.ip == "0.0.0.0"  # the test client has no address
    assert log.user_agent == "testclient"
    assert log.business_date == date(2026, 11, 1)
    assert log.started_at == T0
    assert log.ended_at == T0 + timedelta(seconds=35)
    assert log.start_position_seconds == Decimal("0")
    assert log.end_position_seconds == Decimal("34.9")
    assert log.watched_seconds == 34  # 10 + 10.5 + 9.5 + 4.9 = 34.9, rounded down
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=99)) == 0


def test_seek_ahead_is_not_watching_but_passes_the_mid_roll(stack: Stack) -> None:
    sid = stack.start()
    stack.beat(sid, 1, 10, at=10)
    body = stack.beat(sid, 2, 500, at=20)  # jumped 490 s in 10 s of wall clock
    assert body == {"watched_seconds": 22, "ad_slots_reached": [300]}  # 10 + (10 + 2)


def test_client_cannot_claim_more_than_wall_clock(stack: Stack) -> None:
    sid = stack.start()
    assert stack.beat(sid, 1, 100, at=10)["watched_seconds"] == 12  # min(100, 10 + 2)
    assert stack.beat(sid, 2, 200, at=11)["watched_seconds"] == 15  # min(100, 1 + 2)


def test_paused_stretch_gains_nothing(stack: Stack) -> None:
    sid = stack.start()
    stack.beat(sid, 1, 10, at=10)
    assert stack.beat(sid, 2, 10, at=20, state="paused")["watched_seconds"] == 10
    # a paused report that moves the playhead (scrubbing) gains nothing either
    assert stack.beat(sid, 3, 40, at=80, state="paused")["watched_seconds"] == 10
    assert stack.beat(sid, 4, 50, at=90)["watched_seconds"] == 20
    # backwards gains nothing, and the baseline moves back
    assert stack.beat(sid, 5, 45, at=100)["watched_seconds"] == 20
    assert stack.beat(sid, 6, 55, at=110)["watched_seconds"] == 30


def test_duplicate_and_out_of_order_seq_are_ignored_with_current_totals(stack: Stack) -> None:
    sid = stack.start()
    stack.beat(sid, 1, 10, at=10)
    assert stack.beat(sid, 3, 30, at=30)["watched_seconds"] == 30 - 10 + 10
    assert stack.beat(sid, 3, 40, at=40)["watched_seconds"] == 30  # duplicate
    assert stack.beat(sid, 2, 20, at=41)["watched_seconds"] == 30  # older than the newest
    assert stack.beat(sid, 4, 40, at=42)["watched_seconds"] == 40  # baseline stayed at 30 s


def test_ad_slots_reached_by_playing_and_by_seeking_past(stack: Stack) -> None:
    sid = stack.start(start_position_seconds=290)
    assert stack.beat(sid, 1, 299.999, at=10)["ad_slots_reached"] == []
    assert stack.beat(sid, 2, 300, at=11)["ad_slots_reached"] == [300]  # reaching p counts
    assert stack.beat(sid, 3, 290, at=12)["ad_slots_reached"] == [300]
    assert stack.beat(sid, 4, 310, at=30)["ad_slots_reached"] == [300]  # once per session
    body = stack.beat(sid, 5, 700, at=40)  # seeking past the 600 mid-roll plays it
    assert body["ad_slots_reached"] == [300, 600]
    assert stack.beat(sid, 6, 800, at=50, state="paused")["ad_slots_reached"] == [300, 600]
    stack.stop(sid, 7, 800, at=51)
    flush_once(stack.runtime, now=T0 + timedelta(seconds=52))
    w = stack.world
    assert slot_hits(stack, sid) == [(300, w.ad_a), (600, w.ad_b)]


def test_paused_seek_past_a_slot_does_not_reach_it(stack: Stack) -> None:
    sid = stack.start()
    assert stack.beat(sid, 1, 400, at=10, state="paused")["ad_slots_reached"] == []
    assert stack.beat(sid, 2, 410, at=20)["ad_slots_reached"] == []


def test_ads_are_the_ones_placed_when_the_session_started(stack: Stack) -> None:
    from streamsettle.db.models import AdSlot

    sid = stack.start()
    w = stack.world
    with stack.runtime.db.session() as s:  # re-placed while the session plays
        slot = s.get(AdSlot, (w.video_id, 300))
        assert slot is not None
        slot.ad_id = w.ad_b
    stack.beat(sid, 1, 305, at=10)
    stack.stop(sid, 2, 305, at=11)
    flush_once(stack.runtime, now=T0 + timedelta(seconds=12))
    assert slot_hits(stack, sid) == [(300, w.ad_a)]


def test_resume_where_left_and_zero_after_finishing(stack: Stack) -> None:
    w = stack.world
    sid = stack.start(token=w.viewer_token)
    stack.beat(sid, 1, 10, at=10, token=w.viewer_token)
    stack.stop(sid, 2, 130.5, at=20, token=w.viewer_token)
    flush_once(stack.runtime, now=T0 + timedelta(seconds=21))

    stack.clock.at(100)
    headers = w.auth(w.viewer_token)
    body = stack.client.post(
        "/api/v1/playback/sessions", json={"video_id": w.video_id}, headers=headers
    ).json()
    assert body["resume_position_seconds"] == 130.5
    anonymous = stack.client.post("/api/v1/playback/sessions", json={"video_id": w.video_id})
    assert anonymous.json()["resume_position_seconds"] == 0
    other = stack.client.post(
        "/api/v1/playback/sessions", json={"video_id": w.video_id}, headers=w.auth(w.other_token)
    )
    assert other.json()["resume_position_seconds"] == 0

    # the resumed session starts at 130.5: reaching 300 needs playing past it
    sid2 = body["session_id"]
    assert stack.beat(sid2, 1, 140.5, at=110, token=w.viewer_token)["watched_seconds"] == 10
    stack.beat(sid2, 2, 900, at=1000, token=w.viewer_token)  # to the very end
    stack.stop(sid2, 3, 950, at=1001, token=w.viewer_token)  # clamped to the duration
    flush_once(stack.runtime, now=T0 + timedelta(seconds=1002))
    log = next(x for x in logs(stack) if str(x.session_id) == sid2)
    assert log.start_position_seconds == Decimal("130.5")
    assert log.end_position_seconds == Decimal("900")
    with stack.runtime.db.session() as s:
        resume = s.get(ResumePosition, (w.viewer_id, w.video_id))
        assert resume is not None
        assert resume.position_seconds == Decimal("900")
    again = stack.client.post(
        "/api/v1/playback/sessions", json={"video_id": w.video_id}, headers=headers
    )
    assert again.json()["resume_position_seconds"] == 0


def test_idle_session_is_closed_at_its_last_heartbeat(stack: Stack) -> None:
    sid = stack.start()
    stack.beat(sid, 1, 10, at=10)
    stack.beat(sid, 2, 20, at=20)
    timeout = stack.runtime.settings.session_idle_timeout_seconds
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=20 + timeout - 1)) == 0
    assert stack.beat(sid, 3, 30, at=30)["watched_seconds"] == 30  # still live
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=30 + timeout)) == 1
    [log] = logs(stack)
    assert log.ended_at == T0 + timedelta(seconds=30)
    assert log.watched_seconds == 30
    late = stack.beat_raw(sid, 4, 40, at=30 + timeout + 1)
    assert late.status_code == 404
    # a stop after the flush is a no-op answering the stored totals
    stopped = stack.stop(sid, 5, 50)
    assert stopped.status_code == 200
    assert stopped.json()["watched_seconds"] == 30


def test_second_stop_is_a_no_op_and_heartbeats_after_stop_are_404(stack: Stack) -> None:
    sid = stack.start()
    stack.beat(sid, 1, 10, at=10)
    first = stack.stop(sid, 2, 20, at=20)
    second = stack.stop(sid, 3, 90, at=90)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    after = stack.beat_raw(sid, 4, 30, at=91)
    assert after.status_code == 404
    assert after.json()["error"]["code"] == "not_found"
    flush_once(stack.runtime, now=T0 + timedelta(seconds=92))
    third = stack.stop(sid, 5, 90, at=93)
    assert third.status_code == 200
    assert third.json() == first.json()
    [log] = logs(stack)
    assert log.ended_at == T0 + timedelta(seconds=20)


def test_unknown_session_is_404(stack: Stack) -> None:
    unknown = str(uuid.uuid4())
    assert stack.beat_raw(unknown, 1, 10).status_code == 404
    assert stack.stop(unknown, 1, 10).status_code == 404


def test_only_the_sessions_viewer_may_report(stack: Stack) -> None:
    w = stack.world
    sid = stack.start(token=w.viewer_token)
    other = stack.beat_raw(sid, 1, 10, at=10, token=w.other_token)
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "forbidden"
    nobody = stack.beat_raw(sid, 1, 10, at=10)
    assert nobody.status_code == 401
    assert stack.stop(sid, 1, 10, token=w.other_token).status_code == 403
    assert stack.beat(sid, 1, 10, at=10, token=w.viewer_token)["watched_seconds"] == 10
    # an anonymous session takes reports from whoever holds its id
    stack.clock.at(0)
    anon = stack.start()
    assert stack.beat(anon, 1, 10, at=10, token=w.other_token)["watched_seconds"] == 10
    assert stack.beat(anon, 2, 20, at=20)["watched_seconds"] == 20
    bad = stack.beat_raw(anon, 3, 30, at=30, token="not-a-jwt")
    assert bad.status_code == 401


def test_heartbeat_validation_gives_clear_422(stack: Stack) -> None:
    sid = stack.start()
    cases = [
        (True, 10, "playing", "seq"),
        (0, 10, "playing", "seq"),
        (10**9 + 1, 10, "playing", "seq"),
        (1.5, 10, "playing", "seq"),
        ("1", 10, "playing", "seq"),
        (1, "10", "playing", "position_seconds"),
        (1, True, "playing", "position_seconds"),
        (1, -0.001, "playing", "position_seconds"),
        (1, 1_000_001, "playing", "position_seconds"),
        (1, None, "playing", "position_seconds"),
        (1, 10, "rewinding", "state"),
    ]
    for seq, position, state, field in cases:
        response = stack.beat_raw(sid, seq, position, state=state)
        assert response.status_code == 422, (seq, position, state)
        error = response.json()["error"]
        assert error["code"] == "invalid_input"
        assert error["message"].startswith(field), error["message"]
    infinite = stack.client.post(
        f"/api/v1/playback/sessions/{sid}/heartbeats",
        content=b'{"seq": 1, "position_seconds": Infinity, "state": "playing"}',
        headers={"content-type": "application/json"},
    )
    assert infinite.status_code == 422
    assert stack.beat(sid, 1, 10.25, at=10)["watched_seconds"] == 10  # fractions are fine


def test_flood_is_refused_with_429_and_retry_after(stack: Stack) -> None:
    per_session = stack.runtime.settings.heartbeat_rate_per_session
    sid = stack.start()
    stack.clock.at(500.25)
    answers = [stack.beat_raw(sid, seq, seq) for seq in range(1, per_session + 3)]
    codes = [a.status_code for a in answers]
    assert codes == [200] * per_session + [429, 429]
    refused = answers[-1]
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "rate_limited"
    stack.clock.at(501.1)  # the next window lets it through again
    assert stack.beat_raw(sid, 50, 50).status_code == 200


def test_flood_from_one_ip_over_many_sessions(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.runtime.settings, "heartbeat_rate_per_ip", 4)
    sessions = [stack.start() for _ in range(3)]
    stack.clock.at(700)
    codes = [stack.beat_raw(sid, 1, 1).status_code for sid in sessions]
    codes += [stack.beat_raw(sid, 2, 2).status_code for sid in sessions]
    assert codes == [200, 200, 200, 200, 429, 429]


def test_close_and_flush_day_closes_live_sessions_of_that_day_only(stack: Stack) -> None:
    today = stack.start()
    stack.beat(today, 1, 10, at=10)
    stack.clock.at(15 * 3600 + 1)  # 2026-11-02 00:00:01 in Seoul
    tomorrow = stack.start()
    n = close_and_flush_day(stack.runtime, date(2026, 11, 1), now=T0 + timedelta(seconds=15))
    assert n == 1
    [log] = logs(stack)
    assert str(log.session_id) == today
    assert log.ended_at == T0 + timedelta(seconds=10)
    assert stack.beat_raw(today, 2, 20, at=20).status_code == 404
    assert stack.beat(tomorrow, 1, 5, at=15 * 3600 + 6)["watched_seconds"] == 5
    assert close_and_flush_day(stack.runtime, date(2026, 11, 1)) == 0


def test_many_sessions_flush_in_batches(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack.runtime.settings, "flusher_batch_size", 3)
    ids = [stack.start() for _ in range(7)]
    for sid in ids[:5]:
        stack.stop(sid, 1, 5, at=5)
    # 5 stopped + 2 idle (silent since T0)
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=3600)) == 7
    assert sorted(str(x.session_id) for x in logs(stack)) == sorted(ids)
    assert [x.watched_seconds for x in logs(stack) if str(x.session_id) in ids[:5]] == [5] * 5


def test_revoked_token_is_refused_and_the_hot_path_is_async(stack: Stack) -> None:
    from streamsettle.services.identity.revocation import revoke
    from streamsettle.services.identity.tokens import issue_access_token

    w = stack.world
    token, claims = issue_access_token(stack.runtime.settings, w.viewer_id, ["viewer"])
    sid = stack.start(token=token)
    assert stack.beat(sid, 1, 10, at=10, token=token)["watched_seconds"] == 10
    revoke(stack.runtime, claims)
    refused = stack.beat_raw(sid, 2, 20, at=20, token=token)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "access token revoked"
    reporter = stack.runtime.heartbeats
    assert isinstance(reporter, LoopReporters) == (stack.kind == "redis")
