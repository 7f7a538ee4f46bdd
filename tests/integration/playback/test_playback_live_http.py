"""Playback over real sockets (uvicorn): the async Redis hot path, the real clock, 429s."""

from __future__ import annotations

import httpx

from streamsettle.runtime import Runtime
from tests.integration.playback.playback_stack import make_world


def test_session_over_real_http_with_a_flood(live_server: str, runtime: Runtime) -> None:
    world = make_world(runtime)
    auth = {"Authorization": f"Bearer {world.viewer_token}"}
    with httpx.Client(base_url=live_server, headers=auth, timeout=10) as http:
        started = http.post("/api/v1/playback/sessions", json={"video_id": world.video_id})
        assert started.status_code == 201
        sid = started.json()["session_id"]
        url = f"/api/v1/playback/sessions/{sid}/heartbeats"
        first = http.post(url, json={"seq": 1, "position_seconds": 1, "state": "playing"})
        assert first.json() == {"watched_seconds": 1, "ad_slots_reached": []}
        stranger = http.post(
            url,
            json={"seq": 2, "position_seconds": 2, "state": "playing"},
            headers={"Authorization": f"Bearer {world.other_token}"},
        )
        assert stranger.status_code == 403
        # 20 quick heartbeats span at most a few one-second windows of 5 each
        answers = [
            http.post(url, json={"seq": seq, "position_seconds": 1.5, "state": "paused"})
            for seq in range(2, 22)
        ]
        limited = [a for a in answers if a.status_code == 429]
        assert len(limited) >= 5
        assert all(a.status_code in (200, 429) for a in answers)
        assert all(a.headers["retry-after"] == "1" for a in limited)
        assert limited[0].json()["error"]["code"] == "rate_limited"
        stop = http.post(
            f"/api/v1/playback/sessions/{sid}/stop", json={"seq": 99, "position_seconds": 1.5}
        )
        assert stop.status_code == 200
        assert stop.json()["watched_seconds"] == 1
