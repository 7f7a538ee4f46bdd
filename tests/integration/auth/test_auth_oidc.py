"""OIDC login end to end against a fake provider served on localhost (never the internet)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from pydantic import SecretStr
from sqlalchemy import select

from streamsettle.app import create_app
from streamsettle.db.models import OidcIdentity, User
from streamsettle.runtime import Runtime
from streamsettle.services.identity import oidc
from tests.support.auth_helpers import bearer, signup
from tests.support.oidc_provider import FakeOidcProvider, Identity, running_provider

LOGIN = "/api/v1/auth/oidc/google/login"


@pytest.fixture
def provider() -> Iterator[FakeOidcProvider]:
    oidc.clear_caches()
    with running_provider() as fake:
        yield fake
    oidc.clear_caches()


def _client_for(runtime: Runtime, **settings: Any) -> TestClient:
    configured = runtime.settings.model_copy(update=settings)
    return TestClient(create_app(dataclasses.replace(runtime, settings=configured)))


@pytest.fixture
def oidc_client(runtime: Runtime, provider: FakeOidcProvider) -> Iterator[TestClient]:
    with _client_for(
        runtime,
        oidc_provider="google",
        oidc_issuer=provider.issuer,
        oidc_client_id=provider.client_id,
        oidc_client_secret=SecretStr(provider.client_secret),
        oidc_redirect_base_url="http://127.0.0.1:8000",
    ) as client:
        yield client


def _authorize(client: TestClient) -> str:
    """Start the login and let the provider redirect back; the callback path and query."""
    start = client.get(LOGIN, follow_redirects=False)
    assert start.status_code == 302, start.text
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    callback = urlsplit(at_provider.headers["location"])
    assert callback.netloc == "127.0.0.1:8000"
    return f"{callback.path}?{callback.query}"


def _oidc_login(client: TestClient) -> httpx2.Response:
    return client.get(_authorize(client))


def _users(runtime: Runtime) -> list[User]:
    with runtime.db.session() as session:
        return list(session.scalars(select(User).order_by(User.id)))


def test_login_redirects_with_state_nonce_and_pkce(
    oidc_client: TestClient, provider: FakeOidcProvider
) -> None:
    response = oidc_client.get(LOGIN, follow_redirects=False)
    assert response.status_code == 302
    url = urlsplit(response.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{provider.issuer}/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == provider.client_id
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://127.0.0.1:8000/api/v1/auth/oidc/google/callback"
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert len(query["code_challenge"]) == 43
    cookie = response.headers["set-cookie"]
    assert "streamsettle_oidc_state=" in cookie
    assert "HttpOnly" in cookie and "Path=/api/v1/auth/oidc" in cookie
    assert "samesite=lax" in cookie.lower()


def test_first_login_creates_a_viewer_and_later_logins_reuse_it(
    oidc_client: TestClient, runtime: Runtime, provider: FakeOidcProvider
) -> None:
    first = _oidc_login(oidc_client)
    assert first.status_code == 200, first.text
    pair = first.json()
    assert pair["token_type"] == "bearer"
    me = oidc_client.get("/api/v1/me", headers=bearer(pair["access_token"])).json()
    assert me["email"] == "oidc@example.com"
    assert me["display_name"] == "Oidc Person"
    assert me["roles"] == ["viewer"]
    users = _users(runtime)
    assert len(users) == 1 and users[0].password_hash is None

    second = _oidc_login(oidc_client)
    assert second.status_code == 200
    again = oidc_client.get("/api/v1/me", headers=bearer(second.json()["access_token"])).json()
    assert again["id"] == me["id"]
    assert len(_users(runtime)) == 1
    with runtime.db.session() as session:
        identity = session.scalars(select(OidcIdentity)).one()
    assert (identity.issuer, identity.subject, identity.user_id) == (
        provider.issuer, "subject-1", me["id"],
    )  # fmt: skip
    refreshed = oidc_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200


def test_verified_email_links_to_the_existing_local_account(
    oidc_client: TestClient, runtime: Runtime, provider: FakeOidcProvider
) -> None:
    local = signup(oidc_client, "Local@Example.com", ["creator"])
    provider.identity = Identity("google-sub-9", "LOCAL@example.com", email_verified=True)
    response = _oidc_login(oidc_client)
    assert response.status_code == 200, response.text
    me = oidc_client.get("/api/v1/me", headers=bearer(response.json()["access_token"])).json()
    assert me["id"] == local["id"]
    assert me["roles"] == ["creator"]
    assert len(_users(runtime)) == 1


def test_unverified_email_does_not_take_over_a_local_account(
    oidc_client: TestClient, runtime: Runtime, provider: FakeOidcProvider
) -> None:
    signup(oidc_client, "victim@example.com")
    provider.identity = Identity("attacker", "victim@example.com", email_verified=False)
    response = _oidc_login(oidc_client)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    with runtime.db.session() as session:
        assert session.scalars(select(OidcIdentity)).all() == []


def test_unverified_new_email_still_gets_an_account(
    oidc_client: TestClient, runtime: Runtime, provider: FakeOidcProvider
) -> None:
    provider.identity = Identity("fresh", "fresh@example.com", email_verified=False)
    assert _oidc_login(oidc_client).status_code == 200
    assert [u.email for u in _users(runtime)] == ["fresh@example.com"]


@pytest.mark.parametrize(
    "tamper",
    [{"aud": "someone-else"}, {"nonce": "replayed"}, {"iss": "https://evil.example"},
     {"exp": 1_000_000_000}, "other_key"],
)  # fmt: skip
def test_invalid_id_tokens_are_refused(
    oidc_client: TestClient, runtime: Runtime, provider: FakeOidcProvider, tamper: object
) -> None:
    if tamper == "other_key":
        provider.sign_with = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"})
    else:
        assert isinstance(tamper, dict)
        provider.claim_overrides = tamper
    response = _oidc_login(oidc_client)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"
    assert "ID token" in response.json()["error"]["message"]
    assert _users(runtime) == []


def test_a_forged_or_mismatched_state_is_401(oidc_client: TestClient) -> None:
    callback = _authorize(oidc_client)
    path, _, query = callback.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    wrong_state = oidc_client.get(path, params={"code": params["code"], "state": "guessed"})
    assert wrong_state.status_code == 401
    oidc_client.cookies.set("streamsettle_oidc_state", "forged.value.sig")
    forged = oidc_client.get(callback)
    assert forged.status_code == 401
    assert forged.json()["error"]["message"] == "invalid login state: start again"


def test_a_callback_without_the_login_cookie_is_401(oidc_client: TestClient) -> None:
    callback = _authorize(oidc_client)
    oidc_client.cookies.clear()
    response = oidc_client.get(callback)
    assert response.status_code == 401
    assert "no login in progress" in response.json()["error"]["message"]


def test_an_expired_login_state_is_401(
    oidc_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    callback = _authorize(oidc_client)
    monkeypatch.setattr(oidc, "STATE_MAX_AGE_SECONDS", -1)
    response = oidc_client.get(callback)
    assert response.status_code == 401
    assert "too long" in response.json()["error"]["message"]


def test_a_code_used_twice_is_refused_by_the_provider(oidc_client: TestClient) -> None:
    callback = _authorize(oidc_client)
    cookie = oidc_client.cookies.get("streamsettle_oidc_state")
    assert oidc_client.get(callback).status_code == 200
    assert cookie is not None
    oidc_client.cookies.set("streamsettle_oidc_state", cookie, path="/api/v1/auth/oidc")
    replay = oidc_client.get(callback)
    assert replay.status_code == 401
    assert "invalid_grant" in replay.json()["error"]["message"]


def test_provider_error_in_the_callback_is_401(oidc_client: TestClient) -> None:
    callback = _authorize(oidc_client)
    path, _, query = callback.partition("?")
    state = parse_qs(query)["state"][0]
    response = oidc_client.get(path, params={"state": state, "error": "access_denied"})
    assert response.status_code == 401
    assert "access_denied" in response.json()["error"]["message"]


def test_unknown_provider_is_404(oidc_client: TestClient) -> None:
    response = oidc_client.get("/api/v1/auth/oidc/facebook/login", follow_redirects=False)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_unconfigured_provider_is_404_with_a_clear_message(client: TestClient) -> None:
    response = client.get(LOGIN, follow_redirects=False)
    assert response.status_code == 404
    assert "STREAMSETTLE_OIDC_CLIENT_ID" in response.json()["error"]["message"]


def test_unreachable_provider_is_503(runtime: Runtime) -> None:
    oidc.clear_caches()
    with running_provider() as gone:
        issuer = gone.issuer
    with _client_for(runtime, oidc_issuer=issuer, oidc_client_id="c") as client:
        response = client.get(LOGIN, follow_redirects=False)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
