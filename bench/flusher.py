"""Flusher throughput: ended live sessions in Redis become watch logs, logs/s.

Seeds (not timed) a throwaway database with a catalogue (``--videos`` 900 s videos with the
default slots at 300 and 600 s, ``--viewers`` users) and a Redis logical database of its own
with ``--sessions`` sessions started over one day through the session store's own API
(``create``, then three to six heartbeats each through the production reporter, 10 s
apart, some seeking past ad slots), and their checkpoints as the flusher writes them while
they are live. Then times ``flush_once`` at a moment when every session is idle past the
timeout, pass after pass until the store is empty, and checks that every session has its
watch log. The reference is the write path alone: ``write_sessions`` on the same sessions,
in batches of the same size, into a fresh database with the same catalogue and
checkpoints; the rest of the flusher's time is Redis and Python.

The Redis database is the highest of 15 to 1 not claimed by a test run (``--redis-db`` to
choose one); it is claimed the way the tests claim theirs, flushed before and after.

    python -m bench.flusher [--quick] [--sessions N] [--batch-size N] [--videos N]
                            [--viewers N] [--redis-db N]
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import redis

from bench import common
from bench.import_logs import BENCH_SECRET, seed_catalogue
from streamsettle.config import Settings
from streamsettle.domain.periods import business_date
from streamsettle.domain.playback import Progress
from streamsettle.runtime import Runtime
from streamsettle.services.ingest.flusher import flush_once, write_checkpoints, write_sessions
from streamsettle.sessions import LiveSession, Report, ReportStatus
from streamsettle.sessions.codec import datetime_to_ms, ms_to_datetime
from streamsettle.sessions.redis_store import AsyncRedisReporter

SESSIONS = common.Size("sessions", "ended sessions to flush", full=100_000, quick=10_000)
REDIS_SERVER = os.environ.get("STREAMSETTLE_BENCH_REDIS_SERVER", "redis://127.0.0.1:6379")
CLAIM_KEY = "streamsettle-test-run"
"""The key by which test runs (tests/conftest.py) claim a Redis database: they skip ours."""
DAY = datetime(2026, 11, 1, tzinfo=UTC)
DURATION_MS = 900_000
BEAT_MS = 10_000
MAX_PASSES = 100


@dataclass(frozen=True)
class Plan:
    """One session to seed: its start and its heartbeats' ``(position_ms, at_ms)``."""

    session: LiveSession
    beats: tuple[tuple[int, int], ...]


def ad_slots(url: str) -> dict[int, tuple[tuple[int, int | None], ...]]:
    """Each video's ``(position_seconds, ad_id)`` slots, as a started session holds them."""
    with psycopg.connect(common.conninfo(url)) as connection:
        rows = connection.execute(
            "SELECT video_id, position_seconds, ad_id FROM ad_slots ORDER BY video_id, 2"
        ).fetchall()
    by_video: dict[int, list[tuple[int, int | None]]] = {}
    for video_id, position, ad_id in rows:
        by_video.setdefault(video_id, []).append((position, ad_id))
    return {video_id: tuple(slots) for video_id, slots in by_video.items()}


