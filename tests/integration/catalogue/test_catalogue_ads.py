"""Ads and ad placement over HTTP: who may do what, and every way a placement can be bad."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from streamsettle.db.models import AdSlot
from streamsettle.runtime import Runtime
from tests.support.auth_helpers import quick_user_headers

Headers = dict[str, str]


@pytest.fixture
def creator(runtime: Runtime) -> Headers:
    return quick_user_headers(runtime, "creator@example.com", ["creator"])


@pytest.fixture
def advertiser(runtime: Runtime) -> Headers:
    return quick_user_headers(runtime, "advertiser@example.com", ["advertiser"])


@pytest.fixture
def admin(runtime: Runtime) -> Headers:
    return quick_user_headers(runtime, "admin@example.com", ["admin"])


def _ad(client: TestClient, headers: Headers, title: str = "ad", active: bool = True) -> int:
    response = client.post(
        "/api/v1/ads", json={"title": title, "duration_seconds": 30, "active": active},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    ad_id: int = response.json()["id"]
    return ad_id


def _video(client: TestClient, headers: Headers, duration: int = 900) -> int:
    response = client.post(
        "/api/v1/videos", json={"title": "v", "duration_seconds": duration}, headers=headers
    )
    assert response.status_code == 201, response.text
    video_id: int = response.json()["id"]
    return video_id


def _place(client: TestClient, headers: Headers, video_id: int, slots: Any) -> tuple[int, Any]:
    response = client.put(f"/api/v1/videos/{video_id}/ad-slots", json=slots, headers=headers)
    return response.status_code, response.json()


def test_an_advertiser_creates_an_ad(client: TestClient, advertiser: Headers) -> None:
    response = client.post(
        "/api/v1/ads", json={"title": "Spring sale", "duration_seconds": 15}, headers=advertiser
    )
    assert response.status_code == 201
    body = response.json()
    me = client.get("/api/v1/me", headers=advertiser).json()
    assert {k: body[k] for k in ("owner_id", "title", "duration_seconds", "active")} == {
        "owner_id": me["id"], "title": "Spring sale", "duration_seconds": 15, "active": True,
    }  # fmt: skip
    assert isinstance(body["id"], int)
    assert client.get(f"/api/v1/ads/{body['id']}", headers=advertiser).json() == body


def test_an_admin_creates_an_ad_but_a_creator_cannot(
    client: TestClient, admin: Headers, creator: Headers
) -> None:
    _ad(client, admin)
    refused = client.post(
        "/api/v1/ads", json={"title": "x", "duration_seconds": 15}, headers=creator
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "payload",
    [{"title": "x", "duration_seconds": 0}, {"title": "x", "duration_seconds": 3601},
     {"title": "", "duration_seconds": 15}, {"title": "x"},
     {"title": "x", "duration_seconds": 15, "active": "maybe"}],
)  # fmt: skip
def test_bad_ad_input_is_422(client: TestClient, advertiser: Headers, payload: object) -> None:
    response = client.post("/api/v1/ads", json=payload, headers=advertiser)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_ad_lists_are_scoped_by_role(
    client: TestClient, runtime: Runtime, advertiser: Headers, admin: Headers, creator: Headers
) -> None:
    other = quick_user_headers(runtime, "other-adv@example.com", ["advertiser"])
    mine = _ad(client, advertiser, "mine")
    paused = _ad(client, advertiser, "mine, paused", active=False)
    theirs = _ad(client, other, "theirs")

    def ids(headers: Headers, **params: Any) -> list[int]:
        response = client.get("/api/v1/ads", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["items"]]

    assert ids(advertiser) == [mine, paused]
    assert ids(advertiser, active=True) == [mine]
    assert ids(admin) == [mine, paused, theirs]
    assert ids(creator) == [mine, theirs]  # what a creator may place
    viewer = quick_user_headers(runtime, "viewer@example.com")
    assert client.get("/api/v1/ads", headers=viewer).status_code == 403
    # an inactive ad is visible to its owner and admins only
    assert client.get(f"/api/v1/ads/{paused}", headers=admin).status_code == 200
    assert client.get(f"/api/v1/ads/{paused}", headers=other).status_code == 404
    assert client.get(f"/api/v1/ads/{theirs}", headers=creator).status_code == 200
    assert client.get("/api/v1/ads/424242", headers=admin).status_code == 404


def test_the_owner_deactivates_an_ad_and_new_videos_skip_it(
    client: TestClient, runtime: Runtime, advertiser: Headers, creator: Headers
) -> None:
    a = _ad(client, advertiser, "A")
    b = _ad(client, advertiser, "B")
    other = quick_user_headers(runtime, "other-adv@example.com", ["advertiser"])
    assert (
        client.patch(f"/api/v1/ads/{a}", json={"active": False}, headers=other).status_code == 403
    )
    response = client.patch(f"/api/v1/ads/{a}", json={"active": False}, headers=advertiser)
    assert response.status_code == 200
    assert response.json()["active"] is False
    video = client.get(f"/api/v1/videos/{_video(client, creator, 700)}").json()
    assert [s["ad_id"] for s in video["ad_slots"]] == [b, b]


def test_the_creator_replaces_the_placement(
    client: TestClient, runtime: Runtime, advertiser: Headers, creator: Headers
) -> None:
    a, b = _ad(client, advertiser, "A"), _ad(client, advertiser, "B")
    video_id = _video(client, creator, 900)  # default slots 300 -> a, 600 -> b
    new = [
        {"position_seconds": 600, "ad_id": a},
        {"position_seconds": 120, "ad_id": b},
        {"position_seconds": 899, "ad_id": b},
    ]
    status, body = _place(client, creator, video_id, new)
    assert status == 200, body
    assert body == [
        {"position_seconds": 120, "ad_id": b},
        {"position_seconds": 600, "ad_id": a},
        {"position_seconds": 899, "ad_id": b},
    ]
    assert client.get(f"/api/v1/videos/{video_id}").json()["ad_slots"] == body
    with runtime.db.session() as session:
        rows = session.execute(select(AdSlot.position_seconds, AdSlot.ad_id)).all()
    assert sorted(rows) == [(120, b), (600, a), (899, b)]


def test_an_empty_placement_removes_every_slot(
    client: TestClient, advertiser: Headers, creator: Headers
) -> None:
    _ad(client, advertiser)
    video_id = _video(client, creator, 900)
    assert _place(client, creator, video_id, []) == (200, [])
    assert client.get(f"/api/v1/videos/{video_id}").json()["ad_slots"] == []


def test_an_admin_may_place_ads_on_any_video(
    client: TestClient, advertiser: Headers, creator: Headers, admin: Headers
) -> None:
    a = _ad(client, advertiser)
    video_id = _video(client, creator)
    status, body = _place(client, admin, video_id, [{"position_seconds": 450, "ad_id": a}])
    assert (status, body) == (200, [{"position_seconds": 450, "ad_id": a}])


def test_another_creator_cannot_place_ads_on_my_video(
    client: TestClient, runtime: Runtime, advertiser: Headers, creator: Headers
) -> None:
    a = _ad(client, advertiser)
    video_id = _video(client, creator)
    before = client.get(f"/api/v1/videos/{video_id}").json()["ad_slots"]
    intruder = quick_user_headers(runtime, "intruder@example.com", ["creator"])
    status, body = _place(client, intruder, video_id, [{"position_seconds": 10, "ad_id": a}])
    assert status == 403
    assert body["error"]["code"] == "forbidden"
    assert client.get(f"/api/v1/videos/{video_id}").json()["ad_slots"] == before


def test_placing_on_an_unknown_video_is_404(
    client: TestClient, advertiser: Headers, creator: Headers
) -> None:
    a = _ad(client, advertiser)
    status, _ = _place(client, creator, 987654, [{"position_seconds": 10, "ad_id": a}])
    assert status == 404


@pytest.mark.parametrize(
    ("slot", "reason"),
    [
        ({"position_seconds": 0}, "outside"),
        ({"position_seconds": 900}, "outside"),
        ({"position_seconds": -5}, "outside"),
        ({"position_seconds": 1200}, "outside"),
        ({"position_seconds": 300.5}, "int"),
        ({"position_seconds": "300"}, "int"),
        ({"ad_id": 999_999}, "does not exist"),
        ({"ad_id": "inactive"}, "not active"),
        ({"ad_id": None}, "int"),
        ({"ad_id": 2**64}, "less than or equal"),
    ],
)
def test_bad_placements_are_422_and_change_nothing(
    client: TestClient,
    advertiser: Headers,
    creator: Headers,
    slot: dict[str, Any],
    reason: str,
) -> None:
    a = _ad(client, advertiser, "A")
    inactive = _ad(client, advertiser, "off", active=False)
    video_id = _video(client, creator, 900)
    before = client.get(f"/api/v1/videos/{video_id}").json()["ad_slots"]
    entry = {"position_seconds": 450, "ad_id": a, **slot}
    if entry["ad_id"] == "inactive":
        entry["ad_id"] = inactive
    status, body = _place(client, creator, video_id, [{"position_seconds": 100, "ad_id": a}, entry])
    assert status == 422, body
    assert body["error"]["code"] == "invalid_input"
    assert reason in str(body["error"]).lower() or reason in str(body["error"])
    assert client.get(f"/api/v1/videos/{video_id}").json()["ad_slots"] == before


def test_a_repeated_position_is_422(
    client: TestClient, advertiser: Headers, creator: Headers
) -> None:
    a = _ad(client, advertiser)
    video_id = _video(client, creator)
    status, body = _place(
        client, creator, video_id,
        [{"position_seconds": 300, "ad_id": a}, {"position_seconds": 300, "ad_id": a}],
    )  # fmt: skip
    assert status == 422
    assert body["error"]["details"] == [{"index": 1, "message": "position 300 is repeated"}]


def test_every_bad_entry_is_reported(
    client: TestClient, advertiser: Headers, creator: Headers
) -> None:
    a = _ad(client, advertiser)
    video_id = _video(client, creator, 900)
    status, body = _place(
        client, creator, video_id,
        [{"position_seconds": 950, "ad_id": a}, {"position_seconds": 300, "ad_id": a},
         {"position_seconds": 301, "ad_id": 777}],
    )  # fmt: skip
    assert status == 422
    assert [d["index"] for d in body["error"]["details"]] == [0, 2]


@pytest.mark.parametrize("payload", [{"position_seconds": 300, "ad_id": 1}, "slots", None])
def test_a_body_that_is_not_a_list_is_422(
    client: TestClient, creator: Headers, payload: object
) -> None:
    video_id = _video(client, creator)
    status, body = _place(client, creator, video_id, payload)
    assert status == 422
    assert body["error"]["code"] == "invalid_input"
