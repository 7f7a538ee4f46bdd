"""The embedded mode (SQLite, no Redis): sign-up, login, refresh and logout still work, and
revoked access tokens are kept in the database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from streamsettle.db.models import RevokedAccessToken
from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import decode_access_token
from tests.support.auth_helpers import bearer, login, signup


def test_embedded_signup_login_refresh_logout(
    sqlite_client: TestClient, sqlite_runtime: Runtime
) -> None:
    assert sqlite_runtime.redis is None
    user = signup(sqlite_client, "Emb@Example.com", ["creator"])
    assert user["email"] == "emb@example.com"
    pair = login(sqlite_client, "emb@example.com")
    rotated = sqlite_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert rotated.status_code == 200
    access, refresh = rotated.json()["access_token"], rotated.json()["refresh_token"]
    headers = bearer(access)
    assert sqlite_client.get("/api/v1/me", headers=headers).json()["roles"] == ["creator"]

    out = sqlite_client.post(
        "/api/v1/auth/logout", json={"refresh_token": refresh}, headers=headers
    )
    assert out.status_code == 204
    assert sqlite_client.get("/api/v1/me", headers=headers).status_code == 401
    again = sqlite_client.post("/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert again.status_code == 401
    with sqlite_runtime.db.session() as session:
        revoked = session.scalars(select(RevokedAccessToken.jti)).all()
    assert revoked == [decode_access_token(sqlite_runtime.settings, access).jti]


def test_embedded_reuse_detection(sqlite_client: TestClient) -> None:
    signup(sqlite_client, "thief@example.com")
    first = login(sqlite_client, "thief@example.com")["refresh_token"]
    second = sqlite_client.post("/api/v1/auth/refresh", json={"refresh_token": first}).json()
    replay = sqlite_client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401
    newest = sqlite_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert newest.status_code == 401
