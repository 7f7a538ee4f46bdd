"""Sign up and log in through the HTTP API, for tests that need a user with some roles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from streamsettle.runtime import Runtime
from streamsettle.services.identity.accounts import create_user
from streamsettle.services.identity.tokens import issue_access_token

PASSWORD = "correct horse battery"


def signup(
    client: TestClient, email: str, roles: Sequence[str] = ("viewer",), password: str = PASSWORD
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/auth/signup",
        json={"email": email, "password": password, "display_name": email, "roles": list(roles)},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def new_login(client: TestClient, email: str) -> dict[str, Any]:
    """Sign up a viewer and log in: the login's token pair."""
    signup(client, email)
    return login(client, email)


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def logout(client: TestClient, access_token: str, refresh_token: object = None) -> Response:
    """Log out with the bearer ``access_token``, sending ``refresh_token`` when given."""
    body = None if refresh_token is None else {"refresh_token": refresh_token}
    return client.post("/api/v1/auth/logout", json=body, headers=bearer(access_token))


def user_headers(
    client: TestClient, email: str, roles: Sequence[str] = ("viewer",)
) -> dict[str, str]:
    """Sign up a user with ``roles`` and return the Authorization header of a fresh login."""
    signup(client, email, roles)
    return bearer(login(client, email)["access_token"])


def quick_user_headers(
    runtime: Runtime, email: str, roles: Sequence[str] = ("viewer",)
) -> dict[str, str]:
    """Like ``user_headers`` but without password hashing: a passwordless user created by
    the accounts service and an access token issued directly (fast, for catalogue tests)."""
    with runtime.db.session() as session:
        user = create_user(session, email=email, password=None, display_name=email, roles=roles)
        token, _ = issue_access_token(runtime.settings, user.id, user.roles)
    return bearer(token)
