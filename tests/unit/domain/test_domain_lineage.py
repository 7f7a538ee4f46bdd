"""Which earlier session a repeat view repeats agrees with the classification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from streamsettle.domain.lineage import repeat_of
from streamsettle.domain.views import LogKey, ViewKind, classify_views

T0 = datetime(2026, 10, 2, tzinfo=UTC)


def _log(sid: str, seconds: int, ip: str, viewer: int | None = None) -> LogKey:
    return LogKey(sid, 1, viewer, ip, T0 + timedelta(seconds=seconds), creator_id=99)


def test_the_nearest_earlier_session_by_ip_or_user() -> None:
    a, b = _log("a", 0, "1.1.1.1"), _log("b", 10, "2.2.2.2", viewer=7)
    c = _log("c", 20, "1.1.1.1", viewer=7)
    assert repeat_of(c, [a, b, c], 30) == "b"  # the nearest of the two that match
    assert repeat_of(a, [a, b, c], 30) is None
    assert repeat_of(_log("d", 45, "1.1.1.1"), [a, b, c], 30) == "c"
    assert repeat_of(_log("e", 51, "1.1.1.1"), [a], 30) is None  # outside the window


logs = st.lists(
    st.tuples(
        st.integers(0, 120),
        st.sampled_from(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
        st.sampled_from([None, 1, 2]),
    ),
    max_size=12,
)


@given(logs)
def test_a_log_repeats_a_session_exactly_when_it_is_a_repeat(
    rows: list[tuple[int, str, int | None]],
) -> None:
    keys = [_log(f"s{i:02d}", s, ip, viewer) for i, (s, ip, viewer) in enumerate(rows)]
    kinds = classify_views(keys, 30)
    for key in keys:
        assert (repeat_of(key, keys, 30) is not None) == (kinds[key.session_id] is ViewKind.REPEAT)
