"""Migrations go up and down on PostgreSQL and SQLite and match the models exactly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from streamsettle.db.base import Base
from streamsettle.db.migrate import downgrade, upgrade


@contextmanager
def _connection(url: str) -> Iterator[sa.Connection]:
    """A connection of its own engine, disposed after: the scratch database can be dropped."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with _connection(url) as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def _table_names(url: str) -> set[str]:
    with _connection(url) as connection:
        return set(sa.inspect(connection).get_table_names())


def _schema_drift(url: str) -> list[object]:
    with _connection(url) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))


def _default_rate_card_prices(url: str) -> list[tuple[str, int, str]]:
    rows = _rows(
        url,
        "SELECT kind, from_views, unit_price FROM rate_card_tiers "
        "WHERE rate_card_id = 1 ORDER BY kind, from_views",
    )
    # SQLite keeps NUMERIC as REAL; str() of the stored value is still the exact price.
    return [(kind, int(f), f"{Decimal(str(p)).normalize():f}") for kind, f, p in rows]


def test_migrations_up_down_up(scratch_url: str) -> None:
    url = scratch_url
    upgrade(url)
    expected = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    assert _table_names(url) == expected
    assert _schema_drift(url) == []
    assert _default_rate_card_prices(url) == [
        ("ad", 0, "10"),
        ("ad", 100000, "12"),
        ("ad", 500000, "15"),
        ("ad", 1000000, "20"),
        ("video", 0, "1"),
        ("video", 100000, "1.1"),
        ("video", 500000, "1.3"),
        ("video", 1000000, "1.5"),
    ]
    downgrade(url)
    assert _table_names(url) <= {"alembic_version"}
    upgrade(url)
    assert _schema_drift(url) == []


def test_0003_rolls_up_days_settled_before_it(scratch_url: str) -> None:
    """Weeks are ISO weeks (Monday first) and months calendar months, on both databases."""
    url = scratch_url
    upgrade(url, "0002")
    days = [  # 2024-04-28 is a Sunday; the week of Monday 04-29 ends on Sunday 05-05
        ("2024-04-28", 1, 5),
        ("2024-04-29", 1, 2),
        ("2024-04-30", 1, 3),
        ("2024-05-01", 1, 4),
        ("2024-05-05", 2, 7),
        ("2024-05-06", 2, 1),
    ]
    with _connection(url) as connection, connection.begin():
        connection.execute(
            sa.text(
                "INSERT INTO users (id, email, display_name, created_at) "
                "VALUES (1, 'c@example.com', 'c', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO videos (id, creator_id, title, duration_seconds, created_at) "
                "VALUES (1, 1, 'v1', 600, CURRENT_TIMESTAMP), (2, 1, 'v2', 600, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO daily_video_stats (business_date, video_id, creator_id, sessions, "
                "views, self_views, repeat_views, watched_seconds, ad_views) "
                "VALUES (:day, :video, 1, :views, :views, 0, 0, :views * 10, 0)"
            ),
            [{"day": d, "video": v, "views": n} for d, v, n in days],
        )
        connection.execute(
            sa.text(
                "INSERT INTO daily_settlements (business_date, video_id, creator_id, "
                "rate_card_id, views, views_before, ad_views, video_amount, ad_amount, "
                "total_amount) VALUES ('2024-04-30', :video, 1, 1, :views, 0, 2, :views, 20, "
                ":views + 20)"
            ),
            [{"video": 1, "views": 3}, {"video": 2, "views": 4}],
        )
    upgrade(url)
    rows = _rows(
        url,
        "SELECT period, period_start, video_id, views, watched_seconds "
        "FROM period_video_stats ORDER BY period, period_start, video_id",
    )
    creators = _rows(
        url,
        "SELECT business_date, creator_id, views, ad_views, video_amount, ad_amount, "
        "total_amount FROM daily_creator_settlements",
    )
    assert [(str(d), *rest) for d, *rest in creators] == [("2024-04-30", 1, 7, 4, 7, 40, 47)]
    assert [(p, str(start), v, n, w) for p, start, v, n, w in rows] == [
        ("month", "2024-04-01", 1, 10, 100),
        ("month", "2024-05-01", 1, 4, 40),
        ("month", "2024-05-01", 2, 8, 80),
        ("week", "2024-04-22", 1, 5, 50),
        ("week", "2024-04-29", 1, 9, 90),
        ("week", "2024-04-29", 2, 7, 70),
        ("week", "2024-05-06", 2, 1, 10),
    ]


def test_0011_keeps_one_row_per_pair_and_gives_the_statistics_back(scratch_url: str) -> None:
    url = scratch_url
    upgrade(url, "0010")
    with _connection(url) as connection, connection.begin():
        connection.execute(
            sa.text(
                "INSERT INTO daily_ad_settlements (business_date, video_id, ad_id, rate_card_id,"
                " ad_views, ad_views_before, amount) VALUES ('2024-05-01', 7, 3, 1, 5, 99995, 52)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO daily_video_ad_stats (business_date, video_id, ad_id, ad_views)"
                " VALUES ('2024-05-01', 7, 3, 5)"
            )
        )
    upgrade(url, "0011")
    assert "daily_video_ad_stats" not in _table_names(url)
    pairs = "SELECT video_id, ad_id, ad_views, ad_views_before, amount FROM daily_ad_settlements"
    assert _rows(url, pairs) == [(7, 3, 5, 99995, 52)]
    downgrade(url, "0010")
    assert _rows(url, "SELECT video_id, ad_id, ad_views FROM daily_video_ad_stats") == [(7, 3, 5)]
    assert _rows(url, pairs) == [(7, 3, 5, 99995, 52)]
