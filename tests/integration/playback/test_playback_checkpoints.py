"""Checkpoints of live sessions (Redis store): only what changed since the last pass is
copied, and a session Redis lost without losing everything (say, a failover to a replica
that lagged) is flushed from its checkpoint once it is overdue; heartbeats with a token
whose login was revoked are refused on the hot path (both stores)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select

from streamsettle.db.models import PlaybackCheckpoint, User, WatchLog
from streamsettle.services.identity.auth import issue_token_pair
from streamsettle.services.ingest.flusher import (
    LEASE_MS,
    checkpoint,
    close_and_flush_day,
    flush_once,
)
from streamsettle.sessions.redis_store import SESSION_PREFIX
from tests.integration.playback.playback_stack import T0, Stack


def _checkpoints(stack: Stack) -> dict[str, PlaybackCheckpoint]:
    with stack.runtime.db.session() as s:
        return {str(c.session_id): c for c in s.scalars(select(PlaybackCheckpoint))}


def test_a_pass_checkpoints_only_the_sessions_changed_since_the_last(redis_stack: Stack) -> None:
    stack = redis_stack
    a, b, c = (stack.start() for _ in range(3))
    assert checkpoint(stack.runtime, T0) == 3  # started: checkpointed once
    assert checkpoint(stack.runtime, T0) == 0
    stack.beat(a, 1, 10, at=10)
    stack.beat(b, 1, 10, at=10)
    stack.beat(b, 1, 10, at=11)  # a duplicate changes nothing
    stack.stop(c, 1, 5, at=12)  # a stop is a watch log already: no checkpoint, and none left
    assert checkpoint(stack.runtime, T0 + timedelta(seconds=12)) == 2
    rows = _checkpoints(stack)
    assert sorted(rows) == sorted([a, b])
    assert (rows[a].watched_ms, rows[a].position_ms, rows[a].last_seq) == (10_000, 10_000, 1)
    assert checkpoint(stack.runtime, T0 + timedelta(seconds=13)) == 0


def test_a_session_lost_alone_is_flushed_from_its_checkpoint_once_overdue(
    redis_stack: Stack,
) -> None:
    stack = redis_stack
    kept, lost = stack.start(), stack.start()
    for sid in (kept, lost):
        stack.beat(sid, 1, 10, at=10)
    flush_once(stack.runtime, now=T0 + timedelta(seconds=11))  # checkpoints both
    assert stack.runtime.redis is not None
    stack.runtime.redis.delete(SESSION_PREFIX + lost)  # Redis forgets one session only
    stack.beat(kept, 2, 40, at=40)
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=41)) == 0  # not overdue yet
    overdue = (
        T0
        + timedelta(seconds=11, milliseconds=LEASE_MS)
        + timedelta(seconds=stack.runtime.settings.session_idle_timeout_seconds)
    )
    stack.beat(kept, 3, 70, at=(overdue - T0).total_seconds() - 5)  # still live in Redis
    assert flush_once(stack.runtime, now=overdue) == 1
    with stack.runtime.db.session() as s:
        logs = {str(x.session_id): x for x in s.scalars(select(WatchLog))}
    assert list(logs) == [lost]
    assert logs[lost].watched_seconds == 10
    assert list(_checkpoints(stack)) == [kept]


def test_closing_a_day_also_flushes_its_lost_checkpointed_sessions(redis_stack: Stack) -> None:
    stack = redis_stack
    kept, lost = stack.start(), stack.start()
    for sid in (kept, lost):
        stack.beat(sid, 1, 10, at=10)
    checkpoint(stack.runtime, T0 + timedelta(seconds=11))
    assert stack.runtime.redis is not None
    stack.runtime.redis.delete(SESSION_PREFIX + lost)
    assert close_and_flush_day(stack.runtime, date(2026, 11, 1), now=T0 + timedelta(hours=1)) == 2
    with stack.runtime.db.session() as s:
        watched = {str(x.session_id): x.watched_seconds for x in s.scalars(select(WatchLog))}
    assert watched == {kept: 10, lost: 10}
    assert _checkpoints(stack) == {}


def test_a_login_revoked_for_reuse_is_refused_on_the_heartbeat_path(stack: Stack) -> None:
    w = stack.world
    with stack.runtime.db.session() as s:
        viewer = s.get(User, w.viewer_id)
        assert viewer is not None
        pair = issue_token_pair(s, stack.runtime.settings, viewer)
    token = pair.access_token
    sid = stack.start(token=token)
    assert stack.beat(sid, 1, 10, at=10, token=token)["watched_seconds"] == 10
    client = stack.client
    rotated = client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
    assert rotated.status_code == 200
    replayed = client.post("/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})
    assert replayed.status_code == 401
    for access in (token, rotated.json()["access_token"]):
        refused = stack.beat_raw(sid, 2, 20, at=20, token=access)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["message"] == "access token revoked"
    other = stack.start(token=w.other_token)  # a token of another login still works
    assert uuid.UUID(other)
