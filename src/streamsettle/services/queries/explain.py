"""Explanations of a daily settlement (product.md 3.8): its per-tier breakdown, and its
lineage, the watch logs behind it with the kind each was given.

Both are recomputed from what the batch stored for the day (the settlement's counts
before the day, its rate card, the day's classifications), with the same pricing
functions as the reference, so they agree with the settled amounts to the won. The batch
writes down only the logs that do not count (self, repeat): a log of the day without a
classification was counted. (A log stored after the day's run shows as counted until the
re-run its arrival marked.)
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, func, or_, outerjoin, select
from sqlalchemy.orm import Session

from streamsettle.db.models import (
    DailyAdSettlement,
    DailySettlement,
    RateCard,
    User,
    Video,
    ViewClassification,
    WatchLog,
)
from streamsettle.domain.breakdown import Breakdown, break_down, tier_of
from streamsettle.domain.lineage import repeat_of
from streamsettle.domain.pricing import RateCard as PricingCard
from streamsettle.domain.views import LogKey
from streamsettle.errors import InvalidInput, NotFound
from streamsettle.services import rate_cards
from streamsettle.services.lookup import found
from streamsettle.services.queries.access import require_owner_or_admin


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, serialize_by_alias=True, validate_by_name=True)


class TierLine(_Model):
    from_views: int
    unit_price: str = Field(description="exact decimal")
    views: int
    exact_amount: str = Field(description="exact decimal, before truncation")


class PricedViews(_Model):
    """Views numbered ``views_before + 1 ..`` priced tier by tier, truncated once."""

    views_before: int
    views: int
    tiers: list[TierLine]
    exact_amount: str = Field(description="exact decimal, before truncation")
    amount: int = Field(description="the exact amount truncated to whole KRW")


class AdPricedViews(PricedViews):
    ad_id: int


class DailyBreakdown(_Model):
    video_id: int
    date: date
    rate_card_id: int
    video: PricedViews
    ads: list[AdPricedViews]
    total_amount: int


class LogClass(StrEnum):
    VIEW = "view"
    REPEAT = "repeat"
    SELF = "self"


_CLASS = {"counted": LogClass.VIEW, "repeat": LogClass.REPEAT, "self": LogClass.SELF}


class LineageItem(_Model):
    session_id: uuid.UUID
    started_at: datetime
    viewer_id: int | None
    ip: str
    watched_seconds: int
    class_: LogClass = Field(alias="class")
    repeat_of: uuid.UUID | None = Field(description="the earlier session a repeat repeats")
    view_number: int | None = Field(description="a counted view's cumulative number")
    tier_from_views: int | None = Field(description="from_views of the tier pricing it")


class LineagePage(_Model):
    items: list[LineageItem]
    next_cursor: str | None


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _priced(part: Breakdown) -> dict[str, object]:
    return {
        "views_before": part.counted_before,
        "views": part.views,
        "tiers": [
            TierLine(
                from_views=t.from_views,
                unit_price=_decimal_text(t.unit_price),
                views=t.views,
                exact_amount=_decimal_text(t.exact_amount),
            )
            for t in part.tiers
        ],
        "exact_amount": _decimal_text(part.exact_amount),
        "amount": part.amount,
    }


def _settled(session: Session, user: User, video_id: int, day: date) -> DailySettlement:
    """The day's settlement of a video the caller may see; 404 when unknown or unsettled."""
    video = found(session, Video, video_id, "video")
    require_owner_or_admin(user, video.creator_id, "video")
    settled = session.get(DailySettlement, {"business_date": day, "video_id": video_id})
    if settled is None:
        raise NotFound(
            f"video {video_id} has no settlement on {day.isoformat()}",
            {"video_id": video_id, "date": day.isoformat()},
        )
    return settled


def _card(session: Session, card_id: int) -> PricingCard:
    card = found(session, RateCard, card_id, "rate card")  # a foreign key: it exists
    return rate_cards.to_domain(card)


def daily_breakdown(session: Session, user: User, video_id: int, day: date) -> DailyBreakdown:
    """How a video's daily settlement was priced: per tier, for the video and each ad."""
    settled = _settled(session, user, video_id, day)
    card = _card(session, settled.rate_card_id)
    video = break_down(card.video_tiers, settled.views_before, settled.views)
    pairs = session.scalars(
        select(DailyAdSettlement)
        .where(DailyAdSettlement.business_date == day, DailyAdSettlement.video_id == video_id)
        .order_by(DailyAdSettlement.ad_id)
    )
    ads = []
    for pair in pairs:
        pair_card = (
            card if pair.rate_card_id == settled.rate_card_id else _card(session, pair.rate_card_id)
        )
        part = break_down(pair_card.ad_tiers, pair.ad_views_before, pair.ad_views)
        ads.append(AdPricedViews(ad_id=pair.ad_id, **_priced(part)))
    return DailyBreakdown(
        video_id=video_id,
        date=day,
        rate_card_id=settled.rate_card_id,
        video=PricedViews(**_priced(video)),
        ads=ads,
        total_amount=video.amount + sum(a.amount for a in ads),
    )


