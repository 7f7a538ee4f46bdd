"""An answered stop is in the database: its watch log and the viewer's resume position are
committed before the 200, without waiting for the flusher (both stores)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from streamsettle.db.models import ResumePosition, WatchLog
from streamsettle.services.ingest.flusher import flush_once
from tests.integration.playback.playback_stack import T0, Stack


def test_a_stop_is_a_watch_log_before_its_answer(stack: Stack) -> None:
    w = stack.world
    sid = stack.start(token=w.viewer_token)
    stack.beat(sid, 1, 10, at=10, token=w.viewer_token)
    stack.beat(sid, 2, 310, at=20, token=w.viewer_token)  # seeks past the 300 mid-roll
    stopped = stack.stop(sid, 3, 318.25, at=28, token=w.viewer_token)
    assert stopped.status_code == 200, stopped.text
    answer = stopped.json()
    with stack.runtime.db.session() as s:
        log = s.scalars(select(WatchLog).where(WatchLog.session_id == uuid.UUID(sid))).one()
        hits = [position for position, _ in log.ad_slots]
    assert log.watched_seconds == answer["watched_seconds"] == 30  # 10 + 12 + 8.25, floored
    assert log.end_position_seconds == Decimal("318.250")
    assert log.ended_at == T0 + timedelta(seconds=28)
    assert hits == answer["ad_slots_reached"] == [300]


def test_resume_right_after_a_stop_is_the_stop_position(stack: Stack) -> None:
    w = stack.world
    sid = stack.start(token=w.viewer_token)
    stack.beat(sid, 1, 100, at=100, token=w.viewer_token)
    assert stack.stop(sid, 2, 123.5, at=124, token=w.viewer_token).status_code == 200
    response = stack.client.post(
        "/api/v1/playback/sessions", json={"video_id": w.video_id}, headers=w.auth(w.viewer_token)
    )
    assert response.status_code == 201
    assert response.json()["resume_position_seconds"] == 123.5
    with stack.runtime.db.session() as s:
        row = s.get(ResumePosition, (w.viewer_id, w.video_id))
    assert row is not None and row.position_seconds == Decimal("123.500")


def test_stops_again_and_the_flusher_store_one_watch_log(stack: Stack) -> None:
    sid = stack.start()
    stack.beat(sid, 1, 10, at=10)
    first = stack.stop(sid, 2, 20, at=20)
    again = stack.stop(sid, 3, 40, at=40)  # a retried stop: a no-op answering the totals
    assert first.json() == again.json()
    store = stack.runtime.sessions
    assert store.live_count() == 1  # the flusher releases it
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=41)) == 1
    assert store.live_count() == 0
    assert stack.stop(sid, 4, 50, at=50).json() == first.json()  # from the watch log now
    with stack.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(WatchLog)) == 1
        log = s.scalars(select(WatchLog).where(WatchLog.session_id == uuid.UUID(sid))).one()
    assert log is not None and log.watched_seconds == 20
