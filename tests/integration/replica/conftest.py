"""Fixtures of the replica tests: the app on the pair's primary, reading from its standby."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from streamsettle.runtime import Runtime
from tests.integration.replica.replica_stage import Stage
from tests.support.auth_helpers import quick_user_headers
from tests.support.replica import ReplicaPair


@pytest.fixture
def stage(replica_runtime: Runtime, replica_client: TestClient, replica_pair: ReplicaPair) -> Stage:
    rt = replica_runtime
    stage = Stage(
        client=replica_client,
        runtime=rt,
        pair=replica_pair,
        admin=quick_user_headers(rt, "admin@replica.test", ["admin"]),
        creator_a=quick_user_headers(rt, "a@replica.test", ["creator"]),
        creator_b=quick_user_headers(rt, "b@replica.test", ["creator"]),
    )
    stage.video_id = stage.create_video(stage.creator_a, "Harbour at dawn")
    replica_pair.wait_caught_up()
    return stage
