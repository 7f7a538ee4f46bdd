from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamsettle.domain.playback import (
    Progress,
    apply_heartbeat,
    apply_stop,
    position_to_ms,
    watched_seconds,
)

DURATION = 900_000  # a 900 s video
SLOTS = [300, 600]
T0 = 1_700_000_000_000  # wall clock at session start, ms


def beat(
    p: Progress, seq: int, pos_s: float | int, wall_s: float | int, *, playing: bool = True
) -> tuple[Progress, bool]:
    return apply_heartbeat(
        p,
        seq=seq,
        position_ms=position_to_ms(Decimal(str(pos_s))),
        playing=playing,
        at_ms=T0 + int(wall_s * 1000),
        duration_ms=DURATION,
        slot_positions=SLOTS,
    )


def stop(p: Progress, seq: int, at_s: int) -> Progress:
    """A stop at ``at_s`` seconds of the video, ``at_s`` seconds after ``T0``."""
    return apply_stop(
        p,
        seq=seq,
        position_ms=at_s * 1000,
        at_ms=T0 + at_s * 1000,
        duration_ms=DURATION,
        slot_positions=SLOTS,
    )


def start(pos_s: int = 0) -> Progress:
    return Progress.start(pos_s * 1000, T0)


def test_start_is_empty() -> None:
    p = start()
    assert (p.position_ms, p.at_ms, p.watched_ms, p.last_seq) == (0, T0, 0, 0)
    assert p.slots_reached == frozenset()


def test_start_position_is_clamped() -> None:
    assert Progress.start(-500, T0).position_ms == 0
    assert Progress.start(1_000_000, T0, duration_ms=DURATION).position_ms == DURATION


@pytest.mark.parametrize(
    ("position", "ms"),
    [
        (10, 10_000),
        (Decimal("10.5"), 10_500),
        (Decimal("10.0009"), 10_000),
        (1.001, 1_001),
        (0.3, 300),
    ],
)
def test_position_to_ms_truncates(position: Decimal | int | float, ms: int) -> None:
    assert position_to_ms(position) == ms


def test_position_to_ms_refuses_non_numbers() -> None:
    with pytest.raises(ValueError):
        position_to_ms(Decimal("NaN"))
    with pytest.raises(ValueError):
        position_to_ms(float("inf"))
    with pytest.raises(TypeError):
        position_to_ms("10")  # type: ignore[arg-type]


def test_normal_session_of_ten_second_heartbeats() -> None:
    p = start()
    for seq in range(1, 7):
        p, accepted = beat(p, seq, 10 * seq, 10 * seq)
        assert accepted
    p = stop(p, 7, 65)
    assert p.watched_ms == 65_000
    assert watched_seconds(p) == 65
    assert p.last_seq == 7


def test_seek_ahead_gains_only_wall_clock_plus_grace() -> None:
    p, _ = beat(start(), 1, 10, 10)
    p, _ = beat(p, 2, 610, 20)
    assert p.watched_ms == 10_000 + 12_000
    assert p.slots_reached == frozenset({300, 600})


def test_client_claiming_more_than_wall_clock() -> None:
    p, _ = beat(start(), 1, 30, 10)  # claims 30 s after 10 s
    assert p.watched_ms == 12_000
    p, _ = beat(p, 2, 31, 10.5)  # 1 s more within 0.5 s: allowed by the 2 s grace
    assert p.watched_ms == 13_000


def test_paused_stretch_gains_nothing_but_moves_the_baseline() -> None:
    p, _ = beat(start(), 1, 10, 10)
    p, _ = beat(p, 2, 10, 20, playing=False)
    p, _ = beat(p, 3, 10, 120, playing=False)
    assert p.watched_ms == 10_000
    assert (p.position_ms, p.at_ms) == (10_000, T0 + 120_000)
    p, _ = beat(p, 4, 20, 130)
    assert p.watched_ms == 20_000


def test_seek_while_paused_gains_nothing_and_reaches_no_slot() -> None:
    p, _ = beat(start(), 1, 290, 290)
    p, _ = beat(p, 2, 320, 300, playing=False)
    assert p.watched_ms == 290_000
    assert p.slots_reached == frozenset()
    p, _ = beat(p, 3, 330, 310)  # slot 300 was passed while paused: not reached
    assert p.slots_reached == frozenset()
    assert p.watched_ms == 300_000


