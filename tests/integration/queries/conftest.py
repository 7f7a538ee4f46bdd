"""Fixtures for the query tests: the settled data set of ``queries_dataset``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from streamsettle.runtime import Runtime
from tests.integration.queries.queries_dataset import Settled, load_settled
from tests.support.replica import ReplicaPair, read_sessions


@pytest.fixture
def settled(runtime: Runtime, client: TestClient) -> Settled:
    ids, tokens = load_settled(runtime)
    return Settled(client, ids, tokens)


@pytest.fixture
def sqlite_settled(sqlite_runtime: Runtime, sqlite_client: TestClient) -> Settled:
    ids, tokens = load_settled(sqlite_runtime)
    return Settled(sqlite_client, ids, tokens)


@pytest.fixture
def replica_settled(
    replica_runtime: Runtime, replica_client: TestClient, replica_pair: ReplicaPair
) -> Iterator[Settled]:
    """The data set on the replica pair, replayed by the standby before the test reads it;
    afterwards, checks that the standby served every statistics and settlement read."""
    ids, tokens = load_settled(replica_runtime)
    replica_pair.wait_caught_up()
    primary, replica = read_sessions("primary"), read_sessions("replica")
    yield Settled(replica_client, ids, tokens)
    assert read_sessions("primary") == primary, "a read went to the primary"
    assert read_sessions("replica") > replica, "no read reached the standby"
