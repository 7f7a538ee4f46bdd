import pytest

from streamsettle.domain.slots import (
    DEFAULT_SLOT_INTERVAL_SECONDS,
    default_slot_positions,
    fill_round_robin,
)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (0, []),
        (299, []),
        (300, []),
        (301, [300]),
        (900, [300, 600]),
        (901, [300, 600, 900]),
        (3600, list(range(300, 3600, 300))),
    ],
)
def test_default_slot_positions(duration: int, expected: list[int]) -> None:
    assert default_slot_positions(duration) == expected


def test_an_hour_has_eleven_slots() -> None:
    slots = default_slot_positions(3600)
    assert len(slots) == 11 and slots[0] == 300 and slots[-1] == 3300
    assert DEFAULT_SLOT_INTERVAL_SECONDS == 300


def test_custom_interval_and_bad_input() -> None:
    assert default_slot_positions(250, every=100) == [100, 200]
    with pytest.raises(ValueError):
        default_slot_positions(900, every=0)
    with pytest.raises(ValueError):
        default_slot_positions(-1)


def test_round_robin_cycles_ads() -> None:
    assert fill_round_robin([300, 600, 900], [7, 8]) == [(300, 7), (600, 8), (900, 7)]
    assert fill_round_robin([300, 600, 900], [7, 8], offset=1) == [(300, 8), (600, 7), (900, 8)]
    assert fill_round_robin([300, 600], [7, 8, 9], offset=5) == [(300, 9), (600, 7)]


def test_round_robin_without_ads_leaves_slots_empty() -> None:
    assert fill_round_robin([300, 600], []) == [(300, None), (600, None)]
    assert fill_round_robin([], [1, 2]) == []
