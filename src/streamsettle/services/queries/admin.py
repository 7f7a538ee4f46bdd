"""What the admin console reads besides the shared queries: a backfill's progress, the
settled days a rate card re-prices, the top tables with their owners and amounts, and the
lists to pick a creator or a video from.

The top tables rank with ``stats.top_videos`` / ``stats.top_ads`` (five rows) and then
fetch those five rows' owners and settled amounts, so they cost what the rankings cost.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from streamsettle.db.models import (
    Ad,
    BatchRun,
    BatchStep,
    DailyAdSettlement,
    DailySettlement,
    RateCard,
    User,
    UserRole,
    Video,
)
from streamsettle.domain.periods import DateRange, Period
from streamsettle.services.batch.steps import PARTITIONED, STEP_NAMES, step_names
from streamsettle.services.queries.results import Metric
from streamsettle.services.queries.stats import top_ads, top_videos


@dataclass(frozen=True)
class BackfillDay:
    date: date
    status: str
    """waiting (no run of this backfill yet), running, completed or failed."""
    run_id: int | None
    steps_done: int
    steps_total: int
    current_step: str | None
    error: str | None


@dataclass(frozen=True)
class BackfillProgress:
    days: list[BackfillDay]
    refused: str | None

    @property
    def finished(self) -> bool:
        if self.refused or any(d.status == "failed" for d in self.days):
            return True
        return all(d.status == "completed" for d in self.days)

    @property
    def completed(self) -> int:
        return sum(d.status == "completed" for d in self.days)


def backfill_progress(
    session: Session, dates: DateRange, first_run_id: int, refused: str | None = None
) -> BackfillProgress:
    """Each date's latest run since ``first_run_id`` (the backfill's first run) with its
    steps; a date without one is still waiting."""
    runs = {
        run.business_date: run
        for run in session.scalars(
            select(BatchRun)
            .where(BatchRun.business_date.between(dates.start, dates.end))
            .where(BatchRun.id >= first_run_id)
            .order_by(BatchRun.id)
        )
    }
    steps: dict[int, list[BatchStep]] = {}
    if runs:
        for step in session.scalars(
            select(BatchStep)
            .where(BatchStep.run_id.in_([r.id for r in runs.values()]))
            .order_by(BatchStep.id)
        ):
            steps.setdefault(step.run_id, []).append(step)
    days = []
    for day in dates.days():
        run = runs.get(day)
        if run is None:
            days.append(BackfillDay(day, "waiting", None, 0, len(STEP_NAMES), None, None))
            continue
        own = steps.get(run.id, [])
        total = sum(run.partitions if name in PARTITIONED else 1 for name in step_names(run.engine))
        done = sum(s.status == "completed" for s in own)
        current = next((s.name for s in own if s.status == "running"), None)
        days.append(
            BackfillDay(day, run.status, run.id, done, max(total, done), current, run.error)
        )
    return BackfillProgress(days, refused)


def settled_dates(session: Session) -> list[date]:
    """Dates whose latest run completed, oldest first."""
    latest = (
        select(BatchRun.business_date, func.max(BatchRun.id).label("run_id"))
        .group_by(BatchRun.business_date)
        .subquery()
    )
    return list(
        session.scalars(
            select(latest.c.business_date)
            .join(BatchRun, BatchRun.id == latest.c.run_id)
            .where(BatchRun.status == "completed")
            .order_by(latest.c.business_date)
        )
    )


def days_repriced_by(session: Session, card: RateCard) -> list[date]:
    """Settled dates the card is in force on that were last settled before it was added:
    their amounts change when they are re-run."""
    following = session.scalar(
        select(func.min(RateCard.effective_from)).where(
            RateCard.effective_from > card.effective_from
        )
    )
    finished = (
        select(BatchRun.business_date, func.max(BatchRun.finished_at).label("finished_at"))
        .where(BatchRun.status == "completed", BatchRun.business_date >= card.effective_from)
        .group_by(BatchRun.business_date)
    )
    if following is not None:
        finished = finished.where(BatchRun.business_date < following)
    return [
        day
        for day, at in session.execute(finished.order_by(BatchRun.business_date)).all()
        if at is not None and at < card.created_at
    ]


@dataclass(frozen=True)
class TopVideoLine:
    rank: int
    video_id: int
    title: str
    creator_id: int
    creator: str
    views: int
    watched_seconds: int
    total_amount: int


@dataclass(frozen=True)
class TopAdLine:
    rank: int
    ad_id: int
    title: str
    advertiser: str
    ad_views: int
    amount: int


def _owners_and_sums(
    session: Session,
    items: Sequence[Any],
    dates: DateRange,
    owner: tuple[InstrumentedAttribute[int], InstrumentedAttribute[int]],
    settled: tuple[
        InstrumentedAttribute[int], InstrumentedAttribute[int], InstrumentedAttribute[date]
    ],
) -> Iterator[tuple[Any, tuple[int, str], int]]:
    """Each ranked item with its owner (id, display name) and its settled amount over
    ``dates``. ``owner``: the item's id column and the column naming its owner; ``settled``:
    the settlement's item id, amount and date columns."""
    (key, owner_id), (settled_key, amount, day) = owner, settled
    keys = [getattr(item, settled_key.key) for item in items]
    if not keys:
        return
    owners = {
        k: (user_id, name)
        for k, user_id, name in session.execute(
            select(key, owner_id, User.display_name)
            .join(User, User.id == owner_id)
            .where(key.in_(keys))
        )
    }
    sums = dict(
        session.execute(
            select(settled_key, func.sum(amount))
            .where(settled_key.in_(keys), day.between(dates.start, dates.end))
            .group_by(settled_key)
        ).all()
    )
    for item, k in zip(items, keys, strict=True):
        yield item, owners[k], int(sums.get(k) or 0)


