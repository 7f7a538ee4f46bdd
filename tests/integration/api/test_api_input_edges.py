"""Inputs at the edges of what the API can represent answer 4xx with the error body, never 500.

Periods reaching past the supported dates (0001-01-02..9999-12-30), ids past PostgreSQL's
bigint, dates not written YYYY-MM-DD and signed tokens with malformed claims.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from streamsettle.runtime import Runtime
from tests.support.auth_helpers import bearer, quick_user_headers

PERIOD_ROUTES = [
    "/api/v1/stats/top-videos",
    "/api/v1/stats/top-ads",
    "/api/v1/settlements/videos/{video}",
    "/api/v1/settlements/creators/me",
    "/api/v1/settlements/creators/me.csv",
    "/api/v1/settlements/creators",
    "/api/v1/settlements/creators/{me}",
    "/api/v1/settlements/ads/{ad}",
]


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details"}
    return error


@pytest.fixture
def owner(runtime: Runtime, client: TestClient) -> tuple[dict[str, str], dict[str, int]]:
    """An admin who is also the creator of one video and the owner of one ad."""
    headers = quick_user_headers(runtime, "owner@example.com", ["admin", "creator", "advertiser"])
    me = client.get("/api/v1/me", headers=headers).json()["id"]
    video = client.post(
        "/api/v1/videos", json={"title": "v", "duration_seconds": 60}, headers=headers
    )
    ad = client.post("/api/v1/ads", json={"title": "a", "duration_seconds": 15}, headers=headers)
    assert video.status_code == ad.status_code == 201, (video.text, ad.text)
    return headers, {"me": me, "video": video.json()["id"], "ad": ad.json()["id"]}


@pytest.mark.parametrize(
    ("period", "day"),
    [
        ("week", "9999-12-31"),
        ("month", "9999-12-31"),
        ("week", "0001-01-01"),
        ("month", "0001-01-01"),
    ],
)
def test_a_period_past_the_supported_dates_is_422_on_every_route(
    client: TestClient, owner: tuple[dict[str, str], dict[str, int]], period: str, day: str
) -> None:
    headers, ids = owner
    for route in PERIOD_ROUTES:
        response = client.get(
            route.format(**ids), params={"period": period, "date": day}, headers=headers
        )
        error = _error(response, 422, "invalid_input")
        assert "0001-01-02..9999-12-30" in error["message"], route
        assert error["details"] == {"period": period, "date": day}


def test_the_last_periods_inside_the_supported_dates_answer(
    client: TestClient, owner: tuple[dict[str, str], dict[str, int]]
) -> None:
    headers, ids = owner
    for period, day, first, last in [
        ("week", "9999-12-24", "9999-12-20", "9999-12-26"),
        ("month", "0001-02-28", "0001-02-01", "0001-02-28"),
        ("day", "9999-12-30", "9999-12-30", "9999-12-30"),
    ]:
        for route in PERIOD_ROUTES:
            if route.endswith(".csv"):
                continue
            response = client.get(
                route.format(**ids), params={"period": period, "date": day}, headers=headers
            )
            assert response.status_code == 200, (route, response.text)
            body = response.json()
            assert (body["from"], body["to"]) == (first, last)


@pytest.mark.parametrize("day", ["9999-12-31", "9999-12-28", "0001-01-01"])
def test_a_batch_run_of_a_date_whose_week_or_month_leaves_the_dates_is_422(
    client: TestClient, owner: tuple[dict[str, str], dict[str, int]], day: str
) -> None:
    headers, _ = owner
    response = client.post("/api/v1/admin/batch-runs", json={"date": day}, headers=headers)
    error = _error(response, 422, "invalid_input")
    assert error["details"] == {"date": day}
    listed = client.get("/api/v1/admin/batch-runs", headers=headers)
    assert listed.json() == {"items": []}


@pytest.mark.parametrize("value", ["99999999999999999999", "9223372036854775808", "0"])
def test_ids_outside_bigint_are_422(
    client: TestClient, owner: tuple[dict[str, str], dict[str, int]], value: str
) -> None:
    headers, _ = owner
    day = {"period": "day", "date": "2026-01-05"}
    top = client.get(
        "/api/v1/stats/top-videos", params={**day, "creator_id": value}, headers=headers
    )
    _error(top, 422, "invalid_input")
    for route in ("videos", "creators", "ads"):
        response = client.get(f"/api/v1/settlements/{route}/{value}", params=day, headers=headers)
        _error(response, 422, "invalid_input")
    largest = client.get(
        "/api/v1/stats/top-videos",
        params={**day, "creator_id": "9223372036854775807"},
        headers=headers,
    )
    assert largest.status_code == 200, largest.text
    assert largest.json()["items"] == []


@pytest.mark.parametrize(
    "day", ["0", "1767225600", "2026-1-5", "2026-01-05T00:00:00", "\uff12\uff10\uff12\uff16-01-05"]
)
def test_dates_must_be_written_yyyy_mm_dd(
    client: TestClient, owner: tuple[dict[str, str], dict[str, int]], day: str
) -> None:
    headers, _ = owner
    stats = client.get(
        "/api/v1/stats/top-ads", params={"period": "day", "date": day}, headers=headers
    )
    assert "YYYY-MM-DD" in _error(stats, 422, "invalid_input")["message"]
    runs = client.get("/api/v1/admin/batch-runs", params={"date": day}, headers=headers)
    _error(runs, 422, "invalid_input")
    started = client.post("/api/v1/admin/batch-runs", json={"date": day}, headers=headers)
    _error(started, 422, "invalid_input")


def _token(runtime: Runtime, **claims: object) -> str:
    payload = {"sub": "1", "jti": "j", "typ": "access", "roles": [], "exp": int(time.time()) + 60}
    payload.update(claims)
    return jwt.encode(payload, runtime.settings.jwt_secret.get_secret_value(), algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "²"},
        {"sub": "٣"},
        {"sub": "99999999999999999999"},
        {"sub": "9" * 5000},
        {"sub": "0"},
        {"sub": " 1"},
        {"jti": 5},
        {"roles": "admin"},
        {"roles": [1]},
        {"exp": "soon"},
    ],
)
def test_a_signed_token_with_malformed_claims_is_401(
    runtime: Runtime, client: TestClient, claims: dict[str, object]
) -> None:
    response = client.get("/api/v1/me", headers=bearer(_token(runtime, **claims)))
    assert _error(response, 401, "unauthenticated")["message"] == "invalid access token"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_well_formed_token_of_a_real_user_still_passes(
    runtime: Runtime, client: TestClient, owner: tuple[dict[str, str], dict[str, int]]
) -> None:
    _, ids = owner
    response = client.get("/api/v1/me", headers=bearer(_token(runtime, sub=str(ids["me"]))))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == ids["me"]


BIDI_AND_CONTROLS = [
    "evil\u202egpj.exe",
    "left\u2066isolate",
    "mark\u200f",
    "tab\there",
    "c1\x85inside",
]


@pytest.mark.parametrize("text", BIDI_AND_CONTROLS)
def test_free_text_with_control_or_bidi_characters_is_422(
    client: TestClient, owner: tuple[dict[str, str], dict[str, int]], text: str
) -> None:
    headers, _ = owner
    signup = {"email": "t@example.com", "password": "e2e-password-1", "display_name": text}
    error = _error(client.post("/api/v1/auth/signup", json=signup), 422, "invalid_input")
    assert "bidirectional" in error["message"] and error["details"]["field"] == "display_name"
    for path in ("/api/v1/videos", "/api/v1/ads"):
        answer = client.post(path, json={"title": text, "duration_seconds": 10}, headers=headers)
        error = _error(answer, 422, "invalid_input")
        assert "bidirectional" in error["message"] and error["details"]["field"] == "title"


def test_free_text_has_length_limits(
    client: TestClient, owner: tuple[dict[str, str], dict[str, int]]
) -> None:
    headers, _ = owner
    signup = {"email": "t@example.com", "password": "e2e-password-1", "display_name": "n" * 201}
    _error(client.post("/api/v1/auth/signup", json=signup), 422, "invalid_input")
    video = {"title": "t" * 301, "duration_seconds": 10}
    _error(client.post("/api/v1/videos", json=video, headers=headers), 422, "invalid_input")
    # a title of emoji joined with U+200D (a format character, not a control) is fine
    family = {"title": "\U0001f468\u200d\U0001f469\u200d\U0001f467 night", "duration_seconds": 10}
    assert client.post("/api/v1/videos", json=family, headers=headers).status_code == 201


def test_a_user_agent_with_control_characters_is_422_and_a_long_one_is_cut(
    client: TestClient, runtime: Runtime, owner: tuple[dict[str, str], dict[str, int]]
) -> None:
    _, ids = owner
    start = {"video_id": ids["video"]}
    # U+202E sent as UTF-8 reaches the app as Latin-1 text with a C1 control in it
    bidi = {"User-Agent": "evil\u202egpj".encode()}
    answer = client.post("/api/v1/playback/sessions", json=start, headers=bidi)  # type: ignore[arg-type]
    error = _error(answer, 422, "invalid_input")
    assert error["details"] == {"field": "user-agent"}
    long_agent = {"User-Agent": "Mozilla/5.0 " + "x" * 2000}
    assert (
        client.post("/api/v1/playback/sessions", json=start, headers=long_agent).status_code == 201
    )
