import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamsettle.domain.views import LogKey, ViewKind, classify_views

T = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
CREATOR = 1


def log(
    sid: str,
    seconds: float = 0,
    *,
    viewer: int | None = 10,
    ip: str = "10.0.0.1",
    video: int = 100,
    creator: int = CREATOR,
) -> LogKey:
    return LogKey(sid, video, viewer, ip, T + timedelta(seconds=seconds), creator)


C, S, R = ViewKind.COUNTED, ViewKind.SELF, ViewKind.REPEAT


def test_a_lone_session_counts() -> None:
    assert classify_views([log("a")]) == {"a": C}
    assert classify_views([]) == {}


def test_self_view() -> None:
    assert classify_views([log("a", viewer=CREATOR)]) == {"a": S}


def test_anonymous_viewer_is_never_self() -> None:
    assert classify_views([log("a", viewer=None)]) == {"a": C}


def test_same_user_different_ips() -> None:
    logs = [log("a", 0, ip="1.1.1.1"), log("b", 10, ip="2.2.2.2")]
    assert classify_views(logs) == {"a": C, "b": R}


def test_same_ip_different_users() -> None:
    logs = [log("a", 0, viewer=10), log("b", 10, viewer=11), log("c", 20, viewer=None)]
    assert classify_views(logs) == {"a": C, "b": R, "c": R}


def test_different_user_and_ip_do_not_interact() -> None:
    logs = [log("a", 0, viewer=10, ip="1.1.1.1"), log("b", 1, viewer=11, ip="2.2.2.2")]
    assert classify_views(logs) == {"a": C, "b": C}


def test_two_anonymous_viewers_on_different_ips() -> None:
    logs = [log("a", 0, viewer=None, ip="1.1.1.1"), log("b", 1, viewer=None, ip="2.2.2.2")]
    assert classify_views(logs) == {"a": C, "b": C}


def test_exactly_thirty_seconds_is_a_repeat() -> None:
    assert classify_views([log("a", 0), log("b", 30)]) == {"a": C, "b": R}


def test_just_over_thirty_seconds_counts() -> None:
    assert classify_views([log("a", 0), log("b", 30.001)]) == {"a": C, "b": C}


def test_window_is_a_setting() -> None:
    logs = [log("a", 0), log("b", 45)]
    assert classify_views(logs, window_seconds=60) == {"a": C, "b": R}
    assert classify_views(logs, window_seconds=0) == {"a": C, "b": C}
    with pytest.raises(ValueError):
        classify_views(logs, window_seconds=-1)


def test_same_instant_tie_broken_by_session_id() -> None:
    logs = [log("b", 0), log("a", 0)]
    assert classify_views(logs) == {"a": C, "b": R}


def test_chain_of_repeats_keeps_extending() -> None:
    logs = [log("a", 0), log("b", 25), log("c", 50), log("d", 75), log("e", 106)]
    assert classify_views(logs) == {"a": C, "b": R, "c": R, "d": R, "e": C}


def test_an_earlier_self_view_makes_a_repeat_by_ip() -> None:
    logs = [log("a", 0, viewer=CREATOR, ip="9.9.9.9"), log("b", 5, viewer=None, ip="9.9.9.9")]
    assert classify_views(logs) == {"a": S, "b": R}


def test_self_takes_precedence_over_repeat() -> None:
    logs = [log("a", 0, viewer=None), log("b", 5, viewer=CREATOR)]
    assert classify_views(logs) == {"a": C, "b": S}


def test_different_videos_do_not_interact() -> None:
    logs = [log("a", 0, video=100), log("b", 1, video=200), log("c", 2, video=100)]
    assert classify_views(logs) == {"a": C, "b": C, "c": R}


def test_later_session_is_not_before() -> None:
    # A session cannot be made a repeat by one that started after it.
    logs = [log("late", 10), log("early", 0)]
    assert classify_views(logs) == {"early": C, "late": R}


def test_duplicate_session_ids_are_refused() -> None:
    with pytest.raises(ValueError):
        classify_views([log("a", 0), log("a", 5)])


def test_view_kind_contributions() -> None:
    assert (C.counts_view, C.counts_watch_time) == (True, True)
    assert (R.counts_view, R.counts_watch_time) == (False, True)
    assert (S.counts_view, S.counts_watch_time) == (False, False)
    assert ViewKind("repeat") is R


# ---- cross-check against the rule read literally (quadratic) ------------------------------


def brute_force(logs: list[LogKey], window: int) -> dict[str, ViewKind]:
    out: dict[str, ViewKind] = {}
    for x in logs:
        if x.viewer_id is not None and x.viewer_id == x.creator_id:
            out[x.session_id] = S
            continue
        repeat = any(
            y.video_id == x.video_id
            and (y.started_at, y.session_id) < (x.started_at, x.session_id)
            and x.started_at - y.started_at <= timedelta(seconds=window)
            and (y.ip == x.ip or (y.viewer_id is not None and y.viewer_id == x.viewer_id))
            for y in logs
        )
        out[x.session_id] = R if repeat else C
    return out


log_strategy = st.builds(
    lambda video, viewer, ip, ms: (video, viewer, ip, ms),
    st.integers(1, 2),
    st.one_of(st.none(), st.integers(1, 4)),
    st.sampled_from(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
    st.integers(0, 120_000),
)


@settings(max_examples=200)
@given(st.lists(log_strategy, max_size=25), st.integers(0, 60), st.randoms(use_true_random=False))
def test_matches_the_literal_rule_in_any_order(
    raw: list[tuple[int, int | None, str, int]], window: int, rnd: random.Random
) -> None:
    logs = [
        LogKey(f"s{i:02d}", video, viewer, ip, T + timedelta(milliseconds=ms), creator_id=video)
        for i, (video, viewer, ip, ms) in enumerate(raw)
    ]
    expected = brute_force(logs, window)
    rnd.shuffle(logs)
    assert classify_views(logs, window_seconds=window) == expected
