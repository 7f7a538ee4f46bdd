"""Migration 0007 converts stored watch logs to the narrow shape exactly, and back."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from streamsettle.db.migrate import downgrade, upgrade

S1 = "00000000-0000-4000-8000-000000000001"
S2 = "00000000-0000-4000-8000-000000000002"
S3 = "00000000-0000-4000-8000-000000000003"
AGENT = 'back\\slash "quoted" 한국어'
T1, T2, T3 = "2026-10-30 01:00:00+00", "2026-10-31 14:50:00+00", "2026-10-31 02:00:00+00"
E1, E2, E3 = "2026-10-30 01:05:00+00", "2026-10-31 15:00:00+00", "2026-10-31 02:00:10+00"
OLD_LOGS = [
    # session, day, video, viewer, ip, agent, started, ended, start, end, watched
    (S1, "2026-10-30", 1, None, "100.64.0.7", "", T1, E1, "0.000", "300.000", 300),
    (S2, "2026-10-31", 1, 2, "2001:db8::1", AGENT, T2, E2, "250.500", "652.250", 400),
    (S3, "2026-10-31", 2, 2, "10.1.2.3", AGENT, T3, E3, "0.001", "9.999", 9),
]
OLD_SLOTS = [(S2, 300, 1), (S2, 600, None), (S3, 5, 2)]


def _execute(url: str, statements: list[tuple[str, Any]]) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        for statement, params in statements:
            connection.execute(sa.text(statement), params)
    engine.dispose()


def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.text(query))]
    engine.dispose()
    return rows


def _populate_0006(url: str) -> None:
    logs = [
        dict(zip(("s", "d", "v", "u", "ip", "ua", "st", "en", "sp", "ep", "w"), row, strict=True))
        for row in OLD_LOGS
    ]
    _execute(
        url,
        [
            (
                "INSERT INTO users (id, email, display_name, created_at) VALUES "
                "(1, 'c@example.com', 'c', CURRENT_TIMESTAMP), "
                "(2, 'v@example.com', 'v', CURRENT_TIMESTAMP)",
                {},
            ),
            (
                "INSERT INTO videos (id, creator_id, title, duration_seconds, created_at) VALUES "
                "(1, 1, 'v1', 900, CURRENT_TIMESTAMP), (2, 1, 'v2', 60, CURRENT_TIMESTAMP)",
                {},
            ),
            (
                "INSERT INTO ads (id, owner_id, title, duration_seconds, active, created_at) "
                "VALUES (1, 1, 'a1', 15, true, CURRENT_TIMESTAMP), "
                "(2, 1, 'a2', 15, true, CURRENT_TIMESTAMP)",
                {},
            ),
            (
                "INSERT INTO watch_logs (session_id, business_date, video_id, viewer_id, ip, "
                "user_agent, started_at, ended_at, start_position_seconds, "
                "end_position_seconds, watched_seconds) "
                "VALUES (:s, :d, :v, :u, :ip, :ua, :st, :en, :sp, :ep, :w)",
                logs,
            ),
            (
                "INSERT INTO watch_log_ad_slots (session_id, position_seconds, ad_id) "
                "VALUES (:s, :p, :a)",
                [{"s": s, "p": p, "a": a} for s, p, a in OLD_SLOTS],
            ),
        ],
    )


def _array(value: Any) -> list[int | None] | None:
    """An array column as a list on either database (SQLite keeps JSON text)."""
    found: list[int | None] | None = json.loads(value) if isinstance(value, str) else value
    return found


def test_0007_converts_every_log_and_slot_and_back(scratch_url: str) -> None:
    url = scratch_url
    backend = make_url(url).get_backend_name()
    upgrade(url, "0006")
    _populate_0006(url)
    old_query = (
        "SELECT CAST(session_id AS TEXT), business_date, video_id, viewer_id, ip, user_agent, "
        "start_position_seconds, end_position_seconds, watched_seconds "
        "FROM watch_logs ORDER BY session_id"
    )
    before = _rows(url, old_query)
    slots_before = _rows(
        url,
        "SELECT CAST(session_id AS TEXT), position_seconds, ad_id FROM watch_log_ad_slots "
        "ORDER BY session_id, position_seconds",
    )

    upgrade(url)
    ip = "host(w.ip)" if backend == "postgresql" else "w.ip"
    converted = _rows(
        url,
        "SELECT CAST(w.session_id AS TEXT), w.business_date, w.video_id, w.viewer_id, "
        f"{ip}, u.user_agent, w.start_position_ms, w.end_position_ms, w.watched_seconds, "
        "w.ad_positions, w.ad_ids "
        "FROM watch_logs AS w JOIN user_agents AS u ON u.id = w.user_agent_id "
        "ORDER BY w.session_id",
    )
    as_text = [
        (str(s).replace("-", "") if backend == "sqlite" else s, str(d), *rest)
        for s, d, *rest in converted
    ]
    key = {S1.replace("-", ""): S1, S2.replace("-", ""): S2, S3.replace("-", ""): S3}
    normalized = [(key.get(s, s), d, *rest) for s, d, *rest in as_text]
    assert [
        (s, d, v, u, ip_, ua, sp, ep, w, _array(p), _array(a))
        for s, d, v, u, ip_, ua, sp, ep, w, p, a in normalized
    ] == [
        (S1, "2026-10-30", 1, None, "100.64.0.7", "", 0, 300_000, 300, None, None),
        (
            S2,
            "2026-10-31",
            1,
            2,
            "2001:db8::1",
            AGENT,
            250_500,
            652_250,
            400,
            [300, 600],
            [1, None],
        ),
        (S3, "2026-10-31", 2, 2, "10.1.2.3", AGENT, 1, 9_999, 9, [5], [2]),
    ]
    assert _rows(url, "SELECT count(*) FROM user_agents") == [(2,)]
    if backend == "postgresql":
        assert _rows(
            url,
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'watch_logs'::regclass ORDER BY 1",
        ) == [("watch_logs_d20261030",), ("watch_logs_d20261031",)]
        # The conversion itself marks no day for a re-run.
        assert _rows(url, "SELECT count(*) FROM rerun_marks") == [(0,)]

    downgrade(url, "0006")
    assert _rows(url, old_query) == before
    assert (
        _rows(
            url,
            "SELECT CAST(session_id AS TEXT), position_seconds, ad_id FROM watch_log_ad_slots "
            "ORDER BY session_id, position_seconds",
        )
        == slots_before
    )
    assert date.fromisoformat(str(before[0][1])) == date(2026, 10, 30)
