"""Every operation of the OpenAPI document, fuzzed by Schemathesis as three identities.

Requests go to the real app over ASGI (the heartbeat fast path and the lifespan's Redis
reporter included) on the PostgreSQL + Redis test runtime, as an anonymous caller, a
creator and an admin whose tokens come from real signups and logins. Each (identity,
operation) pair gets a bounded, derandomized Hypothesis run of valid and invalid inputs;
any 5xx fails, and so does an answer whose status, content type, headers or body the
document does not describe.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy import select

from streamsettle.app import create_app
from streamsettle.db.models import BatchRun
from streamsettle.runtime import Runtime
from streamsettle.services.identity.accounts import get_user_by_email, grant_role
from tests.support.auth_helpers import bearer, login, signup

# The import's body is documented as a string: sent as it is, one watch log per line.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

EXAMPLES_PER_OPERATION = 20
IDENTITIES = ("anonymous", "creator", "admin")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]


MAX_ID = 2**63 - 1


def _cases() -> list[tuple[str, str, str]]:
    """(identity, method, path) of every documented operation, as every identity when it
    reads a bearer token, else once, anonymously; logout last, as it revokes the token."""
    paths = create_app().openapi()["paths"]
    cases = [
        (identity, method.upper(), path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        for identity in (IDENTITIES if operation.get("security") else IDENTITIES[:1])
    ]
    return sorted(cases, key=lambda case: case[2] == "/api/v1/auth/logout")


@dataclass
class World:
    schema: Any
    headers: dict[str, dict[str, str]]
    requests: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)


def _sign_up_and_log_in(client: TestClient, runtime: Runtime) -> dict[str, dict[str, str]]:
    """A creator (who also advertises) and an admin, made the way an operator makes them."""
    run = uuid.uuid4().hex[:8]
    creator, admin = f"creator-{run}@example.com", f"admin-{run}@example.com"
    signup(client, creator, ["creator", "advertiser"])
    signup(client, admin, ["viewer"])
    with runtime.db.session() as session:
        user = get_user_by_email(session, admin)
        assert user is not None
        grant_role(session, user, "admin")
    creator_headers = bearer(login(client, creator)["access_token"])
    video = client.post(
        "/api/v1/videos", json={"title": "fuzzed", "duration_seconds": 600}, headers=creator_headers
    )
    ad = client.post(
        "/api/v1/ads", json={"title": "fuzzed ad", "duration_seconds": 15}, headers=creator_headers
    )
    assert video.status_code == ad.status_code == 201, (video.text, ad.text)
    return {
        "anonymous": {},
        "creator": creator_headers,
        "admin": bearer(login(client, admin)["access_token"]),
    }


def _wait_for_batch_runs(runtime: Runtime, timeout: float = 60) -> None:
    """Batch runs the admin started run in threads: let them end before other tests truncate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with runtime.db.session() as session:
            running = session.scalars(select(BatchRun.id).where(BatchRun.status == "running"))
            if not running.all():
                return
        time.sleep(0.2)
    pytest.fail("batch runs started by the fuzzer did not finish")


@pytest.fixture(scope="module")
def world(_session_runtime: Runtime) -> Iterator[World]:
    app = create_app(_session_runtime)
    with TestClient(app) as client:
        headers = _sign_up_and_log_in(client, _session_runtime)
    world = World(schemathesis.openapi.from_asgi("/openapi.json", app), headers)
    yield world
    shutdown_lifespans()
    _wait_for_batch_runs(_session_runtime)
    total = sum(world.requests.values())
    pairs = len(world.requests)
    print(f"\nschemathesis: {total} requests over {pairs} (identity, operation) pairs")
    for identity, statuses in world.statuses.items():
        print(f"  {identity}: {dict(sorted(statuses.items()))}")


@pytest.mark.parametrize(("identity", "method", "path"), _cases())
def test_operation_answers_as_documented(
    world: World, identity: str, method: str, path: str
) -> None:
    operation = world.schema[path][method]
    headers = world.headers[identity]
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, headers=headers or None),
        operation.as_strategy(GenerationMode.NEGATIVE, headers=headers or None),
    )
    key = f"{identity} {method} {path}"
    world.requests[key] = 0
    statuses = world.statuses.setdefault(identity, Counter())

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        if headers:
            case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        world.requests[key] += 1
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    fuzz()
    assert world.requests[key] >= 1


def test_playback_start_with_a_video_id_past_bigint_is_a_422(runtime: Runtime) -> None:
    """Found by the fuzzing: the id went to PostgreSQL as is (NumericValueOutOfRange)."""
    app = create_app(runtime)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/playback/sessions", json={"video_id": MAX_ID + 1})
    assert response.status_code == 422, response.text
