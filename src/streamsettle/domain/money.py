"""Money is ``Decimal``, never float: one constructor, one truncation, one exact context."""

from __future__ import annotations

from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_DOWN,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Rounded,
)

# Exact arithmetic: with the maximal precision additions and multiplications never round,
# and trapping Inexact/Rounded makes any rounding a loud error instead of a silent one.
EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, Inexact, Rounded],
)


def to_decimal(value: str | int | Decimal) -> Decimal:
    """Turn an amount into a finite Decimal; floats are refused because they are inexact."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"money must be str, int or Decimal, not {type(value).__name__}")
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"money must be finite, got {value!r}")
    return result


def truncate_krw(amount: Decimal) -> int:
    """Drop the fraction (toward zero): settlement amounts are whole KRW, never rounded up."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"amount must be finite, got {amount!r}")
    return int(amount.to_integral_value(rounding=ROUND_DOWN))
