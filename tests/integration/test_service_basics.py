"""Service basics: health, readiness, metrics and the error format for malformed input."""

from __future__ import annotations

from fastapi.testclient import TestClient

from streamsettle.runtime import Runtime
from tests.support.auth_helpers import quick_user_headers


def test_healthz_and_readyz_report_both_servers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_metrics_count_requests_by_route_template(runtime: Runtime, client: TestClient) -> None:
    client.get("/healthz")
    admin = quick_user_headers(runtime, "admin@example.com", ["admin"])
    body = client.get("/metrics", headers=admin).text
    assert 'streamsettle_http_requests_total{method="GET",route="/healthz",status="200"}' in body


def test_unknown_path_gets_the_contract_error_body(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.headers["x-request-id"]


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
