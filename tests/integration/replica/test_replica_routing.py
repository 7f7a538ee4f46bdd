"""Reads on a real hot standby: routing, read-your-writes, outages and lag.

Each test settles days through the API of an app whose primary and standby are the pair's
real servers; pausing the standby's replay (``pg_wal_replay_pause()``) freezes what it
serves, so "older state" means the figures as they were when the replay stopped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select

from streamsettle.app import create_app
from streamsettle.db.models import User
from streamsettle.db.replica import LocalWriteMarks, RedisWriteMarks, ReplicaRouter
from streamsettle.runtime import Runtime
from streamsettle.services.identity.passwords import hash_password
from tests.integration.replica.replica_stage import Stage
from tests.support.replica import free_port, read_sessions

DAY1, DAY2 = "2026-11-01", "2026-11-02"
MONTH = {"period": "month", "date": DAY1}
ME = "/api/v1/settlements/creators/me"
TOP = "/api/v1/stats/top-videos"


@pytest.fixture
def paused(stage: Stage) -> Iterator[Stage]:
    """Day 1 settled and replayed, then the standby's replay paused (resumed afterwards)."""
    stage.import_views(DAY1, 3)
    stage.settle(DAY1)
    stage.pair.wait_caught_up()
    stage.pair.pause_replay()
    yield stage
    stage.pair.resume_replay()


def test_others_read_the_standby_while_the_admin_sees_the_batch_at_once(paused: Stage) -> None:
    stage = paused
    before = stage.get(stage.creator_a, ME, **MONTH)
    assert before["views"] == 3
    stage.import_views(DAY2, 5)
    stage.settle(DAY2)  # committed on the primary; the standby is frozen before it

    # (b) the admin who ran it sees its result at once: their reads went to the primary
    primary = read_sessions("primary", "replica behind own writes")
    top = stage.get(stage.admin, TOP, period="day", date=DAY2)
    assert [(i["video_id"], i["views"]) for i in top["items"]] == [(stage.video_id, 5)]
    assert read_sessions("primary", "replica behind own writes") == primary + 1

    # (a) creator A did not write: the standby serves them its older state
    replica = read_sessions("replica")
    assert stage.get(stage.creator_a, ME, **MONTH) == before
    assert stage.get(stage.admin, TOP, period="day", date=DAY1)["items"][0]["views"] == 3
    assert read_sessions("replica") == replica + 1  # A's read; the admin's day-1 read: primary

    stage.pair.resume_replay()
    stage.pair.wait_caught_up()
    after = stage.get(stage.creator_a, ME, **MONTH)
    assert after["views"] == 8 and after["total_amount"] > before["total_amount"]
    assert read_sessions("replica") == replica + 2
    # the admin's mark is now behind the standby: they read from it again
    assert stage.get(stage.admin, TOP, period="day", date=DAY2)["items"][0]["views"] == 5
    assert read_sessions("replica", "replayed own writes") >= 1


def test_every_kind_of_write_keeps_its_writer_on_the_primary(paused: Stage) -> None:
    stage = paused
    writes: dict[str, Callable[[], object]] = {
        "video": lambda: stage.create_video(stage.creator_b, "B's first"),
        "rate card": lambda: stage.client.post(
            "/api/v1/admin/rate-cards",
            headers=stage.admin,
            json={
                "effective_from": "2026-12-01",
                "video_tiers": [{"from_views": 0, "unit_price": "1.5"}],
                "ad_tiers": [{"from_views": 0, "unit_price": "12"}],
            },
        ).raise_for_status(),
        "import": lambda: stage.import_views(DAY2, 1),
    }
    writer_of = {"video": stage.creator_b, "rate card": stage.admin, "import": stage.admin}
    for name, write in writes.items():
        write()
        behind = read_sessions("primary", "replica behind own writes")
        started = time.monotonic()
        stage.get(writer_of[name], TOP, period="day", date=DAY1)
        waited = time.monotonic() - started
        assert read_sessions("primary", "replica behind own writes") == behind + 1, name
        assert waited >= 0.2, f"{name}: the read waits the bounded 200 ms for the standby"
    replica = read_sessions("replica")
    stage.get(stage.creator_a, TOP, period="day", date=DAY1)  # A wrote nothing since
    assert read_sessions("replica") == replica + 1


def test_a_stopped_standby_sends_reads_to_the_primary_and_back(stage: Stage) -> None:
    stage.import_views(DAY1, 4)
    stage.settle(DAY1)
    stage.pair.wait_caught_up()
    assert stage.readyz()["replica"] == "ok"
    served = stage.get(stage.creator_a, ME, **MONTH)
    assert served["views"] == 4

    stage.pair.stop_standby()
    # (c) the same request falls back to the primary: 200, same figures; readiness degrades
    for headers in (stage.creator_a, stage.creator_b, stage.admin):
        assert stage.client.get(ME, params=MONTH, headers=headers).status_code == 200
    assert stage.get(stage.creator_a, ME, **MONTH) == served
    assert stage.get(stage.admin, TOP, period="month", date=DAY1)["items"][0]["views"] == 4
    csv = stage.client.get(f"{ME}.csv", params=MONTH, headers=stage.creator_a)
    assert csv.status_code == 200 and str(stage.video_id) in csv.text
    ready = stage.readyz()
    assert ready["status"] == "ready" and ready["replica"] == "down"
    metrics = stage.client.get("/metrics", headers=stage.admin).text
    assert "streamsettle_replica_up 0.0" in metrics
    replica = read_sessions("replica")
    stage.get(stage.creator_b, TOP, period="day", date=DAY1)
    assert read_sessions("replica") == replica  # not tried again before the next check

    # (d) restarted and caught up: after the next health check the standby serves again
    stage.pair.start_standby()
    deadline = time.monotonic() + 10
    while stage.readyz()["replica"] != "ok":
        assert time.monotonic() < deadline, "the replica never came back"
        time.sleep(0.1)
    replica = read_sessions("replica")
    assert stage.get(stage.creator_a, ME, **MONTH) == served
    assert read_sessions("replica") == replica + 1


