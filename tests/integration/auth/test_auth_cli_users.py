"""`streamsettle users create-admin` against the test PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from streamsettle.cli import app
from streamsettle.config import get_settings
from streamsettle.db.models import User
from streamsettle.runtime import Runtime
from streamsettle.services.identity.passwords import verify_password
from tests.support.auth_helpers import login, signup

runner = CliRunner()


@pytest.fixture
def cli_env(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """The CLI reads its settings from the environment: point it at the test servers."""
    settings = runtime.settings
    monkeypatch.setenv("STREAMSETTLE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STREAMSETTLE_REDIS_URL", settings.redis_url or "")
    monkeypatch.setenv("STREAMSETTLE_JWT_SECRET", settings.jwt_secret.get_secret_value())
    monkeypatch.setenv("STREAMSETTLE_EMBEDDED", "false")
    get_settings.cache_clear()
    yield runtime
    get_settings.cache_clear()


def _user(runtime: Runtime, email: str) -> User | None:
    with runtime.db.session() as session:
        return session.scalars(select(User).where(User.email == email)).one_or_none()


def test_create_admin_with_password_on_stdin(cli_env: Runtime, client: TestClient) -> None:
    result = runner.invoke(
        app, ["users", "create-admin", "Root@Example.com", "--password-stdin"],
        input="s3cret-admin-pw\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created admin root@example.com" in result.output
    user = _user(cli_env, "root@example.com")
    assert user is not None and user.roles == ["admin"]
    assert user.password_hash is not None and verify_password(user.password_hash, "s3cret-admin-pw")
    pair = login(client, "root@example.com", "s3cret-admin-pw")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.json()["roles"] == ["admin"]


def test_create_admin_prompts_with_confirmation(cli_env: Runtime) -> None:
    result = runner.invoke(
        app, ["users", "create-admin", "p@example.com"], input="prompted-pw\nprompted-pw\n"
    )
    assert result.exit_code == 0, result.output
    user = _user(cli_env, "p@example.com")
    assert user is not None and user.password_hash is not None
    assert verify_password(user.password_hash, "prompted-pw")


def test_create_admin_promotes_an_existing_user(cli_env: Runtime, client: TestClient) -> None:
    signup(client, "promote@example.com", ["creator"])
    result = runner.invoke(app, ["users", "create-admin", "promote@example.com"])
    assert result.exit_code == 0, result.output
    assert "now an admin" in result.output
    user = _user(cli_env, "promote@example.com")
    assert user is not None and user.roles == ["admin", "creator"]
    again = runner.invoke(app, ["users", "create-admin", "promote@example.com"])
    assert again.exit_code == 0
    assert "already an admin" in again.output


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [("root@example.com", "short", "at least 8"), ("not-an-email", "long-enough-pw", "email")],
)
def test_create_admin_refuses_bad_input(
    cli_env: Runtime, email: str, password: str, message: str
) -> None:
    result = runner.invoke(
        app, ["users", "create-admin", email, "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code == 1
    assert message in result.output
    with cli_env.db.session() as session:
        assert session.scalar(select(User)) is None
