"""The playback tests' world: a pinned clock, a small catalogue with viewers and tokens, and
``Stack``, the whole app over one session store with helpers for the player's requests.
Imported by the tests and by ``conftest`` (its fixtures build a ``Stack``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx2 import Response

from streamsettle.db.models import Ad, AdSlot, User, UserRole, Video
from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import issue_access_token

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)  # 09:00 on 2026-11-01 in Asia/Seoul


class FakeClock:
    """The app's clock, moved by hand: ``clock.advance(10)``."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def at(self, seconds: float) -> datetime:
        """Set the clock to ``T0 + seconds``."""
        self.now = T0 + timedelta(seconds=seconds)
        return self.now


@dataclass
class World:
    creator_id: int
    viewer_id: int
    other_id: int
    ad_a: int
    ad_b: int
    video_id: int
    """900 s; slots at 300 (ad_a) and 600 (ad_b)."""
    short_video_id: int
    """60 s, no slots."""
    viewer_token: str
    other_token: str

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def make_world(runtime: Runtime) -> World:
    with runtime.db.session() as s:
        users = []
        for email, role in [
            ("creator@example.com", "creator"),
            ("viewer@example.com", "viewer"),
            ("other@example.com", "viewer"),
            ("advertiser@example.com", "advertiser"),
        ]:
            user = User(email=email, display_name=email.split("@")[0], password_hash=None)
            user.role_rows = [UserRole(role=role)]
            s.add(user)
            users.append(user)
        s.flush()
        creator, viewer, other, advertiser = users
        ad_a = Ad(owner_id=advertiser.id, title="A", duration_seconds=15)
        ad_b = Ad(owner_id=advertiser.id, title="B", duration_seconds=30)
        s.add_all([ad_a, ad_b])
        s.flush()
        video = Video(creator_id=creator.id, title="Long", duration_seconds=900)
        video.ad_slots = [
            AdSlot(position_seconds=300, ad_id=ad_a.id),
            AdSlot(position_seconds=600, ad_id=ad_b.id),
        ]
        short = Video(creator_id=creator.id, title="Short", duration_seconds=60)
        s.add_all([video, short])
        s.flush()
        ids = (creator.id, viewer.id, other.id, ad_a.id, ad_b.id, video.id, short.id)
    settings = runtime.settings
    viewer_token, _ = issue_access_token(settings, ids[1], ["viewer"])
    other_token, _ = issue_access_token(settings, ids[2], ["viewer"])
    return World(*ids, viewer_token=viewer_token, other_token=other_token)


@dataclass
class Stack:
    kind: str
    runtime: Runtime
    client: TestClient
    clock: FakeClock
    world: World

    def start(self, video_id: int | None = None, token: str | None = None, **extra: object) -> str:
        headers = self.world.auth(token) if token else {}
        body = {"video_id": video_id or self.world.video_id, **extra}
        response = self.client.post("/api/v1/playback/sessions", json=body, headers=headers)
        assert response.status_code == 201, response.text
        session_id: str = response.json()["session_id"]
        return session_id

    def beat(
        self,
        session_id: str,
        seq: int,
        position: float,
        *,
        at: float | None = None,
        state: str = "playing",
        token: str | None = None,
    ) -> dict[str, object]:
        """A heartbeat at ``T0 + at`` seconds; asserts a 200 and returns the body."""
        response = self.beat_raw(session_id, seq, position, at=at, state=state, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    def beat_raw(
        self,
        session_id: str,
        seq: object,
        position: object,
        *,
        at: float | None = None,
        state: object = "playing",
        token: str | None = None,
    ) -> Response:
        if at is not None:
            self.clock.at(at)
        headers = self.world.auth(token) if token else {}
        return self.client.post(
            f"/api/v1/playback/sessions/{session_id}/heartbeats",
            json={"seq": seq, "position_seconds": position, "state": state},
            headers=headers,
        )

    def stop(
        self,
        session_id: str,
        seq: int,
        position: float,
        *,
        at: float | None = None,
        token: str | None = None,
    ) -> Response:
        if at is not None:
            self.clock.at(at)
        headers = self.world.auth(token) if token else {}
        return self.client.post(
            f"/api/v1/playback/sessions/{session_id}/stop",
            json={"seq": seq, "position_seconds": position},
            headers=headers,
        )
