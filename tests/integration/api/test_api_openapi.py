"""The OpenAPI document says what the API answers: its errors, its bearer, its bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from streamsettle.app import create_app
from streamsettle.runtime import Runtime
from tests.support.auth_helpers import quick_user_headers

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
PLAYBACK = [
    ("post", "/api/v1/playback/sessions"),
    ("post", "/api/v1/playback/sessions/{session_id}/heartbeats"),
    ("post", "/api/v1/playback/sessions/{session_id}/stop"),
]

EMPTY_IMPORT = {"inserted": 0, "duplicates": 0, "rejected": [], "rejected_count": 0, "lines": 0}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_the_document_is_served_as_built(client: TestClient, document: dict[str, Any]) -> None:
    assert client.get("/openapi.json").json() == json.loads(json.dumps(document))


def test_schemas_have_clean_names_and_one_error_body(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert [name for name in schemas if not name.isidentifier() or "__" in name] == []
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    error = schemas["ErrorBody"]["properties"]["error"]
    assert schemas["ErrorBody"]["required"] == ["error"]
    assert error["required"] == ["code", "message", "details"]
    assert '"detail"' not in json.dumps(document)


def test_every_error_answer_is_the_error_body(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                assert response["content"] == {"application/json": {"schema": ERROR_REF}}, (
                    method,
                    path,
                    code,
                )
                assert response["description"], (method, path, code)


@pytest.mark.parametrize(
    ("method", "path", "errors"),
    [
        ("get", "/healthz", set()),
        ("get", "/readyz", {"503"}),
        ("get", "/metrics", {"401", "403", "503"}),
        ("post", "/api/v1/auth/signup", {"400", "409", "422", "503"}),
        ("post", "/api/v1/auth/login", {"400", "401", "422", "429", "503"}),
        ("post", "/api/v1/auth/refresh", {"400", "401", "422", "429", "503"}),
        ("get", "/api/v1/me", {"401", "503"}),
        ("get", "/api/v1/stats/top-videos", {"401", "403", "422", "503"}),
        ("get", "/api/v1/settlements/videos/{video_id}", {"401", "403", "404", "422", "503"}),
        ("get", "/api/v1/settlements/creators/me.csv", {"401", "403", "422", "503"}),
        ("post", "/api/v1/admin/watch-logs/import", {"401", "403", "415", "503"}),
        ("post", "/api/v1/admin/batch-runs", {"400", "401", "403", "409", "422", "503"}),
        (
            "post",
            "/api/v1/playback/sessions/{session_id}/heartbeats",
            {"400", "401", "403", "404", "422", "429", "503"},
        ),
    ],
)
def test_operations_list_the_errors_they_answer(
    document: dict[str, Any], method: str, path: str, errors: set[str]
) -> None:
    responses = document["paths"][path][method]["responses"]
    assert {code for code in responses if int(code) >= 400} == errors


def test_the_bearer_is_optional_on_playback_only(document: dict[str, Any]) -> None:
    optional = {
        (method, path)
        for method, path, operation in _operations(document)
        if {} in operation.get("security", [])
    }
    assert optional == set(PLAYBACK)
    for method, path in PLAYBACK:
        security = document["paths"][path][method]["security"]
        assert security == [{"HTTPBearer": []}, {}]
    assert document["paths"]["/api/v1/me"]["get"]["security"] == [{"HTTPBearer": []}]
    assert document["paths"]["/metrics"]["get"]["security"] == [{"MetricsBearer": []}]
    scheme = document["components"]["securitySchemes"]["MetricsBearer"]
    assert scheme["scheme"] == "bearer" and "STREAMSETTLE_METRICS_TOKEN" in scheme["description"]


def test_the_import_body_is_documented_with_an_example_that_imports(
    runtime: Runtime, client: TestClient, document: dict[str, Any]
) -> None:
    body = document["paths"]["/api/v1/admin/watch-logs/import"]["post"]["requestBody"]
    assert body["required"] is True
    ndjson = body["content"]["application/x-ndjson"]
    assert ndjson["schema"] == {"type": "string"}
    lines = ndjson["example"].splitlines()
    assert len(lines) == 2
    keys = {
        "session_id",
        "video_id",
        "viewer_id",
        "ip",
        "user_agent",
        "started_at",
        "ended_at",
        "start_position_seconds",
        "end_position_seconds",
        "watched_seconds",
        "ad_slot_positions",
    }
    assert all(set(json.loads(line)) == keys for line in lines)
    admin = quick_user_headers(runtime, "admin@example.com", ["admin"])  # user 1
    creator = quick_user_headers(runtime, "creator@example.com", ["creator"])  # user 2
    for n in range(3, 8):  # the example's viewer is user 7
        quick_user_headers(runtime, f"viewer{n}@example.com")
    for _ in range(2):  # videos 1 and 2, 600 s long: one ad slot, at 300 s
        video = {"title": "example", "duration_seconds": 600}
        assert client.post("/api/v1/videos", json=video, headers=creator).status_code == 201
    sent = {**admin, "Content-Type": "application/x-ndjson"}
    first = client.post("/api/v1/admin/watch-logs/import", content=ndjson["example"], headers=sent)
    assert first.json() == {**EMPTY_IMPORT, "inserted": 2, "lines": 2}, first.text
    again = client.post("/api/v1/admin/watch-logs/import", content=ndjson["example"], headers=sent)
    assert again.json() == {**EMPTY_IMPORT, "duplicates": 2, "lines": 2}
