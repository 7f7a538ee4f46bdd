"""Fixtures of the statements tests: the batch tests' world, on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streamsettle.runtime import Runtime
from tests.conftest import _truncate
from tests.integration.batch.batch_world import World


@pytest.fixture(params=["postgresql", "sqlite"])
def world(request: pytest.FixtureRequest) -> World:
    name = "runtime" if request.param == "postgresql" else "sqlite_runtime"
    runtime: Runtime = request.getfixturevalue(name)
    return World(runtime)


@pytest.fixture
def pg_world(runtime: Runtime) -> World:
    return World(runtime)


@pytest.fixture
def reset_database(runtime: Runtime) -> Callable[[], None]:
    """Empties the PostgreSQL runtime again, for property tests whose every example starts
    from nothing."""
    return lambda: _truncate(runtime)