def top_videos_with_owners(
    session: Session, admin: User, *, metric: Metric, period: Period, day: date
) -> list[TopVideoLine]:
    """The top five videos of every creator, with their creator and settled total."""
    top = top_videos(session, admin, metric=metric, period=period, day=day)
    s = DailySettlement
    settled = (s.video_id, s.total_amount, s.business_date)
    return [
        TopVideoLine(**item.model_dump(), creator_id=user_id, creator=name, total_amount=total)
        for item, (user_id, name), total in _owners_and_sums(
            session, top.items, top.range, (Video.id, Video.creator_id), settled
        )
    ]


def top_ads_with_owners(
    session: Session, admin: User, *, period: Period, day: date
) -> list[TopAdLine]:
    """The top five ads, with their advertiser and the amount they earned creators."""
    top = top_ads(session, admin, period=period, day=day)
    a = DailyAdSettlement
    owned = _owners_and_sums(
        session, top.items, top.range, (Ad.id, Ad.owner_id), (a.ad_id, a.amount, a.business_date)
    )
    return [
        TopAdLine(**item.model_dump(), advertiser=name, amount=amount)
        for item, (_, name), amount in owned
    ]


@dataclass(frozen=True)
class CreatorLine:
    user_id: int
    display_name: str
    email: str
    videos: int


def creators(session: Session, limit: int = 500) -> list[CreatorLine]:
    """Creators by name, with their number of videos."""
    counts = (
        select(Video.creator_id, func.count().label("videos")).group_by(Video.creator_id).subquery()
    )
    rows = session.execute(
        select(User.id, User.display_name, User.email, func.coalesce(counts.c.videos, 0))
        .join(UserRole, (UserRole.user_id == User.id) & (UserRole.role == "creator"))
        .outerjoin(counts, counts.c.creator_id == User.id)
        .order_by(User.display_name, User.id)
        .limit(limit)
    ).all()
    return [CreatorLine(int(i), name, email, int(n)) for i, name, email, n in rows]


@dataclass(frozen=True)
class VideoLine:
    video_id: int
    title: str
    creator: str
    duration_seconds: int
    slots: int
    created_at: datetime


def videos(session: Session, *, creator_id: int | None = None, limit: int = 200) -> list[VideoLine]:
    """The newest videos first, with their creator and number of ad slots."""
    query = (
        select(Video, User.display_name)
        .join(User, User.id == Video.creator_id)
        .order_by(Video.id.desc())
        .limit(limit)
    )
    if creator_id is not None:
        query = query.where(Video.creator_id == creator_id)
    return [
        VideoLine(
            video.id,
            video.title,
            name,
            video.duration_seconds,
            len(video.ad_slots),
            video.created_at,
        )
        for video, name in session.execute(query).all()
    ]
