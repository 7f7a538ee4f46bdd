"""While Redis or PostgreSQL is unreachable every request answers 503 with Retry-After and
the JSON error body, and when the server is back the same process serves again.

The app runs under uvicorn against a redis-server of the test's own (killed with SIGKILL,
or frozen with SIGSTOP) and against the real PostgreSQL through a TCP proxy the test cuts.
The shared servers are never touched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from streamsettle.app import create_app
from streamsettle.runtime import Runtime
from tests.support.servers import RedisServer, serve
from tests.support.tcp_proxy import TcpProxy

PASSWORD = "correct horse battery"
CLIENT_TIMEOUT = 10.0
"""A request that hangs longer fails the test: dead servers must fail fast."""


@dataclass
class Stack:
    http: httpx.Client
    redis: RedisServer
    proxy: TcpProxy
    bearer: dict[str, str]
    video_id: int

    def login(self) -> httpx.Response:
        body = {"email": "creator@example.com", "password": PASSWORD}
        return self.http.post("/api/v1/auth/login", json=body)

    def stats(self) -> httpx.Response:
        params = {"period": "day", "date": "2026-01-05"}
        return self.http.get("/api/v1/stats/top-videos", params=params, headers=self.bearer)

    def start_session(self) -> httpx.Response:
        return self.http.post("/api/v1/playback/sessions", json={"video_id": self.video_id})

    def heartbeat(self, session_id: str, seq: int) -> httpx.Response:
        return self.http.post(
            f"/api/v1/playback/sessions/{session_id}/heartbeats",
            json={"seq": seq, "position_seconds": seq, "state": "playing"},
        )

    def refresh(self) -> httpx.Response:
        return self.http.post("/api/v1/auth/refresh", json={"refresh_token": "not-a-token"})

    def signup(self) -> httpx.Response:
        body = {"email": "new@example.com", "password": PASSWORD, "display_name": "New"}
        return self.http.post("/api/v1/auth/signup", json=body)

    def web_login(self) -> httpx.Response:
        page = self.http.get("/login")
        if page.status_code != 200:  # the form itself needs the servers when cookies are set
            return page
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match is not None
        form = {"email": "creator@example.com", "password": PASSWORD, "csrf_token": match[1]}
        return self.http.post("/login", data=form)


@pytest.fixture
def stack(runtime: Runtime, pg_url: str, tmp_path: Path) -> Iterator[Stack]:
    """The app on its own Redis and on PostgreSQL through a proxy, with a creator and a video
    (``runtime`` is asked for only to start from empty tables)."""
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = runtime.settings.model_copy(
        update={"database_url": proxied, "redis_url": redis_server.url}
    )
    own = Runtime.from_settings(settings)
    try:
        with (
            serve(create_app(own)) as base,
            httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as http,
        ):
            body = {"email": "creator@example.com", "password": PASSWORD,
                    "display_name": "Creator", "roles": ["creator"]}  # fmt: skip
            assert http.post("/api/v1/auth/signup", json=body).status_code == 201
            token = http.post(
                "/api/v1/auth/login", json={"email": body["email"], "password": PASSWORD}
            ).json()["access_token"]
            bearer = {"Authorization": f"Bearer {token}"}
            video = http.post(
                "/api/v1/videos", json={"title": "v", "duration_seconds": 600}, headers=bearer
            )
            assert video.status_code == 201, video.text
            yield Stack(http, redis_server, proxy, bearer, video.json()["id"])
    finally:
        own.close()
        redis_server.stop()
        proxy.close()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.url, response.text)
    assert int(response.headers["retry-after"]) > 0
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert set(error) == {"code", "message", "details"}


def wait_ready(http: httpx.Client, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while (ready := http.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, ready.text
        time.sleep(0.2)


def assert_serving(stack: Stack) -> None:
    assert stack.http.get("/readyz").json()["checks"] == {"database": "ok", "redis": "ok"}
    assert stack.login().status_code == 200
    assert stack.stats().status_code == 200
    started = stack.start_session()
    assert started.status_code == 201, started.text
    assert stack.heartbeat(started.json()["session_id"], 1).status_code == 200


def test_redis_killed_then_back(stack: Stack) -> None:
    assert_serving(stack)
    live = stack.start_session().json()["session_id"]
    assert stack.web_login().status_code == 303  # the page's cookies, for the page below

    stack.redis.kill()
    ready = stack.http.get("/readyz")
    assert_unavailable(ready)
    assert ready.json()["error"]["details"]["redis"].startswith("error")
    assert_unavailable(stack.heartbeat(live, 2))  # the fast path
    assert_unavailable(stack.start_session())
    assert_unavailable(stack.stats())  # the token's revocation is looked up in Redis
    assert_unavailable(stack.http.get("/"))  # the web page, which does the same
    # the login rate limits are counted in Redis: no Redis, no unlimited password guessing
    assert_unavailable(stack.login())
    assert_unavailable(stack.web_login())

    stack.redis.start()  # same port, empty: the process reconnects on its own
    wait_ready(stack.http)
    assert_serving(stack)
    assert stack.http.get("/").status_code == 200


def test_postgresql_cut_then_back(stack: Stack) -> None:
    assert_serving(stack)
    live = stack.start_session().json()["session_id"]

    stack.proxy.cut()
    ready = stack.http.get("/readyz")
    assert_unavailable(ready)
    assert ready.json()["error"]["details"]["database"].startswith("error")
    assert_unavailable(stack.login())
    assert_unavailable(stack.stats())
    assert_unavailable(stack.start_session())
    assert_unavailable(stack.web_login())
    assert_unavailable(stack.http.get("/api/v1/videos"))
    # a heartbeat needs Redis only: live sessions go on while the database is away
    assert stack.heartbeat(live, 2).status_code == 200

    stack.proxy.restore()
    wait_ready(stack.http)
    assert_serving(stack)


def test_hanging_servers_fail_within_the_timeouts(stack: Stack) -> None:
    """A server that accepts and never answers costs a request seconds, not minutes."""
    assert_serving(stack)
    live = stack.start_session().json()["session_id"]

    stack.proxy.blackhole()
    started = time.monotonic()
    assert_unavailable(stack.login())
    assert_unavailable(stack.http.get("/readyz"))
    stack.proxy.restore()
    wait_ready(stack.http)

    stack.redis.freeze()
    try:
        assert_unavailable(stack.heartbeat(live, 2))
        assert_unavailable(stack.start_session())
    finally:
        stack.redis.thaw()
    wait_ready(stack.http)
    assert_serving(stack)
    # four requests to hung servers, each bounded by the connect or socket timeouts
    assert time.monotonic() - started < 4 * CLIENT_TIMEOUT


def test_every_503_carries_retry_after_while_both_servers_are_down(stack: Stack) -> None:
    """With PostgreSQL and Redis both unreachable, every route that needs either answers
    503 with Retry-After and the error body; only liveness answers 200."""
    assert_serving(stack)
    live = stack.start_session().json()["session_id"]
    assert stack.web_login().status_code == 303  # the page's cookies, for the page below

    stack.redis.kill()
    stack.proxy.cut()
    try:
        answers = {
            "readyz": stack.http.get("/readyz"),
            "login": stack.login(),
            "refresh": stack.refresh(),
            "signup": stack.signup(),
            "stats": stack.stats(),
            "videos": stack.http.get("/api/v1/videos"),
            "start": stack.start_session(),
            "heartbeat": stack.heartbeat(live, 2),
            "stop": stack.http.post(
                f"/api/v1/playback/sessions/{live}/stop", json={"seq": 3, "position_seconds": 3}
            ),
            "me": stack.http.get("/api/v1/me", headers=stack.bearer),
            "page": stack.http.get("/"),
            "web login": stack.web_login(),
        }
        for name, response in answers.items():
            assert response.status_code == 503, (name, response.status_code, response.text)
            assert_unavailable(response)
        assert stack.http.get("/healthz").status_code == 200
    finally:
        stack.proxy.restore()
        stack.redis.start()
    wait_ready(stack.http)
    assert_serving(stack)
