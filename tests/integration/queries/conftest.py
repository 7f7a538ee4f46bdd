"""Fixtures for the query tests: the settled data set of ``queries_dataset``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from queries_dataset import Settled, load_settled

from streamsettle.runtime import Runtime


@pytest.fixture
def settled(runtime: Runtime, client: TestClient) -> Settled:
    ids, tokens = load_settled(runtime)
    return Settled(client, ids, tokens)


@pytest.fixture
def sqlite_settled(sqlite_runtime: Runtime, sqlite_client: TestClient) -> Settled:
    ids, tokens = load_settled(sqlite_runtime)
    return Settled(sqlite_client, ids, tokens)
