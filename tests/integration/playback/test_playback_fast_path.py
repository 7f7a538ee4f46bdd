"""The heartbeat fast path (what it answers itself, what it hands on) and the batching reporter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from streamsettle.api.heartbeat_fast_path import ROUTE
from streamsettle.app import StreamsettleAPI
from streamsettle.sessions.base import Limit, Report, ReportStatus
from streamsettle.sessions.db_store import datetime_to_ms
from streamsettle.sessions.redis_store import AsyncRedisReporter
from tests.integration.playback.playback_stack import T0, Stack


class Recorder:
    """Stands in for the routed app behind the fast path: records what reaches it."""

    def __init__(self, app: StreamsettleAPI) -> None:
        self.fallback = app._front.fallback
        self.seen: list[tuple[str, bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            body = b""
            more = True
            replayed: list[Message] = []
            while more:
                message = await receive()
                replayed.append(message)
                body += message.get("body", b"")
                more = message.get("more_body", False)
            self.seen.append((scope["path"], body))

            async def again() -> Message:
                return replayed.pop(0)

            await self.fallback(scope, again, send)
            return
        await self.fallback(scope, receive, send)


# The fast path and the reporter need Redis: the Redis variant of the stack only.
pytestmark = pytest.mark.parametrize("stack", ["redis"], indirect=True)


@pytest.fixture
def recorder(stack: Stack) -> Iterator[Recorder]:
    app = cast(StreamsettleAPI, stack.client.app)
    recorder = Recorder(app)
    app._front.fallback = recorder
    yield recorder
    app._front.fallback = recorder.fallback


def served(status: str) -> float:
    value = REGISTRY.get_sample_value(
        "streamsettle_http_requests_total", {"method": "POST", "route": ROUTE, "status": status}
    )
    return value or 0.0


def test_well_formed_heartbeats_never_reach_the_router(stack: Stack, recorder: Recorder) -> None:
    sid = stack.start()
    before = served("200")
    assert stack.beat(sid, 1, 10, at=10) == {"watched_seconds": 10, "ad_slots_reached": []}
    assert stack.beat(sid, 2, 310, at=20) == {
        "watched_seconds": 22,
        "ad_slots_reached": [300],
    }
    assert [path for path, _ in recorder.seen] == ["/api/v1/playback/sessions"]  # the start only
    assert served("200") == before + 2  # counted under the route's own label

    response = stack.client.post(
        f"/api/v1/playback/sessions/{sid}/heartbeats",
        json={"seq": 3, "position_seconds": 320, "state": "playing"},
        headers={"X-Request-ID": "trace-42"},
    )
    assert response.headers["x-request-id"] == "trace-42"
    assert response.headers["content-type"] == "application/json"


def test_domain_errors_are_answered_with_the_contract_body(
    stack: Stack, recorder: Recorder
) -> None:
    unknown = uuid.uuid4()
    response = stack.beat_raw(str(unknown), 1, 1)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    bad_token = stack.client.post(
        f"/api/v1/playback/sessions/{stack.start()}/heartbeats",
        json={"seq": 1, "position_seconds": 1, "state": "playing"},
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    assert bad_token.status_code == 401
    assert bad_token.headers["www-authenticate"] == "Bearer"
    assert all(path == "/api/v1/playback/sessions" for path, _ in recorder.seen)


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"seq": 0, "position_seconds": 1, "state": "playing"}', {}),  # seq below 1
        (b'{"seq": 1, "position_seconds": 1, "state": "rewinding"}', {}),
        (b'{"seq": 1, "position_seconds": 1', {}),  # not JSON
        (b'{"seq": 1, "position_seconds": 1, "state": "playing"}', {"content-type": "text/plain"}),
        (
            b'{"seq": 1, "position_seconds": 1, "state": "playing", "pad": "'
            + b"x" * 20_000
            + b'"}',
            {},
        ),
    ],
    ids=["seq", "state", "broken-json", "content-type", "large"],
)
def test_anything_unusual_goes_to_the_router_with_its_body(
    stack: Stack, recorder: Recorder, content: bytes, headers: dict[str, str]
) -> None:
    sid = stack.start()
    response = stack.client.post(
        f"/api/v1/playback/sessions/{sid}/heartbeats",
        content=content,
        headers={"content-type": "application/json", **headers},
    )
    assert recorder.seen[-1] == (f"/api/v1/playback/sessions/{sid}/heartbeats", content)
    if len(content) > 10_000:  # valid apart from its size: the router serves it
        assert response.status_code == 200
    else:
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_input"


def _report(sid: uuid.UUID, seq: int, position_s: int) -> Report:
    return Report(
        session_id=sid,
        caller_id=None,
        seq=seq,
        position_ms=position_s * 1000,
        playing=True,
        stop=False,
        now_ms=datetime_to_ms(T0) + seq * 30_000,
    )


def test_concurrent_reports_share_round_trips_and_keep_their_own_answers(
    stack: Stack,
) -> None:
    sessions = [uuid.UUID(stack.start()) for _ in range(20)]
    url = stack.runtime.settings.redis_url
    assert url is not None

    async def run() -> tuple[list[Any], int]:
        reporter = AsyncRedisReporter.from_url(url)
        sent = 0
        send = reporter._send

        async def counting(batch: Any) -> None:
            nonlocal sent
            sent += 1
            await send(batch)

        reporter._send = counting  # type: ignore[method-assign]
        reporter.MAX_BATCH = 8
        try:
            # session n reports seq 1 at position n: each answer must be its own session's.
            # Every third carries rate limits (more keys), so the calls mix key counts; one
            # report is for a session that does not exist, and one is over its limit.
            def limits(n: int) -> list[Limit]:
                return [Limit(f"test:{n}", 1), Limit(f"test:{n % 2}", 100)] if n % 3 == 0 else []

            outcomes = await asyncio.gather(
                *(
                    reporter.report(_report(sid, 1, n + 1), limits=limits(n))
                    for n, sid in enumerate(sessions)
                ),
                reporter.report(_report(uuid.uuid4(), 1, 1), limits=[Limit("test:x", 1)]),
                reporter.report(_report(sessions[3], 1, 9), limits=[Limit("test:3", 1)]),
            )
            # Redis forgot its scripts (a restart): the next batch loads the script again
            await reporter.redis.script_flush()
            again = await reporter.report(_report(sessions[0], 2, 5))
        finally:
            await reporter.close()
        return [*outcomes, again], sent

    outcomes, round_trips = asyncio.run(run())
    assert [o.status for o in outcomes[:20]] == [ReportStatus.ACCEPTED] * 20
    assert [o.watched_ms for o in outcomes[:20]] == [(n + 1) * 1000 for n in range(20)]
    assert outcomes[20].status is ReportStatus.NOT_FOUND
    assert outcomes[21].status is ReportStatus.RATE_LIMITED  # test:3's second in one second
    assert outcomes[22].status is ReportStatus.ACCEPTED
    assert outcomes[22].watched_ms == 5000  # 1 s, then 1 → 5 s 30 s later
    assert round_trips == 4  # the 22 concurrent reports in calls of 8, 8 and 6; the last
