"""The batch tests' world: users, videos, ads and hand-made watch logs (written through the
one writer, ``services.ingest.watch_log_writer``), and a snapshot of every row the batch
derives for a day."""

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
    DailyVideoStats,
    User,
    UserRole,
    Video,
    ViewClassification,
    WatchLog,
)
from streamsettle.domain.periods import business_date
from streamsettle.runtime import Runtime
from streamsettle.services.ingest.watch_log_lines import WatchLogRow
from streamsettle.services.ingest.watch_log_writer import write_watch_logs

DERIVED = (
    ViewClassification,
    DailyVideoStats,
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
        self._pending: list[WatchLogRow] | None = None
        self._ads: dict[str, dict[int, int | None]] = {}

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Logs written inside are written together at the end (fast big days)."""
        self._pending = []
        try:
            yield
            pending = self._pending
        finally:
            self._pending = None
        self._write(pending)

    def _write(self, rows: list[WatchLogRow]) -> None:
        """Through the writer, in one transaction (one statement: one re-run mark)."""
        if not rows:
            return
        with self.runtime.db.engine.begin() as conn:
            write_watch_logs(conn, rows, lambda row, p: self._ads[row.session_id][p])

    def at(self, day: date, clock: str) -> datetime:
        """An aware instant from a local (platform time zone) date and ``HH:MM:SS[.ffffff]``."""
        return datetime.combine(day, time.fromisoformat(clock), tzinfo=self.tz)

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> None:
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
        """A pair's ad views on an earlier day written directly (to start it high in the
        tiers): its settlement row, which holds them, priced at nothing."""
        self._insert(
            DailyAdSettlement,
            [
                {
                    "business_date": day,
                    "video_id": video,
                    "ad_id": ad,
                    "rate_card_id": 1,
                    "ad_views": ad_views,
                    "ad_views_before": 0,
                    "amount": 0,
                }
            ],
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
        """The kind the batch gave each of ``day``'s logs: the batch writes down the ones
        that do not count, so a log without a classification was counted."""
        c, w = ViewClassification, WatchLog
        with self.runtime.db.session() as session:
            rows = session.execute(
                sa.select(w.session_id, sa.func.coalesce(c.kind, "counted"))
                .outerjoin(
                    c, sa.and_(c.business_date == w.business_date, c.session_id == w.session_id)
                )
                .where(w.business_date == day)
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
