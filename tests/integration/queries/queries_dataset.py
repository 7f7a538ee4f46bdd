"""A small settled data set written straight into the daily tables, around a month's end.

Dates 2026-11-28 (Sat) .. 2026-12-02 (Wed) are settled; 2026-12-03 is not. The ISO week of
2026-11-30 runs Mon 11-30 .. Sun 12-06 and straddles November and December.

Creator A owns videos v1..v6, creator B owns v7; advertiser P owns ad1 and ad2, Q owns ad3.
Every expected number in the tests is summed by hand from the tables below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from streamsettle.db.models import (
    Ad,
    DailyAdSettlement,
    DailyAdStats,
    User,
    UserRole,
    Video,
)
from streamsettle.runtime import Runtime
from streamsettle.services.batch.steps import refresh_rollups
from streamsettle.services.identity.tokens import issue_access_token
from tests.support.settled import add_settlement, add_video_stats

D = date.fromisoformat

VIDEO_TITLES = {
    "v1": "Morning walk",
    "v2": "Tea ceremony",
    "v3": 'Cats, "live"',
    "v4": "Night drive",
    "v5": "Short clip",
    "v6": "=HYPERLINK(1)",
    "v7": "B's only video",
}

# (date, video, views, watched_seconds, ad_views, video_amount, ad_amount); total = video + ad
SETTLED_DAYS = [
    ("2026-11-28", "v1", 10, 1000, 4, 10, 40),
    ("2026-11-29", "v2", 20, 500, 5, 21, 52),
    ("2026-11-30", "v1", 5, 600, 0, 5, 0),
    ("2026-11-30", "v3", 12, 900, 6, 13, 66),
    ("2026-11-30", "v5", 1, 10, 0, 1, 0),
    ("2026-11-30", "v7", 100, 9999, 10, 110, 120),
    ("2026-12-01", "v1", 7, 300, 1, 7, 10),
    ("2026-12-01", "v3", 10, 2000, 2, 11, 24),
    ("2026-12-01", "v4", 22, 50, 2, 24, 20),
    ("2026-12-01", "v7", 3, 3, 0, 3, 0),
    ("2026-12-02", "v2", 2, 100, 0, 2, 0),
    ("2026-12-02", "v6", 22, 2600, 3, 22, 30),
]

# (date, video, ad, ad_views, amount): per (video, ad) pair, adding up to the ad_amount above
AD_SETTLEMENTS = [
    ("2026-11-28", "v1", "ad1", 4, 40),
    ("2026-11-29", "v2", "ad1", 3, 31),
    ("2026-11-29", "v2", "ad3", 2, 21),
    ("2026-11-30", "v3", "ad2", 6, 66),
    ("2026-11-30", "v7", "ad3", 10, 120),
    ("2026-12-01", "v1", "ad1", 1, 10),
    ("2026-12-01", "v3", "ad2", 2, 24),
    ("2026-12-01", "v4", "ad1", 2, 20),
    ("2026-12-02", "v6", "ad1", 1, 10),
    ("2026-12-02", "v6", "ad2", 2, 20),
]


@dataclass
class Settled:
    """Ids of the data set and a way to call the API as one of its users."""

    client: TestClient
    ids: dict[str, int]
    tokens: dict[str, str]

    def get(self, who: str, path: str, **params: str | int) -> dict[str, Any]:
        response = self.client.get(path, params=params, headers=self.auth(who))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def status(self, who: str | None, path: str, **params: str | int) -> int:
        headers = self.auth(who) if who else {}
        return self.client.get(path, params=params, headers=headers).status_code

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


PEOPLE = {
    "admin": ["admin"],
    "A": ["creator"],
    "B": ["creator"],
    "P": ["advertiser"],
    "Q": ["advertiser"],
    "viewer": ["viewer"],
}


def load_settled(runtime: Runtime) -> tuple[dict[str, int], dict[str, str]]:
    """Write the data set; returns the ids by name and an access token per person."""
    ids: dict[str, int] = {}
    with runtime.db.session() as session:
        for name, roles in PEOPLE.items():
            user = User(email=f"{name.lower()}@q.test", display_name=f"User {name}")
            user.role_rows = [UserRole(role=r) for r in roles]
            session.add(user)
            session.flush()
            ids[name] = user.id
        for name in ("ad1", "ad2", "ad3"):
            owner = ids["Q"] if name == "ad3" else ids["P"]
            ad = Ad(owner_id=owner, title=f"Ad {name}", duration_seconds=15, active=True)
            session.add(ad)
            session.flush()
            ids[name] = ad.id
        for name, title in VIDEO_TITLES.items():
            creator = ids["B"] if name == "v7" else ids["A"]
            video = Video(creator_id=creator, title=title, duration_seconds=900)
            session.add(video)
            session.flush()
            ids[name] = video.id
        creator_of = {v: ids["B"] if v == "v7" else ids["A"] for v in VIDEO_TITLES}
        for day, v, views, watched, ad_views, video_amount, ad_amount in SETTLED_DAYS:
            keys = {"business_date": D(day), "video_id": ids[v], "creator_id": creator_of[v]}
            add_video_stats(
                session,
                keys,
                views=views,
                watched=watched,
                ad_views=ad_views,
                sessions=views + 1,
                repeat_views=1,
            )
            add_settlement(
                session,
                keys,
                views=views,
                ad_views=ad_views,
                video_amount=video_amount,
                ad_amount=ad_amount,
            )
        ad_day_views: dict[tuple[str, str], int] = {}
        for day, v, ad_name, ad_views, amount in AD_SETTLEMENTS:
            session.add(
                DailyAdSettlement(
                    business_date=D(day),
                    video_id=ids[v],
                    ad_id=ids[ad_name],
                    rate_card_id=1,
                    ad_views=ad_views,
                    ad_views_before=0,
                    amount=amount,
                )
            )
            ad_day_views[day, ad_name] = ad_day_views.get((day, ad_name), 0) + ad_views
        for (day, ad_name), ad_views in ad_day_views.items():
            owner = ids["Q"] if ad_name == "ad3" else ids["P"]
            session.add(
                DailyAdStats(
                    business_date=D(day), ad_id=ids[ad_name], owner_id=owner, ad_views=ad_views
                )
            )
        session.flush()
        connection = session.connection()
        for settled in sorted({D(r[0]) for r in SETTLED_DAYS}):
            refresh_rollups(connection, settled)
    tokens = {
        name: issue_access_token(runtime.settings, ids[name], roles)[0]
        for name, roles in PEOPLE.items()
    }
    return ids, tokens
