"""Fixtures of the statements tests: the batch tests' world, on PostgreSQL and SQLite."""

from __future__ import annotations

import sys
from collections.abc import Callable
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


@pytest.fixture
def reset_database(request: pytest.FixtureRequest, runtime: Runtime) -> Callable[[], None]:
    """Empties the PostgreSQL runtime again (the harness's own truncation), for property
    tests whose every example starts from nothing."""
    root = Path(__file__).parents[2] / "conftest.py"
    (harness,) = [
        plugin
        for plugin in request.config.pluginmanager.get_plugins()
        if getattr(plugin, "__file__", None) == str(root)
    ]
    truncate: Callable[[Runtime], None] = harness._truncate
    return lambda: truncate(runtime)
