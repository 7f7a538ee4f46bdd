"""A login is revoked as a whole: logout (with or without a body) and refresh-token reuse
refuse every token of the login at once, access tokens included (their ``fam`` claim).
The database holds every revocation; with Redis, Redis is a cache reloaded after it lost
its data. Each test runs over PostgreSQL + Redis and over the embedded SQLite mode."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from streamsettle.db.models import RefreshToken, RevokedAccessToken, RevokedTokenFamily
from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import decode_access_token
from streamsettle.sessions import revocations
from tests.support.auth_helpers import bearer, login, logout, signup


@pytest.fixture(params=["redis", "database"])
def app(request: pytest.FixtureRequest) -> tuple[TestClient, Runtime]:
    if request.param == "redis":
        return request.getfixturevalue("client"), request.getfixturevalue("runtime")
    return request.getfixturevalue("sqlite_client"), request.getfixturevalue("sqlite_runtime")


def _refresh(client: TestClient, token: str) -> int:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token}).status_code


def _logins(client: TestClient, email: str, count: int) -> list[dict[str, Any]]:
    """A new account's ``count`` logins (token pairs), each its own family."""
    signup(client, email)
    return [login(client, email) for _ in range(count)]


def _me(client: TestClient, access_token: str) -> int:
    return client.get("/api/v1/me", headers=bearer(access_token)).status_code


def test_access_tokens_carry_their_login(app: tuple[TestClient, Runtime]) -> None:
    client, runtime = app
    (pair,) = _logins(client, "fam@example.com", 1)
    rotated = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    first = decode_access_token(runtime.settings, pair["access_token"])
    second = decode_access_token(runtime.settings, rotated.json()["access_token"])
    with runtime.db.session() as session:
        families = set(session.scalars(select(RefreshToken.family_id)))
    assert first.family_id is not None
    assert families == {first.family_id} == {second.family_id}


def test_logout_without_a_body_then_refresh_is_401(app: tuple[TestClient, Runtime]) -> None:
    client, runtime = app
    pair, kept = _logins(client, "nobody@example.com", 2)
    out = logout(client, pair["access_token"])
    assert out.status_code == 204
    assert _refresh(client, pair["refresh_token"]) == 401
    assert _me(client, pair["access_token"]) == 401
    assert _me(client, kept["access_token"]) == 200  # another login is left alone
    assert _refresh(client, kept["refresh_token"]) == 200
    claims = decode_access_token(runtime.settings, pair["access_token"])
    with runtime.db.session() as session:  # the truth, with or without Redis
        assert list(session.scalars(select(RevokedAccessToken.jti))) == [claims.jti]
        assert list(session.scalars(select(RevokedTokenFamily.family_id))) == [claims.family_id]


def test_refresh_reuse_refuses_the_logins_access_tokens_at_once(
    app: tuple[TestClient, Runtime],
) -> None:
    client, _ = app
    first, other = _logins(client, "victim@example.com", 2)
    second = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    ).json()
    assert _me(client, second["access_token"]) == 200
    assert _refresh(client, first["refresh_token"]) == 401  # replayed: the family is revoked
    assert _me(client, second["access_token"]) == 401  # at once, not 15 minutes later
    assert _me(client, first["access_token"]) == 401
    assert _me(client, other["access_token"]) == 200


def test_logout_with_another_logins_refresh_token_revokes_both(
    app: tuple[TestClient, Runtime],
) -> None:
    client, _ = app
    laptop, phone = _logins(client, "both@example.com", 2)
    out = logout(client, laptop["access_token"], phone["refresh_token"])
    assert out.status_code == 204
    assert [_me(client, laptop["access_token"]), _me(client, phone["access_token"])] == [401, 401]
    assert _refresh(client, laptop["refresh_token"]) == 401
    assert _refresh(client, phone["refresh_token"]) == 401


def test_revocations_are_reloaded_when_redis_lost_them(
    client: TestClient, runtime: Runtime
) -> None:
    """Redis empties its database (as after a restart without persistence): the first check
    finds the marker missing and loads the revocations from the database before answering."""
    assert runtime.redis is not None
    out_pair, reused, live = _logins(client, "forgotten@example.com", 3)
    logout(client, out_pair["access_token"])
    client.post("/api/v1/auth/refresh", json={"refresh_token": reused["refresh_token"]})
    assert _refresh(client, reused["refresh_token"]) == 401  # reuse
    claim = runtime.redis.get("streamsettle-test-run")
    runtime.redis.flushdb()
    if claim is not None:
        runtime.redis.set("streamsettle-test-run", claim, ex=3600)
    assert runtime.redis.get(revocations.LOADED_KEY) is None
    assert _me(client, out_pair["access_token"]) == 401
    assert _me(client, reused["access_token"]) == 401
    assert _me(client, live["access_token"]) == 200
    assert runtime.redis.get(revocations.LOADED_KEY) == "1"
    family = decode_access_token(runtime.settings, reused["access_token"]).family_id
    ttl = runtime.redis.ttl(revocations.family_key(family))
    assert 0 < ttl <= runtime.settings.access_token_ttl_seconds + 1


def test_a_token_with_a_malformed_family_claim_is_401(client: TestClient, runtime: Runtime) -> None:
    import jwt

    user = signup(client, "odd@example.com")
    claims = decode_access_token(runtime.settings, login(client, "odd@example.com")["access_token"])
    payload = {
        "sub": str(user["id"]), "jti": uuid.uuid4().hex, "typ": "access", "fam": "not-a-uuid",
        "exp": int(claims.expires_at.timestamp()),
    }  # fmt: skip
    settings = runtime.settings
    token = jwt.encode(payload, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "invalid access token"
