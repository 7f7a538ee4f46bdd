"""Redis dies (kill -9) and comes back empty: answered stops are already watch logs, live
sessions reach the watch logs from their last checkpoint, and revocations still hold.

These tests run a Redis server of their own (``support.redis_server``), never the shared
one, without persistence, so that a restart really loses everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from streamsettle.api.routers.playback import get_now
from streamsettle.app import create_app
from streamsettle.db.models import PlaybackCheckpoint, ResumePosition, User, WatchLog
from streamsettle.runtime import Runtime
from streamsettle.services.identity.auth import issue_token_pair
from streamsettle.services.ingest.flusher import flush_once
from tests.integration.playback.playback_stack import T0, FakeClock, Stack, make_world
from tests.support.redis_server import RedisProcess


@pytest.fixture
def lossy(runtime: Runtime, tmp_path: Path) -> Iterator[tuple[Stack, RedisProcess]]:
    """The whole app on the test database and a Redis server of this test's own."""
    server = RedisProcess(tmp_path)
    server.start()
    own = Runtime.from_settings(runtime.settings.model_copy(update={"redis_url": server.url}))
    try:
        with TestClient(create_app(own)) as client:
            clock = FakeClock()
            cast(FastAPI, client.app).dependency_overrides[get_now] = clock
            yield Stack("redis", own, client, clock, make_world(own)), server
    finally:
        own.close()
        server.stop()


def _watch_logs(stack: Stack) -> dict[str, WatchLog]:
    with stack.runtime.db.session() as s:
        return {str(log.session_id): log for log in s.scalars(select(WatchLog))}


def test_fifty_answered_stops_survive_a_kill_9_of_redis(
    lossy: tuple[Stack, RedisProcess],
) -> None:
    stack, server = lossy
    w = stack.world
    answered: dict[str, int] = {}
    for i in range(50):
        token = w.viewer_token if i % 2 else None
        stack.clock.at(0)
        sid = stack.start(token=token, start_position_seconds=0)  # not where the last one ended
        stack.beat(sid, 1, 10, at=10, token=token)
        stopped = stack.stop(sid, 2, 10 + i % 8, at=20, token=token)
        assert stopped.status_code == 200, stopped.text
        answered[sid] = stopped.json()["watched_seconds"]
    server.kill()  # no flusher has run; Redis is gone for good
    for down in (
        stack.beat_raw(sid, 3, 30, at=30),
        stack.stop(sid, 3, 30, at=30),
        stack.client.post("/api/v1/playback/sessions", json={"video_id": w.video_id}),
    ):
        assert down.status_code == 503, down.text
        assert down.json()["error"]["code"] == "unavailable"
    logs = _watch_logs(stack)
    assert len(logs) == 50
    assert {sid: log.watched_seconds for sid, log in logs.items()} == answered
    assert sorted(set(answered.values())) == list(range(10, 18))


def test_live_sessions_reach_the_watch_logs_from_their_last_checkpoint(
    lossy: tuple[Stack, RedisProcess],
) -> None:
    stack, server = lossy
    w = stack.world
    tokens = [w.viewer_token if i == 0 else None for i in range(20)]
    stack.clock.at(0)
    sids = [stack.start(token=token) for token in tokens]
    for sid, token in zip(sids, tokens, strict=True):
        stack.beat(sid, 1, 10, at=10, token=token)
        stack.beat(sid, 2, 20, at=20, token=token)
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=21)) == 0  # none idle yet
    with stack.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(PlaybackCheckpoint)) == 20
    assert _watch_logs(stack) == {}  # checkpoints are not watch logs while Redis holds them
    for sid, token in zip(sids, tokens, strict=True):  # after the checkpoint: lost with Redis
        assert stack.beat(sid, 3, 30, at=30, token=token)["watched_seconds"] == 30

    server.restart_empty()
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=31)) == 20

    logs = _watch_logs(stack)
    assert sorted(logs) == sorted(sids)
    for log in logs.values():  # each ends at its checkpoint: 10 s (one report) lost of 30
        assert log.watched_seconds == 20
        assert log.end_position_seconds == Decimal("20.000")
        assert log.ended_at == T0 + timedelta(seconds=20)
    with stack.runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(PlaybackCheckpoint)) == 0
        resume = s.get(ResumePosition, (w.viewer_id, w.video_id))
    assert resume is not None and resume.position_seconds == Decimal("20.000")
    # the players: a heartbeat is 404, a stop answers the recovered totals
    assert stack.beat_raw(sids[1], 4, 40, at=40).status_code == 404
    assert stack.stop(sids[1], 4, 40, at=40).json()["watched_seconds"] == 20
    # the restarted Redis serves new sessions (the scripts are loaded again)
    fresh = stack.start(token=w.viewer_token, start_position_seconds=0)
    assert stack.beat(fresh, 1, 5, at=45, token=w.viewer_token)["watched_seconds"] == 5
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=46)) == 0


def test_a_logged_out_token_is_still_refused_after_redis_restarts_empty(
    lossy: tuple[Stack, RedisProcess],
) -> None:
    stack, server = lossy
    w = stack.world
    with stack.runtime.db.session() as s:
        viewer = s.get(User, w.viewer_id)
        assert viewer is not None
        pair = issue_token_pair(s, stack.runtime.settings, viewer)
    token = pair.access_token
    sid = stack.start(token=token)
    stack.beat(sid, 1, 10, at=10, token=token)
    out = stack.client.post("/api/v1/auth/logout", headers=w.auth(token))
    assert out.status_code == 204
    assert stack.beat_raw(sid, 2, 20, at=20, token=token).status_code == 401

    server.restart_empty()  # the heartbeat's script finds no revocations: they are loaded
    refused = stack.beat_raw(sid, 2, 20, at=20, token=token)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["message"] == "access token revoked"

    server.restart_empty()  # the other checks load them too
    assert stack.client.get("/api/v1/me", headers=w.auth(token)).status_code == 401
    again = stack.client.post(
        "/api/v1/playback/sessions", json={"video_id": w.video_id}, headers=w.auth(token)
    )
    assert again.status_code == 401
    refresh = stack.client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
    assert refresh.status_code == 401
    other = stack.start(token=w.other_token)  # other viewers are not affected
    assert uuid.UUID(other)
    assert stack.beat(other, 1, 5, at=25, token=w.other_token)["watched_seconds"] == 5
