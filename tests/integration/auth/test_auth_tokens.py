"""Access tokens, refresh rotation with reuse detection, logout and revocation (PG + Redis)."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from streamsettle.db.models import RefreshToken
from streamsettle.errors import AuthenticationFailed
from streamsettle.runtime import Runtime
from streamsettle.services.identity import auth
from streamsettle.services.identity.tokens import decode_access_token, issue_access_token
from tests.support.auth_helpers import bearer, login, logout, new_login, signup


def _refresh(client: TestClient, token: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    return response.status_code, response.json()


def _assert_401(response_json: object) -> None:
    assert isinstance(response_json, dict)
    assert response_json["error"]["code"] == "unauthenticated"


def test_refresh_rotates_and_the_old_token_stops_working(client: TestClient) -> None:
    first = new_login(client, "r@example.com")
    status, second = _refresh(client, first["refresh_token"])
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(str(second["access_token"]))).status_code == 200
    status, third = _refresh(client, str(second["refresh_token"]))
    assert status == 200
    assert third["token_type"] == "bearer"


def test_reusing_a_spent_token_revokes_the_whole_family(
    client: TestClient, runtime: Runtime
) -> None:
    first = new_login(client, "reuse@example.com")
    _, second = _refresh(client, first["refresh_token"])
    _, third = _refresh(client, str(second["refresh_token"]))  # the newest of the family

    status, body = _refresh(client, first["refresh_token"])  # a thief replays a spent one
    assert status == 401
    _assert_401(body)
    assert "revoked" in str(body)
    status, body = _refresh(client, str(third["refresh_token"]))
    assert status == 401
    _assert_401(body)
    with runtime.db.session() as session:
        rows = session.scalars(select(RefreshToken)).all()
    assert len(rows) == 3
    assert all(r.revoked_at is not None for r in rows)
    assert len({r.family_id for r in rows}) == 1


def test_reuse_revokes_only_its_own_family(client: TestClient) -> None:
    laptop = new_login(client, "two@example.com")
    phone = login(client, "two@example.com")
    _refresh(client, laptop["refresh_token"])
    assert _refresh(client, laptop["refresh_token"])[0] == 401
    assert _refresh(client, phone["refresh_token"])[0] == 200


def test_tokens_are_stored_only_as_sha256(client: TestClient, runtime: Runtime) -> None:
    pair = new_login(client, "hash@example.com")
    with runtime.db.session() as session:
        stored = session.scalars(select(RefreshToken.token_hash)).one()
    assert stored == auth.hash_refresh_token(pair["refresh_token"])
    assert pair["refresh_token"] not in stored


def test_unknown_and_expired_refresh_tokens_are_401(client: TestClient, runtime: Runtime) -> None:
    signup(client, "exp@example.com")
    assert _refresh(client, "no-such-token")[0] == 401
    past = datetime.now(UTC) - timedelta(days=31)
    with runtime.db.session() as session:
        old = auth.login(
            session, runtime, email="exp@example.com", password="correct horse battery",
            now=past,
        )  # fmt: skip
    status, body = _refresh(client, old.refresh_token)
    assert status == 401
    assert body["error"]["message"] == "refresh token expired"  # type: ignore[index]


def test_concurrent_refreshes_with_one_token_yield_one_pair(
    client: TestClient, runtime: Runtime
) -> None:
    signup(client, "race@example.com")
    token = login(client, "race@example.com")["refresh_token"]
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            auth.refresh(runtime, token)
            outcomes.append("ok")
        except AuthenticationFailed:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    with runtime.db.session() as session:
        rows = session.scalars(select(RefreshToken)).all()
    assert len(rows) == 2  # the original and exactly one successor
    assert all(r.revoked_at is not None for r in rows)  # the losers count as reuse


def test_logout_revokes_the_access_token_and_the_refresh_family(
    client: TestClient, runtime: Runtime
) -> None:
    pair = new_login(client, "out@example.com")
    _, rotated = _refresh(client, pair["refresh_token"])
    headers = bearer(str(rotated["access_token"]))
    response = logout(client, str(rotated["access_token"]), rotated["refresh_token"])
    assert response.status_code == 204
    assert response.content == b""
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 401
    assert me.json()["error"]["message"] == "access token revoked"
    assert _refresh(client, str(rotated["refresh_token"]))[0] == 401
    assert runtime.redis is not None
    assert len(runtime.redis.keys("revoked-jti:*")) == 1


def test_logout_without_a_body_revokes_the_whole_login(client: TestClient) -> None:
    pair = new_login(client, "half@example.com")
    _, rotated = _refresh(client, pair["refresh_token"])
    other = login(client, "half@example.com")  # another device: another login
    headers = bearer(str(rotated["access_token"]))
    assert logout(client, str(rotated["access_token"])).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert _refresh(client, str(rotated["refresh_token"]))[0] == 401
    assert client.get("/api/v1/me", headers=bearer(pair["access_token"])).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(other["access_token"])).status_code == 200
    assert _refresh(client, other["refresh_token"])[0] == 200


def test_logout_leaves_another_users_refresh_token_alone(client: TestClient) -> None:
    signup(client, "mallory@example.com")
    signup(client, "alice@example.com")
    mallory = login(client, "mallory@example.com")
    alice = login(client, "alice@example.com")
    response = logout(client, mallory["access_token"], alice["refresh_token"])
    assert response.status_code == 204
    assert _refresh(client, alice["refresh_token"])[0] == 200


def test_logout_needs_a_bearer_token(client: TestClient) -> None:
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 401


def test_expired_access_token_is_401(client: TestClient, runtime: Runtime) -> None:
    user = signup(client, "late@example.com")
    token, _ = issue_access_token(
        runtime.settings, user["id"], ["viewer"], now=datetime.now(UTC) - timedelta(minutes=16)
    )
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "unauthenticated", "message": "access token expired", "details": None,
    }  # fmt: skip


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("forgery", ["other_key", "alg_none", "garbage"])
def test_forged_access_tokens_are_401(client: TestClient, runtime: Runtime, forgery: str) -> None:
    user = signup(client, "forge@example.com")
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, object] = {
        "sub": str(user["id"]), "roles": ["admin"], "jti": "x" * 32, "typ": "access",
        "iat": now, "exp": now + 600,
    }  # fmt: skip
    if forgery == "other_key":
        token = jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")
    elif forgery == "alg_none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    else:
        token = "not.a.jwt"
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "unauthenticated", "message": "invalid access token", "details": None,
    }  # fmt: skip


def test_a_remembered_token_still_expires_and_others_are_still_checked(runtime: Runtime) -> None:
    """Verified tokens are cached by their text (heartbeats); the cache must not extend a
    token's life nor let a look-alike through."""
    settings = runtime.settings
    token, claims = issue_access_token(settings, 41, ["viewer"], now=datetime.now(UTC))
    decoded = decode_access_token(settings, token)
    assert (decoded.user_id, decoded.jti) == (41, claims.jti)
    assert decode_access_token(settings, token) is decoded  # the second use: from the cache
    with pytest.raises(AuthenticationFailed, match="access token expired"):
        decode_access_token(settings, token, now=decoded.expires_at + timedelta(seconds=1))
    with pytest.raises(AuthenticationFailed, match="access token expired"):
        decode_access_token(settings, token, now=decoded.expires_at)  # exp itself is over
    just_before = decoded.expires_at - timedelta(seconds=1)
    assert decode_access_token(settings, token, now=just_before) is decoded
    header, payload, signature = token.split(".")
    tampered = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered["sub"] = "42"
    with pytest.raises(AuthenticationFailed, match="invalid access token"):
        decode_access_token(settings, f"{header}.{_b64(tampered)}.{signature}")
    odd = jwt.encode(
        {"sub": "41", "jti": "j" * 32, "typ": "access", "exp": "tomorrow"},
        settings.jwt_secret.get_secret_value(),
        algorithm=settings.jwt_algorithm,
    )
    with pytest.raises(AuthenticationFailed, match="invalid access token"):
        decode_access_token(settings, odd)  # a 401, not a 500
