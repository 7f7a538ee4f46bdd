"""Every 2xx is sent after its transaction committed, and a failed commit is never a 2xx.

Over real HTTP (uvicorn) against the real PostgreSQL: a client that acts on an answer at
once (log in after signing up, refresh after logging in, read what it just created) must
find the write in place, every time. A commit that fails is made to fail for real, by a
deferred constraint trigger that PostgreSQL runs at COMMIT.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from streamsettle.api.deps import get_read_session
from streamsettle.app import create_app
from streamsettle.http.deps import get_db_session
from streamsettle.runtime import Runtime

PASSWORD = "correct horse battery"


def _signup(http: httpx.Client, email: str, roles: list[str]) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, "display_name": email, "roles": roles}
    return http.post("/api/v1/auth/signup", json=body)


def _login(http: httpx.Client, email: str) -> httpx.Response:
    return http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})


def _bearer(http: httpx.Client, email: str, roles: list[str]) -> dict[str, str]:
    assert _signup(http, email, roles).status_code == 201
    token = _login(http, email).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client


def test_login_right_after_signup_succeeds_100_times_in_100(http: httpx.Client) -> None:
    failures = []
    for n in range(100):
        email = f"user{n}@example.com"
        signed_up = _signup(http, email, ["viewer"])
        assert signed_up.status_code == 201, signed_up.text
        logged_in = _login(http, email)
        if logged_in.status_code != 200:
            failures.append((n, logged_in.status_code, logged_in.text))
    assert failures == []


def test_refresh_right_after_login_succeeds_every_time(http: httpx.Client) -> None:
    assert _signup(http, "refresh@example.com", ["viewer"]).status_code == 201
    statuses = []
    for _ in range(40):
        pair = _login(http, "refresh@example.com").json()
        refreshed = http.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        statuses.append(refreshed.status_code)
    assert statuses == [200] * 40


def test_a_created_video_is_found_at_once(http: httpx.Client) -> None:
    creator = _bearer(http, "creator@example.com", ["creator"])
    statuses = []
    for n in range(40):
        created = http.post(
            "/api/v1/videos", json={"title": f"v{n}", "duration_seconds": 60}, headers=creator
        )
        assert created.status_code == 201, created.text
        statuses.append(http.get(f"/api/v1/videos/{created.json()['id']}").status_code)
    assert statuses == [200] * 40


def test_a_session_started_after_placing_ads_gets_the_new_ads(http: httpx.Client) -> None:
    creator = _bearer(http, "placer@example.com", ["creator", "advertiser"])
    ads = [
        http.post(
            "/api/v1/ads", json={"title": f"ad {n}", "duration_seconds": 15}, headers=creator
        ).json()["id"]
        for n in range(2)
    ]
    video = http.post(
        "/api/v1/videos", json={"title": "placed", "duration_seconds": 600}, headers=creator
    ).json()["id"]
    seen = []
    for n in range(60):
        ad = ads[n % 2]
        placed = http.put(
            f"/api/v1/videos/{video}/ad-slots",
            json=[{"position_seconds": 300, "ad_id": ad}],
            headers=creator,
        )
        assert placed.status_code == 200, placed.text
        started = http.post("/api/v1/playback/sessions", json={"video_id": video})
        assert started.status_code == 201, started.text
        seen.append((ad, started.json()["ad_slots"]))
    assert [slots for _, slots in seen] == [
        [{"position_seconds": 300, "ad_id": ad}] for ad, _ in seen
    ]


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI keeps those nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def test_every_session_dependency_of_every_route_closes_before_the_answer(
    runtime: Runtime,
) -> None:
    """Any ``yield`` dependency (the write unit of work above all) on any route must have
    "function" scope: with the default scope its exit, the commit, runs after the answer."""
    app = create_app(runtime)
    routes = list(_api_routes(app.routes))
    assert len(routes) >= 30  # the walk reaches the routes inside the included routers
    with_write_session = set()
    late = []
    for route in routes:
        for dependant in _dependants(route.dependant):
            call: Any = dependant.call
            if call is get_db_session:
                with_write_session.add(route.path)
            generator = inspect.isgeneratorfunction(call) or inspect.isasyncgenfunction(call)
            if generator and dependant.scope != "function":
                late.append((route.path, getattr(call, "__name__", call)))
    assert late == []
    # the walk does see the unit of work: signup, login, the catalogue, rate cards, /me ...
    assert {"/api/v1/auth/signup", "/api/v1/auth/login", "/api/v1/videos", "/api/v1/me"} <= (
        with_write_session
    )
    uses_read = {
        r.path for r in routes for d in _dependants(r.dependant) if d.call is get_read_session
    }
    assert "/api/v1/stats/top-videos" in uses_read


@pytest.fixture
def fail_at_commit(runtime: Runtime) -> Iterator[Any]:
    """Install a deferred trigger on ``users`` that fails the COMMIT with a given SQLSTATE
    (or kills the connection), for as long as the test runs."""
    engine = runtime.db.engine

    def install(action: str) -> None:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE OR REPLACE FUNCTION test_fail_at_commit() RETURNS trigger "
                    f"LANGUAGE plpgsql AS $$ BEGIN {action}; RETURN NULL; END $$"
                )
            )
            connection.execute(sa.text("DROP TRIGGER IF EXISTS test_fail_at_commit ON users"))
            connection.execute(
                sa.text(
                    "CREATE CONSTRAINT TRIGGER test_fail_at_commit AFTER INSERT ON users "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    "EXECUTE FUNCTION test_fail_at_commit()"
                )
            )

    yield install
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TRIGGER IF EXISTS test_fail_at_commit ON users"))
        connection.execute(sa.text("DROP FUNCTION IF EXISTS test_fail_at_commit()"))


@pytest.mark.parametrize(
    ("action", "status", "code"),
    [
        ("RAISE EXCEPTION 'taken at commit' USING ERRCODE = 'unique_violation'", 409, "conflict"),
        ("RAISE EXCEPTION 'retry' USING ERRCODE = 'serialization_failure'", 503, "unavailable"),
        ("PERFORM pg_terminate_backend(pg_backend_pid())", 503, "unavailable"),
    ],
    ids=["integrity-conflict", "serialization-failure", "connection-lost"],
)
def test_a_commit_that_fails_is_never_a_2xx(
    http: httpx.Client, runtime: Runtime, fail_at_commit: Any, action: str, status: int, code: str
) -> None:
    fail_at_commit(action)
    answer = _signup(http, "late@example.com", ["viewer"])
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    if status == 503:
        assert answer.headers["retry-after"] == "2"
    with runtime.db.session() as session:
        stored = session.execute(sa.text("SELECT count(*) FROM users")).scalar_one()
    assert stored == 0
    # the login that follows agrees with the answer: there is no such user
    assert _login(http, "late@example.com").status_code == 401
