"""Rate card versions (rule 3.5): add one, list them, find the one in force on a day.

Unit prices arrive as decimal strings and are checked twice: by the syntax here (plain
decimal notation, at most 6 decimal places so NUMERIC(18,6) stores them exactly, below
10^9 KRW so the embedded SQLite's integer micro-KRW arithmetic stays exact) and by
``domain.pricing.TierSchedule`` (tiers start at 0, strictly increase, prices >= 0).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from streamsettle.db.models import RateCard, RateCardTier
from streamsettle.domain import pricing
from streamsettle.errors import Conflict, InvalidInput

MAX_DECIMALS = 6
MAX_UNIT_PRICE = Decimal(10) ** 9
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")

TierInput = tuple[int, str | Decimal]


def parse_unit_price(value: str | Decimal, *, where: str = "unit_price") -> Decimal:
    """A unit price from its decimal string; floats, exponents, NaN and junk are refused."""
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise InvalidInput(f'{where}: must be a decimal string such as "1.1"')
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise InvalidInput(f'{where}: {value!r} is not a plain decimal number such as "1.1"')
    price = Decimal(text)
    if price < 0:
        raise InvalidInput(f"{where}: must not be negative, got {text}")
    exponent = price.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMALS:
        raise InvalidInput(f"{where}: at most {MAX_DECIMALS} decimal places, got {text}")
    if price >= MAX_UNIT_PRICE:
        raise InvalidInput(f"{where}: must be below {MAX_UNIT_PRICE:,} KRW, got {text}")
    return price


def build_schedule(kind: str, tiers: Sequence[TierInput]) -> pricing.TierSchedule:
    """Validate one tier list into a ``TierSchedule``; every problem becomes ``InvalidInput``."""
    pairs: list[tuple[int, Decimal]] = []
    for i, (from_views, price) in enumerate(tiers):
        where = f"{kind}_tiers[{i}]"
        if isinstance(from_views, bool) or not isinstance(from_views, int) or from_views < 0:
            raise InvalidInput(f"{where}.from_views: must be a non-negative integer")
        pairs.append((from_views, parse_unit_price(price, where=f"{where}.unit_price")))
    try:
        return pricing.TierSchedule.from_pairs(pairs)
    except pricing.InvalidRateCard as exc:
        raise InvalidInput(f"{kind}_tiers: {exc}") from exc


def create_rate_card(
    session: Session,
    *,
    effective_from: date,
    video_tiers: Sequence[TierInput],
    ad_tiers: Sequence[TierInput],
    created_by: int | None = None,
) -> RateCard:
    """Add a version; ``Conflict`` if one already starts on ``effective_from``.

    Dates already settled on or after ``effective_from`` are not re-priced by this: they
    show as needing a re-run in ``streamsettle batch status`` (see docs/batch.md).
    """
    schedules = {
        "video": build_schedule("video", video_tiers),
        "ad": build_schedule("ad", ad_tiers),
    }
    taken = f"a rate card effective from {effective_from.isoformat()} already exists"
    if session.scalar(select(RateCard.id).where(RateCard.effective_from == effective_from)):
        raise Conflict(taken)
    card = RateCard(effective_from=effective_from, created_by=created_by)
    card.tiers = [
        RateCardTier(kind=kind, from_views=tier.from_views, unit_price=tier.unit_price)
        for kind, schedule in schedules.items()
        for tier in schedule.tiers
    ]
    try:
        with session.begin_nested():
            session.add(card)
            session.flush()
    except IntegrityError as exc:  # a concurrent creation of the same date
        raise Conflict(taken) from exc
    return card


def list_rate_cards(session: Session) -> list[RateCard]:
    """Every version, oldest first."""
    return list(session.scalars(select(RateCard).order_by(RateCard.effective_from)))


def card_in_force(session: Session, day: date) -> RateCard | None:
    """The stored version with the latest ``effective_from <= day`` (None if there is none)."""
    return session.scalars(
        select(RateCard)
        .where(RateCard.effective_from <= day)
        .order_by(RateCard.effective_from.desc())
        .limit(1)
    ).first()


def to_domain(card: RateCard) -> pricing.RateCard:
    """The stored version as the pure ``RateCard``; a broken stored card raises InvalidInput."""

    def schedule(kind: str) -> pricing.TierSchedule:
        rows = sorted((t for t in card.tiers if t.kind == kind), key=lambda t: t.from_views)
        # SQLite hands NUMERIC back through a float; scale 6 makes the Decimal exact again.
        return build_schedule(kind, [(t.from_views, _exact(t.unit_price)) for t in rows])

    return pricing.RateCard(card.effective_from, schedule("video"), schedule("ad"))


def _exact(price: Decimal) -> Decimal:
    return Decimal(price).quantize(Decimal(1).scaleb(-MAX_DECIMALS))


def price_text(price: Decimal) -> str:
    """A unit price as the API shows it: plain notation, no trailing zeros ("1.1", "10")."""
    return format(_exact(price).normalize(), "f")