def test_a_lagging_standby_is_skipped_and_its_lag_exported(
    stage: Stage, replica_runtime: Runtime
) -> None:
    settings = replica_runtime.settings.model_copy(
        update={"replica_max_lag_seconds": 1.0, "replica_check_interval_seconds": 0.1}
    )
    strict = Runtime.from_settings(settings)
    try:
        with TestClient(create_app(strict)) as client:
            stage.pair.pause_replay()
            try:
                stage.import_views(DAY1, 2)  # WAL the standby will not replay
                deadline = time.monotonic() + 10
                while (ready := client.get("/readyz").json())["replica"] != "lagging":
                    assert time.monotonic() < deadline, ready
                    time.sleep(0.1)
                assert ready["replica_lag_bytes"] > 0 and ready["replica_lag_seconds"] > 1.0
                metrics = client.get("/metrics", headers=stage.admin).text
                assert "streamsettle_replica_lag_bytes" in metrics
                primary = read_sessions("primary", "replica lagging")
                response = client.get(TOP, params=MONTH, headers=stage.creator_b)
                assert response.status_code == 200
                assert read_sessions("primary", "replica lagging") == primary + 1
            finally:
                stage.pair.resume_replay()
            stage.pair.wait_caught_up()
            deadline = time.monotonic() + 10
            while (ready := client.get("/readyz").json())["replica"] != "ok":
                assert time.monotonic() < deadline, ready
                time.sleep(0.1)
            assert ready["replica_lag_seconds"] <= 1.0
    finally:
        strict.close()


def test_without_a_replica_readyz_says_so_and_reads_use_the_primary(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert (body["status"], body["replica"]) == ("ready", "not configured")
    assert "replica_lag_bytes" not in body


def test_write_marks_in_redis_and_in_process(replica_runtime: Runtime) -> None:
    """Pins nest, the position only grows, and a released mark expires."""
    assert replica_runtime.redis is not None
    clock = [0.0]
    both = (RedisWriteMarks(replica_runtime.redis, 1), LocalWriteMarks(1, lambda: clock[0]))
    for marks in both:
        marks.pin(7)
        marks.pin(7)
        marks.release(7, 500)
        assert (marks.get(7).pinned, marks.get(7).lsn) == (True, 500)
        marks.release(7, 400)
        assert (marks.get(7).pinned, marks.get(7).lsn) == (False, 500)
        marks.release(7, None)  # a release without a pin (crash, restart) stays harmless
        assert (marks.get(7).pinned, marks.get(7).lsn) == (False, 500)
        assert marks.get(8).lsn is None
    time.sleep(1.1)
    clock[0] = 1.1
    for marks in both:
        assert marks.get(7).lsn is None


def _page_views(html: str, day: str) -> int | None:
    """The views of ``day`` in the page's daily table, None when the day is not listed."""
    match = re.search(rf'<tr><td>{day}</td><td class="num">([\d,]+)</td>', html)
    return int(match.group(1).replace(",", "")) if match else None


def test_the_settlement_page_reads_the_standby_and_survives_its_loss(paused: Stage) -> None:
    stage, client = paused, paused.client
    with stage.runtime.db.session() as session:
        user = session.scalars(select(User).where(User.email == "a@replica.test")).one()
        user.password_hash = hash_password("page-password-1")
    stage.pair.resume_replay()
    stage.pair.wait_caught_up()
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    login = client.post(
        "/login",
        data={"email": "a@replica.test", "password": "page-password-1", "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert login.status_code == 303
    stage.pair.pause_replay()
    stage.import_views(DAY2, 5)
    stage.settle(DAY2)

    replica = read_sessions("replica")
    older = client.get("/", params=MONTH)
    assert older.status_code == 200
    assert (_page_views(older.text, DAY1), _page_views(older.text, DAY2)) == (3, None)
    assert read_sessions("replica") == replica + 1

    stage.pair.resume_replay()
    stage.pair.wait_caught_up()
    assert _page_views(client.get("/", params=MONTH).text, DAY2) == 5

    stage.pair.stop_standby()
    try:
        primary = read_sessions("primary")
        page = client.get("/", params=MONTH)
        assert page.status_code == 200 and _page_views(page.text, DAY2) == 5
        csv = client.get("/settlements.csv", params=MONTH)
        assert csv.status_code == 200 and f"{DAY2}," in csv.text
        assert read_sessions("primary") == primary + 2
    finally:
        stage.pair.start_standby()


def test_without_its_write_marks_a_read_uses_the_primary(replica_runtime: Runtime) -> None:
    """Redis unreachable: no mark can be read or stored, so reads by users take the safe
    side (the primary) and writes are not refused; reads without a user keep the replica."""
    db = replica_runtime.db
    assert db.replica is not None
    broken = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    router = ReplicaRouter(
        db.engine,
        db.read_engine,
        RedisWriteMarks(broken, 60),
        max_lag_seconds=30,
        check_interval_seconds=1,
        catch_up_wait_seconds=0.2,
    )
    with router.writing(1):
        pass
    assert router.choose(1) == ("primary", "write marks unavailable")
    assert router.choose(None) == ("replica", "anonymous")
    broken.close()