def plan_sessions(
    count: int,
    slots: dict[int, tuple[tuple[int, int | None], ...]],
    viewer_ids: Sequence[int],
    tz: ZoneInfo,
) -> list[Plan]:
    """Sessions started over one day: 60 % signed in, 30 % resuming mid-video, 30 % seeking
    forward once (past a slot, most often), a heartbeat every 10 s while playing."""
    rng = random.Random(11)
    video_ids = sorted(slots)
    plans = []
    for _ in range(count):
        started = DAY + timedelta(milliseconds=rng.randrange(86_400_000))
        at_ms = datetime_to_ms(started)
        start_ms = rng.randrange(0, 800_000, 1000) if rng.random() < 0.3 else 0
        seek = rng.randrange(1, 4) if rng.random() < 0.3 else 0
        position = start_ms
        beats = []
        for k in range(1, rng.randint(3, 6) + 1):
            position += BEAT_MS + (rng.randrange(60_000, 600_000, 1000) if k == seek else 0)
            position = min(position, DURATION_MS)
            beats.append((position, at_ms + k * BEAT_MS))
        viewer = rng.choice(viewer_ids) if rng.random() < 0.6 else None
        video_id = rng.choice(video_ids)
        session = LiveSession(
            session_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            video_id=video_id,
            duration_ms=DURATION_MS,
            ad_slots=slots[video_id],
            viewer_id=viewer,
            ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            user_agent="Mozilla/5.0 (bench)",
            started_at_ms=at_ms,
            business_date=business_date(started, tz),
            start_position_ms=start_ms,
            progress=Progress.start(start_ms, at_ms, DURATION_MS),
        )
        plans.append(Plan(session, tuple(beats)))
    return plans


async def _send_heartbeats(redis_url: str, plans: list[Plan]) -> int:
    """Every planned heartbeat through the production reporter, in order; how many sessions
    reached an ad slot."""
    reporter = AsyncRedisReporter.from_url(redis_url)
    reports = [
        Report(p.session.session_id, p.session.viewer_id, seq, position, True, False, at)
        for p in plans
        for seq, (position, at) in enumerate(p.beats, start=1)
    ]
    reached: set[uuid.UUID] = set()
    try:
        for start in range(0, len(reports), 20_000):
            chunk = reports[start : start + 20_000]
            outcomes = await asyncio.gather(*(reporter.report(r) for r in chunk))
            for report, outcome in zip(chunk, outcomes, strict=True):
                assert outcome.status is ReportStatus.ACCEPTED, outcome
                if outcome.slots_reached:
                    reached.add(report.session_id)
    finally:
        await reporter.close()
    return len(reached)


@contextmanager
def claimed_redis(number: int | None) -> Iterator[tuple[int, str]]:
    """A Redis database claimed for this run and empty: the highest free one of 15..1, or
    ``number``; flushed again on the way out."""
    token = f"bench-flusher-{os.getpid()}-{uuid.uuid4().hex}"
    for candidate in [number] if number is not None else range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{candidate}")
        if client.set(CLAIM_KEY, token, nx=True, ex=3600):
            break
        client.close()
    else:
        raise SystemExit(f"no free Redis database (tried {number or '15..1'}) on {REDIS_SERVER}")
    try:
        pipe = client.pipeline(transaction=True)
        pipe.flushdb()
        pipe.set(CLAIM_KEY, token, ex=3600)
        pipe.execute()
        yield candidate, f"{REDIS_SERVER}/{candidate}"
    finally:
        if client.get(CLAIM_KEY) == token.encode():
            client.flushdb()
        client.close()


def _settings(url: str, redis_url: str | None, batch_size: int | None) -> Settings:
    extra: dict[str, Any] = {} if batch_size is None else {"flusher_batch_size": batch_size}
    return Settings(
        _env_file=None,
        database_url=url,
        redis_url=redis_url,
        jwt_secret=BENCH_SECRET,
        embedded=False,
        log_json=False,
        **extra,
    )


def _watch_logs(url: str) -> int:
    with psycopg.connect(common.conninfo(url)) as connection:
        row = connection.execute("SELECT count(*) FROM watch_logs").fetchone()
    assert row is not None
    return int(row[0])


def _batches(sessions: list[LiveSession], size: int) -> Iterator[list[LiveSession]]:
    for start in range(0, len(sessions), size):
        yield sessions[start : start + size]


