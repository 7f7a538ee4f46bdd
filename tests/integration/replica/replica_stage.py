"""The replica tests' stage: an admin and two creators (A owns the video, B owns none), made
straight in the database (no write marks), and the API calls an admin makes to settle a day:
import the day's watch logs, run the batch, wait for it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from streamsettle.runtime import Runtime
from tests.support.replica import ReplicaPair


@dataclass
class Stage:
    client: TestClient
    runtime: Runtime
    pair: ReplicaPair
    admin: dict[str, str]
    creator_a: dict[str, str]
    creator_b: dict[str, str]
    video_id: int = 0

    def get(self, headers: dict[str, str], path: str, **params: str) -> dict[str, Any]:
        response = self.client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def create_video(self, headers: dict[str, str], title: str) -> int:
        body = {"title": title, "duration_seconds": 600}
        response = self.client.post("/api/v1/videos", json=body, headers=headers)
        assert response.status_code == 201, response.text
        video_id: int = response.json()["id"]
        return video_id

    def import_views(self, day: str, views: int) -> None:
        """``views`` watch logs of A's video on ``day``, each from its own address."""
        lines = [
            json.dumps(
                {
                    "session_id": str(uuid.uuid4()),
                    "video_id": self.video_id,
                    "viewer_id": None,
                    "ip": f"203.0.113.{n + 1}",
                    "user_agent": "Mozilla/5.0",
                    "started_at": f"{day}T09:00:00+09:00",
                    "ended_at": f"{day}T09:05:00+09:00",
                    "start_position_seconds": 0,
                    "end_position_seconds": 300,
                    "watched_seconds": 300,
                    "ad_slot_positions": [],
                }
            )
            for n in range(views)
        ]
        response = self.client.post(
            "/api/v1/admin/watch-logs/import",
            content="\n".join(lines).encode(),
            headers={**self.admin, "Content-Type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["inserted"] == views

    def settle(self, day: str) -> None:
        """Run the batch for ``day`` as the admin and wait until it has completed."""
        response = self.client.post(
            "/api/v1/admin/batch-runs", json={"date": day}, headers=self.admin
        )
        assert response.status_code == 202, response.text
        run_id = response.json()["run_id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = self.get(self.admin, f"/api/v1/admin/batch-runs/{run_id}")
            if run["status"] != "running":
                assert run["status"] == "completed", run
                return
            time.sleep(0.05)
        raise AssertionError(f"batch run {run_id} for {day} did not finish")

    def readyz(self) -> dict[str, Any]:
        response = self.client.get("/readyz")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
