from decimal import Decimal

import pytest

from streamsettle.domain.money import to_decimal, truncate_krw


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.1", Decimal("1.1")),
        (" 12 ", Decimal(12)),
        (7, Decimal(7)),
        (Decimal("0.3"), Decimal("0.3")),
    ],
)
def test_to_decimal_accepts_exact_inputs(value: str | int | Decimal, expected: Decimal) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value", [1.1, 0.0, True])
def test_to_decimal_refuses_floats_and_bools(value: object) -> None:
    with pytest.raises(TypeError):
        to_decimal(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", ["NaN", "inf", "-Infinity", "sNaN", "", "1,5", "abc", Decimal("NaN")]
)
def test_to_decimal_refuses_non_finite_and_malformed(value: str | Decimal) -> None:
    with pytest.raises(ValueError):
        to_decimal(value)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("605000.3", 605000), ("810000.2", 810000), ("112", 112), ("0.999", 0), ("99.9999999", 99)],
)
def test_truncate_krw_rounds_down(amount: str, expected: int) -> None:
    assert truncate_krw(Decimal(amount)) == expected


def test_truncate_krw_is_toward_zero_and_strict() -> None:
    assert truncate_krw(Decimal("-1.5")) == -1
    with pytest.raises(TypeError):
        truncate_krw(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        truncate_krw(Decimal("Infinity"))
