"""Both session stores against the pure rules: the same reports give the same progress."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date

import pytest

from streamsettle.domain.playback import Progress, apply_heartbeat, apply_stop
from streamsettle.runtime import Runtime
from streamsettle.services.rate_limit import WindowCounter
from streamsettle.sessions import (
    DatabaseSessionStore,
    Limit,
    LiveSession,
    RedisSessionStore,
    Report,
    ReportStatus,
    SessionState,
    SessionStore,
)
from tests.integration.playback.playback_stack import make_world

T0_MS = 1_793_491_200_000  # 2026-11-01T00:00:00Z
DURATION_MS = 900_000
SLOTS = ((300, 1), (600, None), (850, 2))


@pytest.fixture(params=["redis", "database"])
def store_and_video(request: pytest.FixtureRequest) -> Iterator[tuple[SessionStore, int]]:
    if request.param == "redis":
        runtime: Runtime = request.getfixturevalue("runtime")
        assert runtime.redis is not None
        store: SessionStore = RedisSessionStore(runtime.redis)
    else:
        runtime = request.getfixturevalue("sqlite_runtime")
        store = DatabaseSessionStore(runtime.db, runtime.settings.tz, WindowCounter())
    yield store, make_world(runtime).video_id


def new_session(video_id: int, start_ms: int = 0, viewer_id: int | None = None) -> LiveSession:
    return LiveSession(
        session_id=uuid.uuid4(),
        video_id=video_id,
        duration_ms=DURATION_MS,
        ad_slots=SLOTS,
        viewer_id=viewer_id,
        ip="203.0.113.9",
        user_agent="test",
        started_at_ms=T0_MS,
        business_date=date(2026, 11, 1),
        start_position_ms=start_ms,
        progress=Progress.start(start_ms, T0_MS, DURATION_MS),
    )


def test_random_reports_match_the_domain_rules(store_and_video: tuple[SessionStore, int]) -> None:
    store, video_id = store_and_video
    rng = random.Random(20261101)
    for _ in range(25):
        start_ms = rng.choice([0, 0, 123_456, 299_000, 899_000])
        live = new_session(video_id, start_ms)
        store.create(live)
        expected = live.progress
        at = T0_MS
        seq = 0
        for _ in range(rng.randint(1, 14)):
            at += rng.choice([0, 1, 999, 5_000, 10_000, 10_000, 60_000])
            seq = max(1, seq + rng.choice([1, 1, 1, 2, 0, -1]))
            position = rng.choice(
                [
                    expected.position_ms + rng.randint(0, 15_000),
                    expected.position_ms - rng.randint(0, 30_000),
                    rng.randint(-5_000, 1_000_000),
                ]
            )
            playing = rng.random() < 0.8
            expected, accepted = apply_heartbeat(
                expected,
                seq=seq,
                position_ms=position,
                playing=playing,
                at_ms=at,
                duration_ms=DURATION_MS,
                slot_positions=[p for p, _ in SLOTS],
            )
            outcome = store.report(
                Report(
                    live.session_id,
                    caller_id=None,
                    seq=seq,
                    position_ms=position,
                    playing=playing,
                    stop=False,
                    now_ms=at,
                )
            )
            assert outcome.status is (ReportStatus.ACCEPTED if accepted else ReportStatus.DUPLICATE)
            assert outcome.watched_ms == expected.watched_ms
            assert outcome.slots_reached == tuple(sorted(expected.slots_reached))
        at += 4_321
        final_seq = seq + rng.choice([1, 0])
        stop_position = expected.position_ms + 4_000
        expected = apply_stop(
            expected,
            seq=final_seq,
            position_ms=stop_position,
            at_ms=at,
            duration_ms=DURATION_MS,
            slot_positions=[p for p, _ in SLOTS],
        )
        store.report(
            Report(
                live.session_id,
                caller_id=None,
                seq=final_seq,
                position_ms=stop_position,
                playing=True,
                stop=True,
                now_ms=at,
            )
        )
        [claimed] = [
            s
            for s in store.claim_day(date(2026, 11, 1), now_ms=at, lease_ms=1, limit=1000)
            if s.session_id == live.session_id
        ]
        assert claimed.progress == expected
        assert claimed.state is SessionState.STOPPED
        assert claimed.ended_at_ms == at
        assert claimed.ad_slots == SLOTS
        assert claimed.start_position_ms == start_ms
        store.release([claimed])
    assert store.live_count() == 0


def test_claims_lease_sessions_away_from_a_second_flusher(
    store_and_video: tuple[SessionStore, int],
) -> None:
    store, video_id = store_and_video
    stopped, idle, fresh = (new_session(video_id) for _ in range(3))
    for s in (stopped, idle, fresh):
        store.create(s)
    store.report(
        Report(
            stopped.session_id,
            caller_id=None,
            seq=1,
            position_ms=5_000,
            playing=True,
            stop=True,
            now_ms=T0_MS + 5_000,
        )
    )
    store.report(
        Report(
            fresh.session_id,
            caller_id=None,
            seq=1,
            position_ms=50_000,
            playing=True,
            stop=False,
            now_ms=T0_MS + 50_000,
        )
    )
    now = T0_MS + 60_000
    first = store.claim_due(now_ms=now, idle_before_ms=T0_MS + 10_000, lease_ms=30_000, limit=10)
    assert {s.session_id for s in first} == {stopped.session_id, idle.session_id}
    by_id = {s.session_id: s for s in first}
    assert by_id[idle.session_id].ended_at_ms == T0_MS  # ends at its last accepted report
    assert by_id[stopped.session_id].ended_at_ms == T0_MS + 5_000
    second = store.claim_due(now_ms=now, idle_before_ms=T0_MS + 10_000, lease_ms=30_000, limit=10)
    assert second == []
    # a closed session refuses heartbeats (ENDED) but shows its totals
    late = store.report(
        Report(
            idle.session_id,
            caller_id=None,
            seq=1,
            position_ms=1_000,
            playing=True,
            stop=False,
            now_ms=now,
        )
    )
    assert late.status is ReportStatus.ENDED
    # once the lease ends the sessions are due again (the first flusher may have died)
    again = store.claim_due(
        now_ms=now + 30_000, idle_before_ms=T0_MS + 10_000, lease_ms=30_000, limit=10
    )
    assert {s.session_id for s in again} == {stopped.session_id, idle.session_id}
    store.release(again)
    assert store.live_count() == 1


def test_rate_limits_count_every_report_in_a_window(
    store_and_video: tuple[SessionStore, int],
) -> None:
    store, video_id = store_and_video
    live = new_session(video_id)
    store.create(live)
    limits = [Limit("ip:203.0.113.9", 3), Limit(f"session:{live.session_id}", 100)]
    statuses = [
        store.report(
            Report(
                live.session_id,
                caller_id=None,
                seq=seq,
                position_ms=seq * 100,
                playing=True,
                stop=False,
                now_ms=T0_MS + 10_250,
            ),
            limits=limits,
        )
        for seq in range(1, 6)
    ]
    assert [s.status for s in statuses] == [ReportStatus.ACCEPTED] * 3 + [
        ReportStatus.RATE_LIMITED
    ] * 2
    assert statuses[-1].retry_after_ms == 750
