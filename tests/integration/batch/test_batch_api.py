"""Admin API of the batch and of rate cards: 202 and follow a run, 409 refusals, 422 junk."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import issue_access_token
from tests.integration.batch.batch_world import World

D1 = date(2024, 7, 1)


def _headers(world: World, role: str) -> dict[str, str]:
    user = world.user(role)
    token, _ = issue_access_token(world.runtime.settings, user, [role])
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(runtime: Runtime, client: TestClient) -> tuple[TestClient, World, dict[str, str]]:
    world = World(runtime)
    return client, world, _headers(world, "admin")


def _wait(client: TestClient, headers: dict[str, str], run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(
            f"/api/v1/admin/batch-runs/{run_id}", headers=headers
        ).json()
        if body["status"] != "running":
            return body
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still running")


def test_start_a_run_and_follow_it(api: tuple[TestClient, World, dict[str, str]]) -> None:
    client, world, admin = api
    world.log(world.video(world.user("creator")), world.at(D1, "09:00:00"))
    response = client.post("/api/v1/admin/batch-runs", json={"date": "2024-07-01"}, headers=admin)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "running"
    body = _wait(client, admin, accepted["run_id"])
    assert body["status"] == "completed" and body["error"] is None
    assert body["date"] == "2024-07-01" and body["finished_at"]
    # PostgreSQL's default engine computes outside the database, then writes.
    assert body["engine"] == "duckdb"
    assert [s["name"] for s in body["steps"]][:4] == ["flush", "extract", "compute", "video_stats"]
    assert {s["status"] for s in body["steps"]} == {"completed"}
    listed = client.get("/api/v1/admin/batch-runs", params={"date": "2024-07-01"}, headers=admin)
    assert [r["run_id"] for r in listed.json()["items"]] == [accepted["run_id"]]


def test_refusals_and_bad_input(api: tuple[TestClient, World, dict[str, str]]) -> None:
    client, world, admin = api
    video = world.video(world.user("creator"))
    world.log(video, world.at(D1, "09:00:00"))
    world.log(video, world.at(date(2024, 7, 2), "09:00:00"))
    refused = client.post("/api/v1/admin/batch-runs", json={"date": "2024-07-02"}, headers=admin)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "batch_refused"
    assert "2024-07-01 is not settled" in refused.json()["error"]["message"]
    for junk in ({"date": "2024-02-30"}, {"date": 20240701}, {}, {"date": "yesterday"}):
        bad = client.post("/api/v1/admin/batch-runs", json=junk, headers=admin)
        assert bad.status_code == 422, junk
        assert bad.json()["error"]["code"] == "invalid_input"
    missing = client.get("/api/v1/admin/batch-runs/999999", headers=admin)
    assert missing.status_code == 404


def test_only_admins(api: tuple[TestClient, World, dict[str, str]]) -> None:
    client, world, _ = api
    creator = _headers(world, "creator")
    assert client.get("/api/v1/admin/batch-runs", headers=creator).status_code == 403
    assert client.get("/api/v1/admin/rate-cards", headers=creator).status_code == 403
    assert client.post("/api/v1/admin/batch-runs", json={"date": "2024-07-01"}).status_code == 401


CARD = {
    "effective_from": "2024-08-01",
    "video_tiers": [{"from_views": 0, "unit_price": "1.2"}, {"from_views": 50, "unit_price": "2"}],
    "ad_tiers": [{"from_views": 0, "unit_price": "11.000000"}],
}


def test_add_and_list_rate_cards(api: tuple[TestClient, World, dict[str, str]]) -> None:
    client, _, admin = api
    created = client.post("/api/v1/admin/rate-cards", json=CARD, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["effective_from"] == "2024-08-01"
    assert body["video_tiers"] == [
        {"from_views": 0, "unit_price": "1.2"},
        {"from_views": 50, "unit_price": "2"},
    ]
    assert body["ad_tiers"] == [{"from_views": 0, "unit_price": "11"}]
    again = client.post("/api/v1/admin/rate-cards", json=CARD, headers=admin)
    assert again.status_code == 409
    versions = client.get("/api/v1/admin/rate-cards", headers=admin).json()["items"]
    assert [v["effective_from"] for v in versions] == ["2000-01-01", "2024-08-01"]
    assert versions[0]["video_tiers"][1] == {"from_views": 100000, "unit_price": "1.1"}
    assert versions[0]["ad_tiers"][0] == {"from_views": 0, "unit_price": "10"}


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([{"from_views": 5, "unit_price": "1"}], "start at from_views 0"),
        (
            [{"from_views": 0, "unit_price": "1"}, {"from_views": 0, "unit_price": "2"}],
            "strictly increase",
        ),
        (
            [{"from_views": 0, "unit_price": "1"}, {"from_views": 10, "unit_price": "-2"}],
            "must not be negative",
        ),
        ([{"from_views": 0, "unit_price": "1e3"}], "not a plain decimal"),
        ([{"from_views": 0, "unit_price": "NaN"}], "not a plain decimal"),
        ([{"from_views": 0, "unit_price": "1.0000001"}], "at most 6 decimal places"),
        ([{"from_views": 0, "unit_price": 1.1}], "valid string"),
        ([{"from_views": -1, "unit_price": "1"}], "greater than or equal to 0"),
        ([], "at least 1"),
    ],
)
def test_bad_rate_cards_are_refused(
    api: tuple[TestClient, World, dict[str, str]], tiers: list[dict[str, Any]], message: str
) -> None:
    client, _, admin = api
    body = {**CARD, "video_tiers": tiers}
    response = client.post("/api/v1/admin/rate-cards", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]["message"]
    versions = client.get("/api/v1/admin/rate-cards", headers=admin).json()["items"]
    assert len(versions) == 1  # nothing half-written
