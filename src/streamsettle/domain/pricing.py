"""Rate cards and graduated tiers (rule 3.5): the exact price of a run of views."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from itertools import pairwise

from streamsettle.domain.money import EXACT, to_decimal


class InvalidRateCard(ValueError):
    """A rate card breaks the rules: tiers start at 0, strictly increase, prices >= 0."""


@dataclass(frozen=True)
class Tier:
    """Prices every view numbered ``from_views`` up to the next tier's ``from_views`` - 1."""

    from_views: int
    unit_price: Decimal


@dataclass(frozen=True)
class TierSchedule:
    """Contiguous tiers; validated on construction so a bad schedule can never price."""

    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        tiers = tuple(self.tiers)
        object.__setattr__(self, "tiers", tiers)
        if not tiers:
            raise InvalidRateCard("a tier schedule needs at least one tier")
        for i, tier in enumerate(tiers):
            if not isinstance(tier, Tier):
                raise InvalidRateCard(f"tier {i} is not a Tier: {tier!r}")
            if isinstance(tier.from_views, bool) or not isinstance(tier.from_views, int):
                raise InvalidRateCard(f"tier {i}: from_views must be an integer")
            price = tier.unit_price
            if not isinstance(price, Decimal) or not price.is_finite():
                raise InvalidRateCard(f"tier {i}: unit_price must be a finite Decimal")
            if price < 0:
                raise InvalidRateCard(f"tier {i}: unit_price must not be negative, got {price}")
        if tiers[0].from_views != 0:
            raise InvalidRateCard(
                f"the first tier must start at from_views 0, got {tiers[0].from_views}"
            )
        for prev, tier in pairwise(tiers):
            if tier.from_views <= prev.from_views:
                raise InvalidRateCard(
                    "from_views must strictly increase, "
                    f"got {tier.from_views} after {prev.from_views}"
                )

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[int, str | int | Decimal]]) -> TierSchedule:
        """Build from ``(from_views, unit_price)`` data, e.g. a stored rate card version."""
        tiers = []
        for i, (from_views, price) in enumerate(pairs):
            try:
                tiers.append(Tier(from_views, to_decimal(price)))
            except (TypeError, ValueError) as exc:
                raise InvalidRateCard(f"tier {i}: bad unit_price {price!r}: {exc}") from exc
        return cls(tuple(tiers))

    def tier_of(self, n: int) -> Tier:
        """The tier that prices the view numbered ``n`` (1-based)."""
        if n < 1:
            raise ValueError(f"views are numbered from 1, got {n}")
        found = self.tiers[0]
        for tier in self.tiers:
            if tier.from_views > n:
                break
            found = tier
        return found

    def unit_price_of(self, n: int) -> Decimal:
        """The price of the view numbered ``n`` (1-based)."""
        return self.tier_of(n).unit_price


def tier_runs(
    schedule: TierSchedule, counted_before: int, new_views: int
) -> Iterator[tuple[Tier, int]]:
    """Each tier holding some of views ``counted_before+1 .. counted_before+new_views``, in
    order, with how many of them it holds; O(tiers)."""
    if counted_before < 0 or new_views < 0:
        raise ValueError(
            f"view counts must not be negative: counted_before={counted_before}, "
            f"new_views={new_views}"
        )
    first, last = counted_before + 1, counted_before + new_views
    tiers = schedule.tiers
    for i, tier in enumerate(tiers):
        lo = max(first, tier.from_views)
        hi = last if i + 1 == len(tiers) else min(last, tiers[i + 1].from_views - 1)
        if hi >= lo:
            yield tier, hi - lo + 1


def price_views(schedule: TierSchedule, counted_before: int, new_views: int) -> Decimal:
    """Exact price of views ``counted_before+1 .. counted_before+new_views``; O(tiers)."""
    with localcontext(EXACT):
        total = Decimal(0)
        for tier, views in tier_runs(schedule, counted_before, new_views):
            total += views * tier.unit_price
        return total


@dataclass(frozen=True)
class RateCard:
    """One version of the prices; the batch for day D uses the version in force on D."""

    effective_from: date
    video_tiers: TierSchedule
    ad_tiers: TierSchedule


DEFAULT_RATE_CARD = RateCard(
    effective_from=date(2000, 1, 1),
    video_tiers=TierSchedule.from_pairs(
        [(0, "1.0"), (100_000, "1.1"), (500_000, "1.3"), (1_000_000, "1.5")]
    ),
    ad_tiers=TierSchedule.from_pairs([(0, 10), (100_000, 12), (500_000, 15), (1_000_000, 20)]),
)


def rate_card_in_force(cards: Sequence[RateCard], day: date) -> RateCard:
    """The card with the latest ``effective_from <= day``; on a tie the later in ``cards``."""
    best: RateCard | None = None
    for card in cards:
        if card.effective_from <= day and (
            best is None or card.effective_from >= best.effective_from
        ):
            best = card
    if best is None:
        raise LookupError(f"no rate card in force on {day.isoformat()}")
    return best
