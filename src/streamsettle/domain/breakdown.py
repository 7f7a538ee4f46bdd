"""Explanations of a daily amount (product.md 3.8): views per tier, unit price and the
exact amount before the one truncation (3.6). The same arithmetic as ``price_views``,
kept apart per tier, so the sum of the parts is the settled amount to the won."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from streamsettle.domain.money import EXACT, truncate_krw
from streamsettle.domain.pricing import TierSchedule, tier_runs


@dataclass(frozen=True)
class TierPart:
    """The views of one day numbered inside one tier, and their exact price."""

    from_views: int
    unit_price: Decimal
    views: int
    exact_amount: Decimal


@dataclass(frozen=True)
class Breakdown:
    """A run of views ``counted_before + 1 .. counted_before + views`` priced tier by tier."""

    counted_before: int
    views: int
    tiers: tuple[TierPart, ...]
    exact_amount: Decimal

    @property
    def amount(self) -> int:
        """The whole KRW the settlement holds: the exact amount truncated once."""
        return truncate_krw(self.exact_amount)


def break_down(schedule: TierSchedule, counted_before: int, views: int) -> Breakdown:
    """The tiers that price views ``counted_before + 1 .. counted_before + views``; only
    tiers with at least one of those views are listed, in order."""
    parts: list[TierPart] = []
    with localcontext(EXACT):
        total = Decimal(0)
        for tier, count in tier_runs(schedule, counted_before, views):
            amount = count * tier.unit_price
            parts.append(TierPart(tier.from_views, tier.unit_price, count, amount))
            total += amount
    return Breakdown(counted_before, views, tuple(parts), total)


def tier_of(schedule: TierSchedule, n: int) -> int:
    """``from_views`` of the tier that prices the view numbered ``n`` (1-based)."""
    return schedule.tier_of(n).from_views
