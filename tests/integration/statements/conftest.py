"""Fixtures of the statements tests: the batch tests' world, on PostgreSQL and SQLite."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "batch"))

from batch_world import World

from streamsettle.runtime import Runtime


@pytest.fixture(params=["postgresql", "sqlite"])
def world(request: pytest.FixtureRequest) -> World:
    name = "runtime" if request.param == "postgresql" else "sqlite_runtime"
    runtime: Runtime = request.getfixturevalue(name)
    return World(runtime)


@pytest.fixture
def pg_world(runtime: Runtime) -> World:
    return World(runtime)
