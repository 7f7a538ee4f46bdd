"""Crafted days for the engine conformance tests: a catalogue built through the models and
watch logs stored through the one writer (``watch_log_writer``), as production stores them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from streamsettle.db.models import (
    Ad,
    DailyVideoAdStats,
    DailyVideoStats,
    RateCard,
    RateCardTier,
    User,
    UserRole,
    Video,
)
from streamsettle.domain.periods import business_date
from streamsettle.runtime import Runtime
from streamsettle.services.ingest.watch_log_lines import WatchLogRow
from streamsettle.services.ingest.watch_log_writer import write_watch_logs


class DayWorld:
    """Users, videos, ads, earlier days' statistics and watch logs, in platform time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.tz = runtime.settings.tz
        self._n = 0
        self._ads: dict[str, dict[int, int | None]] = {}
        self._pending: list[WatchLogRow] | None = None

    def at(self, day: date, clock: str) -> datetime:
        """An aware instant from a local date and ``HH:MM:SS[.ffffff]``."""
        return datetime.combine(day, time.fromisoformat(clock), tzinfo=self.tz)

    def _add(self, row: Any) -> int:
        with self.runtime.db.session() as session:
            session.add(row)
            session.flush()
            return int(row.id)

    def user(self, role: str = "viewer") -> int:
        self._n += 1
        user = User(email=f"e{self._n}@example.com", display_name=f"user {self._n}")
        user.role_rows = [UserRole(role=role)]
        return self._add(user)

    def video(self, creator: int) -> int:
        return self._add(Video(creator_id=creator, title="v", duration_seconds=1800))

    def ad(self, owner: int) -> int:
        return self._add(Ad(owner_id=owner, title="ad", duration_seconds=15))

    def rate_card(self, effective_from: date, video: list[tuple[int, str]],
                  ad: list[tuple[int, str]]) -> int:  # fmt: skip
        card = RateCard(effective_from=effective_from)
        card.tiers = [
            RateCardTier(kind=kind, from_views=f, unit_price=Decimal(p))
            for kind, tiers in (("video", video), ("ad", ad))
            for f, p in tiers
        ]
        return self._add(card)

    def history(self, day: date, video: int, creator: int, views: int,
                ads: dict[int, int] | None = None) -> None:  # fmt: skip
        """An earlier day's statistics (to start a video or a pair high in the tiers)."""
        with self.runtime.db.engine.begin() as conn:
            conn.execute(
                sa.insert(DailyVideoStats),
                [{"business_date": day, "video_id": video, "creator_id": creator,
                  "sessions": views, "views": views, "self_views": 0, "repeat_views": 0,
                  "watched_seconds": 0, "ad_views": sum((ads or {}).values())}],
            )  # fmt: skip
            if ads:
                conn.execute(
                    sa.insert(DailyVideoAdStats),
                    [{"business_date": day, "video_id": video, "ad_id": a, "ad_views": n}
                     for a, n in ads.items()],
                )  # fmt: skip

    def sample_day(self, day: date) -> list[int]:
        """Three videos of two creators with ads, repeats by IP and self views; the videos."""
        creator, other, advertiser = (
            self.user("creator"),
            self.user("creator"),
            self.user("advertiser"),
        )
        videos = [self.video(creator), self.video(other), self.video(creator)]
        first, second = self.ad(advertiser), self.ad(advertiser)
        start = self.at(day, "12:00:00")
        with self.batch():
            for n, video in enumerate(videos):
                for i in range(4):
                    at = start + timedelta(seconds=10 * i + n)
                    self.log(video, at, ip=f"10.0.{n}.{i % 2}", watched=400 + i,
                             slots={300: first if i % 2 else second})  # fmt: skip
                self.log(video, start, viewer=creator, ip="10.9.9.9", watched=90)
        return videos

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Logs made inside are written together, in one call of the writer."""
        self._pending = []
        try:
            yield
            rows = self._pending
        finally:
            self._pending = None
        self._write(rows)

    def log(self, video: int, started_at: datetime, *, viewer: int | None = None,
            ip: str = "10.0.0.1", watched: int = 60, slots: dict[int, int | None] | None = None,
            session_id: uuid.UUID | None = None) -> uuid.UUID:  # fmt: skip
        """One watch log; ``slots`` maps each reached slot (seconds) to the ad that filled it."""
        sid = session_id or uuid.uuid4()
        slots = slots or {}
        self._ads[str(sid)] = slots
        row = WatchLogRow(
            number=0,
            session_id=str(sid),
            video_id=video,
            viewer_id=viewer,
            ip=ip,
            user_agent="test",
            started_at=started_at,
            ended_at=started_at + timedelta(seconds=watched),
            business_date=business_date(started_at, self.tz),
            start_position_ms=0,
            end_position_ms=watched * 1000,
            watched_seconds=watched,
            slots=tuple(sorted(slots)),
        )
        if self._pending is not None:
            self._pending.append(row)
        else:
            self._write([row])
        return sid

    def _write(self, rows: list[WatchLogRow]) -> None:
        if not rows:
            return
        with self.runtime.db.engine.begin() as conn:
            write_watch_logs(conn, rows, lambda row, position: self._ads[row.session_id][position])
