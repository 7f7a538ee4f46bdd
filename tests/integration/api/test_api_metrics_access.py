"""``/metrics`` answers the configured metrics token or an admin, nobody else."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from streamsettle.app import create_app
from streamsettle.runtime import Runtime
from streamsettle.services.identity.accounts import get_user_by_email, grant_role
from tests.support.auth_helpers import bearer, login, signup

METRICS_TOKEN = "prometheus-scrape-token-0123456789"
SERIES = 'streamsettle_http_requests_total{method="GET",route="/healthz",status="200"}'


@pytest.fixture
def scraped(runtime: Runtime) -> Iterator[TestClient]:
    """The app with ``STREAMSETTLE_METRICS_TOKEN`` set."""
    settings = runtime.settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})
    with TestClient(create_app(dataclasses.replace(runtime, settings=settings))) as client:
        client.get("/healthz")
        yield client


def _error_code(response: httpx2.Response, status: int) -> str:
    assert response.status_code == status, response.text
    code: str = response.json()["error"]["code"]
    return code


def test_metrics_token_reads_metrics(scraped: TestClient) -> None:
    response = scraped.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert SERIES in response.text


def test_anonymous_and_wrong_tokens_get_401(scraped: TestClient) -> None:
    anonymous = scraped.get("/metrics")
    assert _error_code(anonymous, 401) == "unauthenticated"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    wrong = scraped.get("/metrics", headers=bearer(METRICS_TOKEN + "x"))
    assert _error_code(wrong, 401) == "unauthenticated"
    assert SERIES not in wrong.text


def test_an_admin_reads_metrics_and_a_creator_is_refused(scraped: TestClient) -> None:
    signup(scraped, "creator@example.com", ["creator"])
    creator = bearer(login(scraped, "creator@example.com")["access_token"])
    assert _error_code(scraped.get("/metrics", headers=creator), 403) == "forbidden"
    runtime: Runtime = scraped.app.state.runtime  # type: ignore[attr-defined]
    with runtime.db.session() as session:
        user = get_user_by_email(session, "creator@example.com")
        assert user is not None
        grant_role(session, user, "admin")
    admin = bearer(login(scraped, "creator@example.com")["access_token"])
    response = scraped.get("/metrics", headers=admin)
    assert response.status_code == 200, response.text
    assert SERIES in response.text


def test_without_a_metrics_token_no_bearer_string_passes(client: TestClient) -> None:
    assert client.app.state.runtime.settings.metrics_token is None  # type: ignore[attr-defined]
    for token in ("", "None", METRICS_TOKEN):
        response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert _error_code(response, 401) == "unauthenticated"


def test_a_short_metrics_token_is_refused_at_start_up(runtime: Runtime) -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        runtime.settings.model_validate({**runtime.settings.model_dump(), "metrics_token": "short"})
