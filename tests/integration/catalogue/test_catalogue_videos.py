"""Videos over HTTP: creation with default ad slots, round-robin fill, roles and validation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from streamsettle.runtime import Runtime
from tests.support.auth_helpers import quick_user_headers


@pytest.fixture
def creator(runtime: Runtime) -> dict[str, str]:
    return quick_user_headers(runtime, "creator@example.com", ["creator"])


@pytest.fixture
def advertiser(runtime: Runtime) -> dict[str, str]:
    return quick_user_headers(runtime, "advertiser@example.com", ["advertiser"])


def _ad(client: TestClient, headers: dict[str, str], title: str, active: bool = True) -> int:
    response = client.post(
        "/api/v1/ads",
        json={"title": title, "duration_seconds": 15, "active": active},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    ad_id: int = response.json()["id"]
    return ad_id


def _video(client: TestClient, headers: dict[str, str], duration: int) -> dict[str, Any]:
    response = client.post(
        "/api/v1/videos", json={"title": f"{duration} s", "duration_seconds": duration},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("duration", "positions"),
    [
        (299, []),
        (300, []),
        (301, [300]),
        (900, [300, 600]),
        (3600, [300, 600, 900, 1200, 1500, 1800, 2100, 2400, 2700, 3000, 3300]),
    ],
)
def test_default_ad_slots_every_300_s_strictly_below_the_duration(
    client: TestClient,
    creator: dict[str, str],
    advertiser: dict[str, str],
    duration: int,
    positions: list[int],
) -> None:
    ad = _ad(client, advertiser, "only ad")
    video = _video(client, creator, duration)
    assert video["duration_seconds"] == duration
    assert video["ad_slots"] == [{"position_seconds": p, "ad_id": ad} for p in positions]


def test_round_robin_over_two_active_ads_rotates_between_videos(
    client: TestClient, creator: dict[str, str], advertiser: dict[str, str]
) -> None:
    a = _ad(client, advertiser, "A")
    _ad(client, advertiser, "inactive", active=False)
    b = _ad(client, advertiser, "B")
    first = _video(client, creator, 1500)  # slots 300, 600, 900, 1200
    second = _video(client, creator, 1500)
    assert [s["ad_id"] for s in first["ad_slots"]] == [a, b, a, b]
    assert [s["ad_id"] for s in second["ad_slots"]] == [b, a, b, a]


def test_slots_stay_empty_when_no_ad_is_active(client: TestClient, creator: dict[str, str]) -> None:
    video = _video(client, creator, 700)
    assert video["ad_slots"] == [
        {"position_seconds": 300, "ad_id": None},
        {"position_seconds": 600, "ad_id": None},
    ]


def test_created_video_is_readable_by_anyone(client: TestClient, creator: dict[str, str]) -> None:
    video = _video(client, creator, 900)
    response = client.get(f"/api/v1/videos/{video['id']}")
    assert response.status_code == 200
    assert response.json() == video
    assert set(video) >= {"id", "creator_id", "title", "duration_seconds", "ad_slots"}


def test_unknown_video_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/videos/999999")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("video_id", ["99999999999999999999", "0", "abc"])
def test_an_impossible_video_id_is_422_not_500(client: TestClient, video_id: str) -> None:
    response = client.get(f"/api/v1/videos/{video_id}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_a_creator_lists_own_videos_only(
    client: TestClient, runtime: Runtime, creator: dict[str, str]
) -> None:
    other = quick_user_headers(runtime, "other@example.com", ["creator"])
    mine = [_video(client, creator, 400)["id"], _video(client, creator, 500)["id"]]
    theirs = _video(client, other, 600)
    response = client.get("/api/v1/me/videos", headers=creator)
    assert response.status_code == 200
    body = response.json()
    assert [v["id"] for v in body["items"]] == mine
    assert body["total"] == 2
    by_creator = client.get("/api/v1/videos", params={"creator_id": theirs["creator_id"]}).json()
    assert [v["id"] for v in by_creator["items"]] == [theirs["id"]]
    paged = client.get("/api/v1/videos", params={"limit": 1, "offset": 1}).json()
    assert [v["id"] for v in paged["items"]] == [mine[1]]
    assert paged["total"] == 3


def test_a_viewer_cannot_create_a_video(client: TestClient, runtime: Runtime) -> None:
    viewer = quick_user_headers(runtime, "viewer@example.com")
    response = client.post(
        "/api/v1/videos", json={"title": "t", "duration_seconds": 60}, headers=viewer
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/me/videos", headers=viewer).status_code == 403


def test_anonymous_cannot_create_a_video(client: TestClient) -> None:
    response = client.post("/api/v1/videos", json={"title": "t", "duration_seconds": 60})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "t", "duration_seconds": 0},
        {"title": "t", "duration_seconds": 86_401},
        {"title": "", "duration_seconds": 60},
        {"title": "   ", "duration_seconds": 60},
        {"title": "x" * 301, "duration_seconds": 60},
        {"title": "nul \u0000 title", "duration_seconds": 60},
        {"title": "t", "duration_seconds": "sixty"},
        {"title": "t", "duration_seconds": 60.5},
        {"title": 42, "duration_seconds": 60},
        {"title": "t"},
        {"duration_seconds": 60},
        [],
    ],
)
def test_bad_video_input_is_422_in_the_contract_format(
    client: TestClient, creator: dict[str, str], payload: object
) -> None:
    response = client.post("/api/v1/videos", json=payload, headers=creator)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert client.get("/api/v1/me/videos", headers=creator).json()["total"] == 0


def test_bounds_are_inclusive(client: TestClient, creator: dict[str, str]) -> None:
    assert _video(client, creator, 1)["ad_slots"] == []
    assert len(_video(client, creator, 86_400)["ad_slots"]) == 287
    long_title = client.post(
        "/api/v1/videos", json={"title": "x" * 300, "duration_seconds": 60}, headers=creator
    )
    assert long_title.status_code == 201


def test_malformed_json_is_422(client: TestClient, creator: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/videos",
        content=b"{not json",
        headers={**creator, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
