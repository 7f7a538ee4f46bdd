"""Playback fixtures: ``stack`` over both session stores, ``redis_stack`` over Redis only.

``stack`` is parametrized over the two session stores: Redis (PostgreSQL + Redis) and the
database (the embedded SQLite runtime, no Redis), so that one suite covers both. The
helpers live in ``playback_stack``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from streamsettle.api.routers.playback import get_now
from streamsettle.runtime import Runtime
from tests.integration.playback.playback_stack import FakeClock, Stack, make_world


def _stack(request: pytest.FixtureRequest, kind: str) -> Iterator[Stack]:
    if kind == "redis":
        runtime: Runtime = request.getfixturevalue("runtime")
        client: TestClient = request.getfixturevalue("client")
    else:
        runtime = request.getfixturevalue("sqlite_runtime")
        client = request.getfixturevalue("sqlite_client")
    clock = FakeClock()
    app = cast(FastAPI, client.app)
    app.dependency_overrides[get_now] = clock
    yield Stack(kind, runtime, client, clock, make_world(runtime))
    app.dependency_overrides.clear()


@pytest.fixture(params=["redis", "database"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The whole app over one of the two session stores, with a pinned clock."""
    yield from _stack(request, request.param)


@pytest.fixture
def redis_stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The production stack only: PostgreSQL + Redis."""
    yield from _stack(request, "redis")