def measure(args: Any, sessions: int, quick: bool) -> dict[str, Any]:
    catalogue = {"videos": args.videos, "viewers": args.viewers}
    with (
        common.throwaway_database() as url,
        claimed_redis(args.redis_db) as (redis_db, redis_url),
    ):
        video_ids, viewer_ids = seed_catalogue(url, **catalogue)
        runtime = Runtime.from_settings(_settings(url, redis_url, args.batch_size))
        batch_size = runtime.settings.flusher_batch_size
        idle_ms = runtime.settings.session_idle_timeout_seconds * 1000
        try:
            store = runtime.sessions
            with common.Stopwatch() as seeding:
                plans = plan_sessions(sessions, ad_slots(url), viewer_ids, runtime.settings.tz)
                for plan in plans:
                    store.create(plan.session)
                with_slots = asyncio.run(_send_heartbeats(redis_url, plans))
                store.lost_data()  # sets the marker, as the first pass after a start does
            # The checkpoints the flusher writes while the sessions are live, in its batches.
            last_ms = max(p.beats[-1][1] for p in plans)
            live: list[LiveSession] = []
            with common.Stopwatch() as checkpointing:
                while changed := store.take_changed(batch_size):
                    write_checkpoints(runtime, changed, ms_to_datetime(last_ms))
                    live += changed
            assert len(live) == sessions, (len(live), sessions)
            now = ms_to_datetime(last_ms + idle_ms + 1000)
            common.checkpoint(url)
            passes = moved = 0
            with common.Stopwatch() as flushing:
                while store.live_count():
                    passes += 1
                    if passes > MAX_PASSES:
                        raise RuntimeError(f"the store is not drained after {MAX_PASSES} passes")
                    moved += flush_once(runtime, now)
        finally:
            runtime.close()
        stored = _watch_logs(url)
        assert moved == stored == sessions, (moved, stored, sessions)
    with common.throwaway_database() as url:
        assert seed_catalogue(url, **catalogue) == (video_ids, viewer_ids)
        runtime = Runtime.from_settings(_settings(url, None, batch_size))
        try:
            ordered = sorted(live, key=lambda s: s.progress.at_ms)  # the flusher's claim order
            write_checkpoints(runtime, ordered, ms_to_datetime(last_ms))
            common.checkpoint(url)
            written = 0
            with common.Stopwatch() as writing:
                for batch in _batches(ordered, batch_size):
                    written += write_sessions(runtime, batch)
        finally:
            runtime.close()
        assert written == _watch_logs(url) == sessions, (written, sessions)
    days = sorted({s.business_date for s in live})
    return {
        "name": "flusher",
        "quick": quick,
        "sizes": {
            "sessions": sessions,
            "heartbeats": sum(len(p.beats) for p in plans),
            "sessions_with_ad_slots_reached": with_slots,
            "business_dates": [d.isoformat() for d in days],
            **catalogue,
        },
        "batch_size": batch_size,
        "redis_db": redis_db,
        "seeding_seconds": round(seeding.seconds, 3),
        "checkpoint_seconds": round(checkpointing.seconds, 3),
        "sessions": sessions,
        "stored": stored,
        "passes": passes,
        "seconds": round(flushing.seconds, 3),
        "logs_per_second": common.rate(sessions, flushing.seconds),
        "reference": {
            "name": "write_sessions alone on the same sessions, same batches, fresh database",
            "seconds": round(writing.seconds, 3),
            "rows_per_second": common.rate(sessions, writing.seconds),
            "share_of_flush": round(writing.seconds / flushing.seconds, 3),
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    args_parser = common.parser(__doc__, "flusher")
    SESSIONS.add(args_parser)
    args_parser.add_argument(
        "--batch-size", type=int, help="the flusher's batch (default: the settings', 1000)"
    )
    args_parser.add_argument("--videos", type=int, default=1_000)
    args_parser.add_argument("--viewers", type=int, default=10_000)
    args_parser.add_argument("--redis-db", type=int, help="the Redis database (default: 15..1)")
    args = args_parser.parse_args(argv)
    sessions = SESSIONS.of(args)
    common.emit(measure(args, sessions, args.quick))


if __name__ == "__main__":
    main(sys.argv[1:])
