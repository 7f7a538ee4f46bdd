"""The flusher dies between the database commit and the store delete: nothing is doubled."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from streamsettle import faults
from streamsettle.db.models import WatchLog
from streamsettle.services.ingest.flusher import LEASE_MS, flush_once
from streamsettle.sessions.redis_store import SESSION_PREFIX
from tests.integration.playback.playback_stack import T0, Stack


def counts(stack: Stack) -> tuple[int, int]:
    with stack.runtime.db.session() as s:
        logs = list(s.scalars(select(WatchLog)))
    return len(logs), sum(len(log.ad_slots) for log in logs)


def played_session(stack: Stack) -> str:
    sid = stack.start()
    stack.beat(sid, 1, 310, at=10)  # seeks past the 300 mid-roll
    stack.stop(sid, 2, 320, at=20)
    return sid


def test_killed_after_commit_in_process_then_restart_stores_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    played_session(stack)
    store = stack.runtime.sessions

    def die(*_: object) -> None:
        raise SystemExit("killed between commit and delete")

    monkeypatch.setattr(store, "release", die)
    with pytest.raises(SystemExit):
        flush_once(stack.runtime, now=T0 + timedelta(seconds=21))
    assert counts(stack) == (1, 1)
    assert store.live_count() == 1  # still held, leased
    monkeypatch.undo()
    # another flusher right away leaves the leased session alone
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=22)) == 0
    # after the lease the session is taken again: written once, then deleted
    after_lease = T0 + timedelta(seconds=21, milliseconds=LEASE_MS)
    assert flush_once(stack.runtime, now=after_lease) == 1
    assert counts(stack) == (1, 1)
    assert store.live_count() == 0


def test_flusher_process_killed_after_commit_then_restarted(
    redis_stack: Stack, tmp_path: Path
) -> None:
    stack = redis_stack
    sid = played_session(stack)
    settings = stack.runtime.settings
    env = {
        **os.environ,
        "STREAMSETTLE_DATABASE_URL": settings.database_url,
        "STREAMSETTLE_REDIS_URL": str(settings.redis_url),
        "STREAMSETTLE_JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "STREAMSETTLE_LOG_JSON": "false",
    }
    command = [str(Path(sys.executable).parent / "streamsettle"), "flusher", "--once"]
    crashed = subprocess.run(
        command,
        env={**env, **faults.armed(faults.FLUSHER_AFTER_COMMIT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crashed.returncode == 75, crashed.stderr
    assert counts(stack) == (1, 1)
    redis = stack.runtime.redis
    assert redis is not None
    assert redis.exists(SESSION_PREFIX + sid)  # the delete never happened
    # the restarted flusher finds it leased; the test moves the lease's end instead of waiting
    redis.zadd("playback:ended", {sid: 0})
    restarted = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert restarted.returncode == 0, restarted.stderr
    assert "flushed 1 session(s)" in restarted.stdout
    assert counts(stack) == (1, 1)
    assert not redis.exists(SESSION_PREFIX + sid)
    assert stack.runtime.sessions.live_count() == 0


def test_a_session_the_database_refuses_does_not_hold_back_its_batch(redis_stack: Stack) -> None:
    from streamsettle.db.models import Video

    stack = redis_stack
    good = played_session(stack)
    stack.clock.at(0)
    doomed = stack.start(video_id=stack.world.short_video_id)
    with stack.runtime.db.session() as s:  # the video disappears while its session is live
        video = s.get(Video, stack.world.short_video_id)
        assert video is not None
        s.delete(video)
    refused = stack.stop(doomed, 1, 5, at=20)  # stopped, but its watch log cannot be stored
    assert refused.status_code == 409, refused.text
    assert flush_once(stack.runtime, now=T0 + timedelta(seconds=21)) == 1
    with stack.runtime.db.session() as s:
        assert [str(x) for x in s.scalars(select(WatchLog.session_id))] == [good]
    assert stack.runtime.sessions.live_count() == 1  # kept, leased, for a later try
