"""Statement arithmetic: months, the payout threshold and carried balances."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamsettle.domain.statements import (
    adjustment_amount,
    carry_forward,
    month_end,
    next_month,
    parse_month,
    settle_balance,
    threshold_progress,
)


def test_months() -> None:
    assert parse_month("2026-02") == date(2026, 2, 1)
    assert month_end(date(2028, 2, 1)) == date(2028, 2, 29)
    assert month_end(date(9999, 12, 1)) == date(9999, 12, 31)
    assert next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert next_month(date(9999, 12, 1)) is None
    for bad in ("2026-13", "0000-01", "2026-1", "2026-01-01", " 2026-01"):
        with pytest.raises(ValueError):
            parse_month(bad)


def test_the_threshold_pays_everything_or_carries_everything() -> None:
    paid = settle_balance(4_000, 5_500, 500, 10_000)
    assert (paid.payable_amount, paid.paid_out, paid.carried_out) == (10_000, 10_000, 0)
    short = settle_balance(4_000, 5_500, 499, 10_000)
    assert (short.payable_amount, short.paid_out, short.carried_out) == (9_999, 0, 9_999)
    negative = settle_balance(300, 0, -1_000, 10_000)
    assert (negative.payable_amount, negative.paid_out, negative.carried_out) == (-700, 0, -700)
    assert settle_balance(0, 0, 0, 0).paid_out == 0
    with pytest.raises(ValueError):
        settle_balance(0, 0, 0, -1)


def test_a_correction_of_a_correction_is_only_the_new_difference() -> None:
    assert adjustment_amount(15, 13, []) == 2
    assert adjustment_amount(16, 13, [2]) == 1
    assert adjustment_amount(16, 13, [2, 1]) == 0
    assert adjustment_amount(0, 13, [2, 1]) == -16


def test_progress() -> None:
    assert [threshold_progress(p, 10_000) for p in (-5, 0, 2_500, 10_000, 50_000)] == [
        0, 0, 25, 100, 100,
    ]  # fmt: skip


months = st.lists(st.tuples(st.integers(0, 50_000), st.integers(-20_000, 20_000)), max_size=24)


@given(st.integers(-10_000, 9_999), months, st.integers(0, 30_000))
def test_carried_balances_conserve_money(
    carried: int, amounts: list[tuple[int, int]], t: int
) -> None:
    """Everything earned is either paid out or still carried: nothing lost or doubled."""
    payouts = carry_forward(carried, amounts, t)
    earned = carried + sum(total + adj for total, adj in amounts)
    final = payouts[-1].carried_out if payouts else carried
    assert sum(p.paid_out for p in payouts) + final == earned
    for before, after in pairwise(payouts):
        assert after.carried_in == before.carried_out
    for p in payouts:
        assert p.paid_out == 0 or (p.paid_out == p.payable_amount >= t and p.carried_out == 0)
        assert p.paid_out > 0 or p.carried_out == p.payable_amount
