"""Fixtures of the batch tests: the world builder on PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streamsettle.runtime import Runtime
from tests.integration.batch.batch_world import World


@pytest.fixture(params=["postgresql", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """The batch runs on both databases: PostgreSQL + Redis, and the embedded SQLite."""
    name = "runtime" if request.param == "postgresql" else "sqlite_runtime"
    runtime: Runtime = request.getfixturevalue(name)
    yield runtime


@pytest.fixture
def world(rt: Runtime) -> World:
    return World(rt)


@pytest.fixture
def pg_world(runtime: Runtime) -> World:
    return World(runtime)
