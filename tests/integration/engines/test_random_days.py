"""Hypothesis: on random small days (ties, window edges, midnight, self views, empty slots,
tiers crossed, random prices), every columnar engine gives the domain rules' rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamsettle.domain.pricing import RateCard, TierSchedule
from streamsettle.services.batch.engines import day
from streamsettle.services.batch.engines.duckdb_engine import DuckDBEngine
from tests.integration.engines.conftest import Engine, assert_engines_agree

DAY = date(2024, 9, 2)
MIDNIGHT = datetime(2024, 9, 1, 15, 0)  # 2024-09-02 00:00 in Seoul, as naive UTC
WINDOW = 30
VIDEOS = {1: 100, 2: 101}
ADS = {1: 200, 2: 201}

log_rows = st.fixed_dictionaries(
    {
        "video_id": st.sampled_from(sorted(VIDEOS)),
        "viewer_id": st.sampled_from([None, 1, 2, 100, 101]),
        "ip": st.sampled_from([b"\x01", b"\x02", b"\x03"]),
        "started_at": st.integers(-WINDOW * 10**6, 3 * WINDOW * 10**6).map(
            lambda us: MIDNIGHT + timedelta(microseconds=us)
        ),
        "watched_seconds": st.integers(0, 900),
        "ad_ids": st.none() | st.lists(st.sampled_from([None, 1, 2]), min_size=1, max_size=3),
    }
)
# A follower is another session of an earlier one's video a little later (0 s, 1 µs, the
# window's edges), by the same viewer from another address, from the same address as
# another viewer (or nobody), or the same viewer from the same address.
followers = st.tuples(
    st.integers(0, 10**6),
    st.sampled_from([0, 1, 10**6, (WINDOW - 1) * 10**6, WINDOW * 10**6, WINDOW * 10**6 + 1]),
    st.sampled_from(["other ip", "other viewer", "same"]),
    st.sampled_from([None, 1, 2, 100, 101]),
    st.sampled_from([b"\x01", b"\x02", b"\x03", b"\x04"]),
)
prices = st.decimals(min_value=0, max_value=50, places=6, allow_nan=False, allow_infinity=False)


@st.composite
def schedules(draw: st.DrawFn) -> TierSchedule:
    starts = draw(st.lists(st.integers(1, 120), max_size=3, unique=True))
    pairs: list[tuple[int, str | int | Decimal]] = [(f, draw(prices)) for f in [0, *sorted(starts)]]
    return TierSchedule.from_pairs(pairs)


@st.composite
def days(draw: st.DrawFn) -> day.DayInputs:
    rows: list[dict[str, Any]] = draw(st.lists(log_rows, min_size=1, max_size=12))
    for index, delta_us, change, viewer, ip in draw(st.lists(followers, max_size=15)):
        row = dict(rows[index % len(rows)])
        row["started_at"] += timedelta(microseconds=delta_us)
        if change == "other ip":
            row["ip"] = ip
        elif change == "other viewer":
            row["viewer_id"] = viewer
        rows.append(row)
    session_ids = draw(
        st.lists(st.binary(min_size=16, max_size=16), min_size=len(rows),
                 max_size=len(rows), unique=True)
    )  # fmt: skip
    logs = [
        {**row, "session_id": session_id,
         "business_date": DAY if row["started_at"] >= MIDNIGHT else DAY - timedelta(days=1)}
        for row, session_id in zip(rows, session_ids, strict=True)
        if row["started_at"] >= MIDNIGHT - timedelta(seconds=WINDOW)  # the extracted tail
    ]  # fmt: skip
    before = st.sampled_from([0, 1, 2, 3, 99, 100, 119])
    card = RateCard(DAY, draw(schedules()), draw(schedules()))
    return day.DayInputs(
        params=day.DayParams(DAY, timedelta(seconds=WINDOW), 7),
        logs=pa.Table.from_pylist(logs, schema=day.LOGS_SCHEMA),
        videos=pa.Table.from_pylist(
            [{"video_id": v, "creator_id": c} for v, c in VIDEOS.items()], schema=day.VIDEOS_SCHEMA
        ),
        ads=pa.Table.from_pylist(
            [{"ad_id": a, "owner_id": o} for a, o in ADS.items()], schema=day.ADS_SCHEMA
        ),
        video_before=pa.Table.from_pylist(
            [{"video_id": v, "views_before": draw(before)} for v in VIDEOS],
            schema=day.VIDEO_BEFORE_SCHEMA,
        ),
        pair_before=pa.Table.from_pylist(
            [
                {"video_id": v, "ad_id": a, "ad_views_before": draw(before)}
                for v in VIDEOS
                for a in ADS
                if draw(st.booleans())
            ],
            schema=day.PAIR_BEFORE_SCHEMA,
        ),
        tiers=day.tiers_table(card),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs=days())
def test_random_days_match_the_domain_rules(inputs: day.DayInputs) -> None:
    assert_engines_agree(inputs, [DuckDBEngine(threads=2)])


def test_random_days_on_spark(spark_engine: Engine | None) -> None:
    """Fewer days for Spark: each costs a few Spark jobs (about a second), not milliseconds."""
    if spark_engine is None:
        pytest.skip("PySpark is not installed")
    engine = spark_engine

    @settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(inputs=days())
    def check(inputs: day.DayInputs) -> None:
        assert_engines_agree(inputs, [engine])

    check()