def test_backward_seek_gains_nothing() -> None:
    p, _ = beat(start(), 1, 100, 100)
    p, _ = beat(p, 2, 40, 110)
    assert p.watched_ms == 100_000
    assert p.position_ms == 40_000
    p, _ = beat(p, 3, 50, 120)
    assert p.watched_ms == 110_000


def test_duplicate_and_out_of_order_seq_are_ignored() -> None:
    p, _ = beat(start(), 1, 10, 10)
    p2, _ = beat(p, 3, 30, 30)
    same, accepted = beat(p2, 3, 40, 40)
    assert not accepted and same is p2
    older, accepted = beat(p2, 2, 20, 20)
    assert not accepted and older is p2
    zero, accepted = beat(start(), 0, 10, 10)
    assert not accepted and zero.watched_ms == 0


def test_slots_reached_by_play() -> None:
    p = start(290)
    p, _ = beat(p, 1, 299.999, 9.999)
    assert p.slots_reached == frozenset()
    p, _ = beat(p, 2, 300, 10)
    assert p.slots_reached == frozenset({300})
    p, _ = beat(p, 3, 310, 20)
    p, _ = beat(p, 4, 200, 30)  # back before the slot
    p, _ = beat(p, 5, 310, 40)  # and past it again: still once
    assert p.slots_reached == frozenset({300})


def test_resuming_on_a_slot_does_not_reach_it() -> None:
    p, _ = beat(start(300), 1, 310, 10)
    assert p.slots_reached == frozenset()


def test_slot_reached_by_the_stop() -> None:
    p, _ = beat(start(), 1, 590, 590)
    p = stop(p, 2, 601)
    assert p.slots_reached == frozenset({300, 600})
    assert p.watched_ms == 601_000


def test_stale_stop_closes_without_gain() -> None:
    p, _ = beat(start(), 2, 20, 20)
    stopped = stop(p, 2, 900)
    assert stopped == p


def test_positions_are_clamped() -> None:
    p, _ = beat(start(895), 1, 1200, 10)
    assert p.position_ms == DURATION
    assert p.watched_ms == 5_000
    p, _ = beat(p, 2, -50, 20)
    assert p.position_ms == 0
    p, _ = beat(p, 3, 5, 25)
    assert p.watched_ms == 10_000


def test_fractions_accumulate_exactly() -> None:
    p, _ = beat(start(), 1, 10.5, 10.5)
    assert p.watched_ms == 10_500
    assert watched_seconds(p) == 10
    p, _ = beat(p, 2, 21.0, 21)
    assert p.watched_ms == 21_000
    assert watched_seconds(p) == 21


def test_wall_clock_going_backwards_counts_as_zero() -> None:
    p, _ = beat(start(), 1, 10, 10)
    p, _ = beat(p, 2, 20, 5)
    assert p.watched_ms == 12_000


@settings(max_examples=150)
@given(
    st.lists(
        st.tuples(
            st.integers(-10_000, 1_000_000),  # position
            st.integers(-5_000, 60_000),  # wall step
            st.booleans(),  # playing
            st.integers(-2, 3),  # seq step
        ),
        max_size=40,
    )
)
def test_never_more_than_wall_clock_plus_grace_nor_more_than_distance(
    reports: list[tuple[int, int, bool, int]],
) -> None:
    p = Progress.start(0, T0)
    at = T0
    accepted_count = 0
    wall_budget = 0
    for position, step, playing, seq_step in reports:
        previous_at = p.at_ms
        at += step
        p2, accepted = apply_heartbeat(
            p,
            seq=p.last_seq + seq_step,
            position_ms=position,
            playing=playing,
            at_ms=at,
            duration_ms=DURATION,
            slot_positions=SLOTS,
        )
        if accepted:
            accepted_count += 1
            wall_budget += max(at - previous_at, 0) + 2000
            assert 0 <= p2.position_ms <= DURATION
            assert p2.watched_ms >= p.watched_ms
            assert p2.slots_reached >= p.slots_reached
        else:
            assert p2 is p
        p = p2
    assert p.watched_ms <= wall_budget
    assert p.slots_reached <= frozenset(SLOTS)
