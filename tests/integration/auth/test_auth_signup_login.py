"""Sign-up, password login and /me over HTTP, on PostgreSQL + Redis."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from streamsettle.db.models import User
from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import decode_access_token
from tests.support.auth_helpers import PASSWORD, bearer, login, signup


def test_signup_answers_the_public_user_with_default_role(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/signup",
        json={"email": "Ann@Example.COM", "password": PASSWORD, "display_name": "Ann"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "email": "ann@example.com", "display_name": "Ann",
                    "roles": ["viewer"]}  # fmt: skip
    assert isinstance(body["id"], int)


def test_signup_with_several_roles(client: TestClient) -> None:
    body = signup(client, "both@example.com", ["creator", "advertiser"])
    assert body["roles"] == ["advertiser", "creator"]


def test_duplicate_email_is_a_conflict_whatever_the_case(client: TestClient) -> None:
    signup(client, "dup@example.com")
    response = client.post(
        "/api/v1/auth/signup",
        json={"email": "DUP@example.com", "password": PASSWORD, "display_name": "again"},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a@example.com", "password": "short77", "display_name": "A"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD, "display_name": "A"}, "email"),
        ({"email": "a@nodot", "password": PASSWORD, "display_name": "A"}, "email"),
        (
            {"email": "a@example.com", "password": PASSWORD, "display_name": "A",
             "roles": ["admin"]},
            "roles",
        ),
        (
            {"email": "a@example.com", "password": PASSWORD, "display_name": "A",
             "roles": ["superuser"]},
            "roles",
        ),
        ({"email": "a@example.com", "password": PASSWORD, "display_name": "A", "roles": []},
         "roles"),
        ({"email": "a@example.com", "password": PASSWORD, "display_name": "   "}, "display_name"),
        ({"email": "a@example.com", "password": PASSWORD}, "display_name"),
        ({"email": "a@example.com", "password": 12345678, "display_name": "A"}, "password"),
        ({"email": "a\u0000@example.com", "password": PASSWORD, "display_name": "A"}, "email"),
        ({"email": "a@example.com", "password": PASSWORD, "display_name": "A\u0000"},
         "display_name"),
    ],
)  # fmt: skip
def test_signup_refuses_bad_input_with_422_in_the_contract_format(
    client: TestClient, runtime: Runtime, payload: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/auth/signup", json=payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["message"] or field in str(error["details"])
    with runtime.db.session() as session:
        assert session.scalar(select(User)) is None


def test_malformed_json_is_422_not_500(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/signup",
        content=b'{"email": "a@example.com", "password": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_login_returns_a_bearer_pair_whose_access_token_names_the_user(
    client: TestClient, runtime: Runtime
) -> None:
    user = signup(client, "log@example.com", ["creator"])
    pair = login(client, "LOG@example.com")
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 900
    assert len(pair["refresh_token"]) >= 43
    claims = decode_access_token(runtime.settings, pair["access_token"])
    assert claims.user_id == user["id"]
    assert claims.roles == ("creator",)


def test_unknown_email_and_wrong_password_fail_alike(client: TestClient) -> None:
    signup(client, "known@example.com")
    wrong = client.post(
        "/api/v1/auth/login", json={"email": "known@example.com", "password": "wrong-password"}
    )
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "unauthenticated"
    assert wrong.headers["www-authenticate"] == "Bearer"
    garbage = client.post(
        "/api/v1/auth/login", json={"email": "nul\u0000@example.com", "password": PASSWORD}
    )
    assert garbage.status_code == 401
    assert garbage.json() == wrong.json()


def test_login_rehashes_a_hash_with_outdated_parameters(
    client: TestClient, runtime: Runtime
) -> None:
    signup(client, "old@example.com")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with runtime.db.session() as session:
        user = session.scalars(select(User).where(User.email == "old@example.com")).one()
        user.password_hash = weak
    login(client, "old@example.com")
    with runtime.db.session() as session:
        stored = session.scalars(select(User.password_hash).where(User.id == user.id)).one()
    assert stored != weak
    assert stored is not None and "m=19456,t=2,p=1" in stored
    login(client, "old@example.com")  # the new hash verifies the same password


def test_me_answers_the_current_user(client: TestClient) -> None:
    user = signup(client, "me@example.com", ["advertiser"])
    response = client.get(
        "/api/v1/me", headers=bearer(login(client, "me@example.com")["access_token"])
    )
    assert response.status_code == 200
    assert response.json() == user


def test_me_without_a_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
