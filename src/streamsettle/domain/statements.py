"""Statement arithmetic (product.md 3.8): months, payable balance, payout and carry-over.

Amounts are whole KRW (``int``): statements add settled daily amounts, which are already
truncated, so nothing here rounds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_PAYOUT_THRESHOLD_KRW = 10_000
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the month's first day; ``ValueError`` for anything else."""
    match = _MONTH.fullmatch(text)
    if match is None:
        raise ValueError(f"a month is written YYYY-MM, got {text!r}")
    year, month = int(match[1]), int(match[2])
    if year < 1 or not 1 <= month <= 12:
        raise ValueError(f"no such month: {text!r}")
    return date(year, month, 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def month_of(day: date) -> date:
    """The first day of the month that contains ``day``."""
    return day.replace(day=1)


def month_end(month: date) -> date:
    """The last day of ``month`` (9999-12 ends on 9999-12-31)."""
    if month.month == 12:
        return month.replace(day=31)
    return month.replace(month=month.month + 1) - timedelta(days=1)


def next_month(month: date) -> date | None:
    """The month after ``month``; None after 9999-12, which has no successor."""
    if month.month < 12:
        return month.replace(month=month.month + 1, day=1)
    if month.year == 9999:
        return None
    return date(month.year + 1, 1, 1)


@dataclass(frozen=True)
class Payout:
    """How a month ends for one creator: what is payable, paid out and carried over."""

    carried_in: int
    total_amount: int
    adjustments_amount: int
    payable_amount: int
    paid_out: int
    carried_out: int


def settle_balance(
    carried_in: int, total_amount: int, adjustments_amount: int, threshold: int
) -> Payout:
    """Payable = carried in + the month's total + its adjustments. Reaching ``threshold``
    pays it all out and carries 0; otherwise the whole balance, negative included, carries."""
    if threshold < 0:
        raise ValueError(f"the payout threshold must not be negative, got {threshold}")
    payable = carried_in + total_amount + adjustments_amount
    paid = payable if payable >= threshold and payable > 0 else 0
    return Payout(carried_in, total_amount, adjustments_amount, payable, paid, payable - paid)


def carry_forward(
    carried_in: int, months: Iterable[tuple[int, int]], threshold: int
) -> list[Payout]:
    """The payouts of consecutive months, each ``(total, adjustments)``, from ``carried_in``."""
    payouts: list[Payout] = []
    carried = carried_in
    for total, adjustments in months:
        payout = settle_balance(carried, total, adjustments, threshold)
        payouts.append(payout)
        carried = payout.carried_out
    return payouts


def adjustment_amount(new_amount: int, statement_amount: int, earlier: Iterable[int]) -> int:
    """What a (video, day) of a closed month still needs: its settlement now minus what the
    closed statement held and every adjustment already made to it (0: nothing to do)."""
    return new_amount - statement_amount - sum(earlier)


def threshold_progress(payable: int, threshold: int) -> int:
    """Percent of the way to the payout threshold, 0 to 100."""
    if threshold <= 0:
        return 100
    return max(0, min(100, payable * 100 // threshold))
