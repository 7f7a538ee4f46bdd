"""The batch tests' world: users, videos, ads and hand-made watch logs written directly,
and a snapshot of every row the batch derives for a day."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from streamsettle.db.models import (
    Ad,
    BatchRun,
    DailyAdSettlement,
    DailyAdStats,
    DailyCreatorSettlement,
    DailySettlement,
    DailyVideoAdStats,
    DailyVideoStats,
    User,
    UserRole,
    Video,
    ViewClassification,
    WatchLog,
    WatchLogAdSlot,
)
from streamsettle.domain.periods import business_date
from streamsettle.runtime import Runtime

DERIVED = (
    ViewClassification,
    DailyVideoStats,
    DailyVideoAdStats,
    DailyAdStats,
    DailySettlement,
    DailyAdSettlement,
    DailyCreatorSettlement,
)


class World:
    """Builds rows directly (the batch only reads tables), with Seoul-time helpers."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.tz = runtime.settings.tz
        self._n = 0
        self._pending: dict[Any, list[dict[str, Any]]] | None = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Logs written inside are inserted together at the end (fast big days)."""
        self._pending = {WatchLog: [], WatchLogAdSlot: []}
        try:
            yield
            pending = self._pending
        finally:
            self._pending = None
        for model, rows in pending.items():
            if rows:
                self._insert(model, rows)

    def at(self, day: date, clock: str) -> datetime:
        """An aware instant from a local (platform time zone) date and ``HH:MM:SS[.ffffff]``."""
        return datetime.combine(day, time.fromisoformat(clock), tzinfo=self.tz)

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
        if self._pending is not None and model in self._pending:
            self._pending[model].extend(rows)
            return
        with self.runtime.db.engine.begin() as conn:
            conn.execute(sa.insert(model), rows)

    def user(self, role: str = "viewer") -> int:
        self._n += 1
        with self.runtime.db.session() as session:
            user = User(email=f"u{self._n}@example.com", display_name=f"user {self._n}")
            user.role_rows = [UserRole(role=role)]
            session.add(user)
            session.flush()
            return user.id

    def video(self, creator: int, duration: int = 1200) -> int:
        with self.runtime.db.session() as session:
            video = Video(creator_id=creator, title="v", duration_seconds=duration)
            session.add(video)
            session.flush()
            return video.id

    def ad(self, owner: int) -> int:
        with self.runtime.db.session() as session:
            ad = Ad(owner_id=owner, title="ad", duration_seconds=15)
            session.add(ad)
            session.flush()
            return ad.id

    def log(
        self,
        video: int,
        started_at: datetime,
        *,
        viewer: int | None = None,
        ip: str = "10.0.0.1",
        watched: int = 60,
        slots: dict[int, int | None] | None = None,
        session_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        sid = session_id or uuid.uuid4()
        self._insert(
            WatchLog,
            [
                {
                    "session_id": sid,
                    "business_date": business_date(started_at, self.tz),
                    "video_id": video,
                    "viewer_id": viewer,
                    "ip": ip,
                    "user_agent": "test",
                    "started_at": started_at,
                    "ended_at": started_at + timedelta(seconds=watched),
                    "start_position_seconds": 0,
                    "end_position_seconds": watched,
                    "watched_seconds": watched,
                }
            ],
        )
        if slots:
            self._insert(
                WatchLogAdSlot,
                [{"session_id": sid, "position_seconds": p, "ad_id": a} for p, a in slots.items()],
            )
        return sid

    def stats(self, day: date, video: int, views: int, *, creator: int) -> None:
        """Statistics of an earlier day written directly (to start a video high in the tiers)."""
        self._insert(
            DailyVideoStats,
            [
                {
                    "business_date": day,
                    "video_id": video,
                    "creator_id": creator,
                    "sessions": views,
                    "views": views,
                    "self_views": 0,
                    "repeat_views": 0,
                    "watched_seconds": 0,
                    "ad_views": 0,
                }
            ],
        )

    def ad_stats(self, day: date, video: int, ad: int, ad_views: int) -> None:
        self._insert(
            DailyVideoAdStats,
            [{"business_date": day, "video_id": video, "ad_id": ad, "ad_views": ad_views}],
        )

    def mark_settled(self, day: date, done: datetime = datetime(2020, 1, 1, tzinfo=UTC)) -> None:
        """A completed run for ``day`` that ended at ``done`` (for days whose statistics a
        test writes by hand, or days without watch logs)."""
        with self.runtime.db.session() as session:
            session.add(
                BatchRun(
                    business_date=day,
                    status="completed",
                    worker="test",
                    started_at=done,
                    heartbeat_at=done,
                    finished_at=done,
                )
            )

    def kinds(self, day: date) -> dict[uuid.UUID, str]:
        with self.runtime.db.session() as session:
            rows = session.execute(
                sa.select(ViewClassification.session_id, ViewClassification.kind).where(
                    ViewClassification.business_date == day
                )
            ).all()
        return {sid: kind for sid, kind in rows}

    def one(self, model: Any, **keys: Any) -> Any:
        with self.runtime.db.session() as session:
            row = session.get(model, keys)
            assert row is not None, f"no {model.__tablename__} row {keys}"
            return row

    def snapshot(self, day: date) -> dict[str, list[tuple[Any, ...]]]:
        """Every derived row of ``day``, sorted: equal snapshots mean identical results."""
        result: dict[str, list[tuple[Any, ...]]] = {}
        with self.runtime.db.engine.connect() as conn:
            for model in DERIVED:
                table = model.__table__
                rows = conn.execute(sa.select(table).where(table.c.business_date == day)).all()
                result[model.__tablename__] = sorted(tuple(str(v) for v in row) for row in rows)
        return result