def encode_cursor(started_at: datetime, session_id: uuid.UUID) -> str:
    raw = f"{started_at.astimezone(UTC).isoformat()}|{session_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (started_at, session id) a page ends on; ``InvalidInput`` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, sid = raw.split("|")
        started_at = datetime.fromisoformat(when)
        session_id = uuid.UUID(hex=sid)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("not a cursor this API gave out", {"cursor": cursor}) from exc
    if started_at.tzinfo is None or started_at.utcoffset() is None:
        raise InvalidInput("not a cursor this API gave out", {"cursor": cursor})
    try:
        return started_at.astimezone(UTC), session_id
    except OverflowError as exc:  # e.g. 0001-01-01 at +14:00 is before the year 1 in UTC
        raise InvalidInput("not a cursor this API gave out", {"cursor": cursor}) from exc


def _after(cursor: tuple[datetime, uuid.UUID]) -> ColumnElement[bool]:
    started_at, session_id = cursor
    return or_(
        WatchLog.started_at > started_at,
        and_(WatchLog.started_at == started_at, WatchLog.session_id > session_id),
    )


def daily_lineage(
    session: Session,
    user: User,
    video_id: int,
    day: date,
    *,
    cursor: str | None,
    limit: int,
    window_seconds: int,
) -> LineagePage:
    """A page of the watch logs behind a video's daily settlement, in the order views are
    numbered (``started_at``, then session id), each with its kind, the session a repeat
    repeats, and for a counted view its cumulative number and tier."""
    settled = _settled(session, user, video_id, day)
    schedule = _card(session, settled.rate_card_id).video_tiers
    position = decode_cursor(cursor) if cursor else None
    c, w = ViewClassification, WatchLog
    logs = outerjoin(
        w,
        c,
        and_(
            c.business_date == w.business_date,
            c.video_id == w.video_id,
            c.session_id == w.session_id,
        ),
    )
    of_day = (w.business_date == day, w.video_id == video_id)
    query = (
        select(func.coalesce(c.kind, "counted"), w)
        .select_from(logs)
        .where(*of_day)
        .order_by(w.started_at, w.session_id)
        .limit(limit + 1)
    )
    counted_before = settled.views_before
    if position is not None:
        query = query.where(_after(position))
        counted_before += (
            session.scalar(
                select(func.count(w.session_id))
                .select_from(logs)
                .where(*of_day, c.session_id.is_(None), ~_after(position))
            )
            or 0
        )
    rows = session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    sources = _repeat_sources(
        session, day, [log for kind, log in rows if kind == "repeat"], window_seconds
    )
    items = []
    for kind, log in rows:
        number = None
        if kind == "counted":
            counted_before += 1
            number = counted_before
        items.append(
            LineageItem(
                session_id=log.session_id,
                started_at=log.started_at,
                viewer_id=log.viewer_id,
                ip=log.ip,
                watched_seconds=log.watched_seconds,
                class_=_CLASS[kind],
                repeat_of=sources.get(log.session_id),
                view_number=number,
                tier_from_views=None if number is None else tier_of(schedule, number),
            )
        )
    last = rows[-1][1] if more and rows else None
    return LineagePage(
        items=items,
        next_cursor=encode_cursor(last.started_at, last.session_id) if last else None,
    )


def _key(log: WatchLog) -> LogKey:
    return LogKey(str(log.session_id), log.video_id, log.viewer_id, log.ip, log.started_at, 0)


def _repeat_sources(
    session: Session, day: date, repeats: list[WatchLog], window_seconds: int
) -> dict[uuid.UUID, uuid.UUID]:
    """The session each repeat repeats (``day``'s logs), read with one query over the
    page's time span and the day partitions it may fall in."""
    if not repeats:
        return {}
    window = timedelta(seconds=window_seconds)
    first = min(log.started_at for log in repeats)
    last = max(log.started_at for log in repeats)
    viewers = {log.viewer_id for log in repeats if log.viewer_id is not None}
    same_viewer = [WatchLog.ip.in_({log.ip for log in repeats})]
    if viewers:
        same_viewer.append(WatchLog.viewer_id.in_(viewers))
    try:
        since = first - window
        # A business day is at most a day off the UTC date, whatever the time zone.
        first_day = since.astimezone(UTC).date() - timedelta(days=1)
    except OverflowError:
        since = datetime.min.replace(tzinfo=UTC)
        first_day = date.min
    candidates = [
        _key(log)
        for log in session.scalars(
            select(WatchLog).where(
                WatchLog.business_date.between(first_day, day),
                WatchLog.video_id == repeats[0].video_id,
                WatchLog.started_at.between(since, last),
                or_(*same_viewer),
            )
        )
    ]
    found = {}
    for log in repeats:
        source = repeat_of(_key(log), candidates, window_seconds)
        if source is not None:
            found[log.session_id] = uuid.UUID(source)
    return found
