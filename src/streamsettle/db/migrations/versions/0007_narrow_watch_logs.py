"""Narrow, day-partitioned watch logs; the reached ad slots move onto the log row.

``watch_logs`` gets integer keys, the address as ``inet`` (PostgreSQL), a user-agent id
into the new ``user_agents`` dictionary, positions in integer milliseconds, and two arrays
(``ad_positions``, ``ad_ids``; JSON text on SQLite) instead of the ``watch_log_ad_slots``
table. On PostgreSQL it is partitioned by business day, one partition per day present.
``watch_log_archives`` records the days archived to Parquet files.
Existing rows are converted in place; the rerun-marking trigger is re-created on the new
table after the copy, so the conversion marks nothing for a re-run.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IntArray = sa.JSON().with_variant(sa.ARRAY(sa.Integer()), "postgresql")


def _trigger_definition(postgresql: bool) -> str:
    """The rerun-marking trigger of ``watch_logs`` as created by 0004, read back from the
    catalog so that it is re-created unchanged on the new table."""
    query = (
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'watch_logs_mark_rerun'"
        if postgresql
        else "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
        "AND name = 'watch_logs_mark_rerun'"
    )
    return str(op.get_bind().execute(sa.text(query)).scalar_one())


_PG_COPY_UP = """
INSERT INTO watch_logs (started_at, ended_at, session_id, business_date, video_id, viewer_id,
                        user_agent_id, start_position_ms, end_position_ms, watched_seconds,
                        ip, ad_positions, ad_ids)
SELECT w.started_at, w.ended_at, w.session_id, w.business_date, w.video_id, w.viewer_id, u.id,
       round(w.start_position_seconds * 1000)::integer,
       round(w.end_position_seconds * 1000)::integer, w.watched_seconds, w.ip::inet,
       s.positions, s.ads
FROM watch_logs_v6 AS w
JOIN user_agents AS u ON u.user_agent = w.user_agent
LEFT JOIN (
    SELECT session_id, array_agg(position_seconds ORDER BY position_seconds) AS positions,
           array_agg(ad_id ORDER BY position_seconds) AS ads
    FROM watch_log_ad_slots GROUP BY session_id
) AS s USING (session_id)
"""
_SQLITE_COPY_UP = """
INSERT INTO watch_logs (started_at, ended_at, session_id, business_date, video_id, viewer_id,
                        user_agent_id, start_position_ms, end_position_ms, watched_seconds,
                        ip, ad_positions, ad_ids)
SELECT w.started_at, w.ended_at, w.session_id, w.business_date, w.video_id, w.viewer_id, u.id,
       CAST(round(w.start_position_seconds * 1000) AS INTEGER),
       CAST(round(w.end_position_seconds * 1000) AS INTEGER), w.watched_seconds, w.ip,
       s.positions, s.ads
FROM watch_logs_v6 AS w
JOIN user_agents AS u ON u.user_agent = w.user_agent
LEFT JOIN (
    SELECT session_id, json_group_array(position_seconds) AS positions,
           json_group_array(ad_id) AS ads
    FROM (SELECT * FROM watch_log_ad_slots ORDER BY session_id, position_seconds)
    GROUP BY session_id
) AS s USING (session_id)
"""
_COPY_DOWN = {
    "postgresql": """
INSERT INTO watch_logs (session_id, business_date, video_id, viewer_id, ip, user_agent,
                        started_at, ended_at, start_position_seconds, end_position_seconds,
                        watched_seconds)
SELECT w.session_id, w.business_date, w.video_id, w.viewer_id, host(w.ip), u.user_agent,
       w.started_at, w.ended_at, w.start_position_ms / 1000.0, w.end_position_ms / 1000.0,
       w.watched_seconds
FROM watch_logs_v7 AS w JOIN user_agents AS u ON u.id = w.user_agent_id;
INSERT INTO watch_log_ad_slots (session_id, position_seconds, ad_id)
SELECT w.session_id, s.position, s.ad
FROM watch_logs_v7 AS w, unnest(w.ad_positions, w.ad_ids) AS s(position, ad)
""",
    "sqlite": """
INSERT INTO watch_logs (session_id, business_date, video_id, viewer_id, ip, user_agent,
                        started_at, ended_at, start_position_seconds, end_position_seconds,
                        watched_seconds)
SELECT w.session_id, w.business_date, w.video_id, w.viewer_id, w.ip, u.user_agent,
       w.started_at, w.ended_at, w.start_position_ms / 1000.0, w.end_position_ms / 1000.0,
       w.watched_seconds
FROM watch_logs_v7 AS w JOIN user_agents AS u ON u.id = w.user_agent_id;
INSERT INTO watch_log_ad_slots (session_id, position_seconds, ad_id)
SELECT w.session_id, p.value, a.value
FROM watch_logs_v7 AS w, json_each(w.ad_positions) AS p
JOIN json_each(w.ad_ids) AS a ON a.key = p.key
""",
}


def _checks_and_keys(start: str, end: str) -> list[sa.Constraint]:
    """The checks and foreign keys both shapes of ``watch_logs`` have, by their positions'
    column names."""
    return [
        sa.CheckConstraint("watched_seconds >= 0", name=op.f("ck_watch_logs_watched_non_negative")),
        sa.CheckConstraint(f"{start} >= 0", name=op.f("ck_watch_logs_start_non_negative")),
        sa.CheckConstraint(f"{end} >= 0", name=op.f("ck_watch_logs_end_non_negative")),
        sa.CheckConstraint("ended_at >= started_at", name=op.f("ck_watch_logs_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["video_id"], ["videos.id"], name=op.f("fk_watch_logs_video_id_videos")
        ),
        sa.ForeignKeyConstraint(
            ["viewer_id"], ["users.id"], name=op.f("fk_watch_logs_viewer_id_users")
        ),
    ]


def _new_watch_logs(postgresql: bool) -> None:
    ip = sa.dialects.postgresql.INET() if postgresql else sa.String(length=45)
    op.create_table(
        "watch_logs",
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("viewer_id", sa.Integer(), nullable=True),
        sa.Column("user_agent_id", sa.Integer(), nullable=False),
        sa.Column("start_position_ms", sa.Integer(), nullable=False),
        sa.Column("end_position_ms", sa.Integer(), nullable=False),
        sa.Column("watched_seconds", sa.Integer(), nullable=False),
        sa.Column("ip", ip, nullable=False),
        sa.Column("ad_positions", IntArray, nullable=True),
        sa.Column("ad_ids", IntArray, nullable=True),
        *_checks_and_keys("start_position_ms", "end_position_ms"),
        sa.ForeignKeyConstraint(
            ["user_agent_id"],
            ["user_agents.id"],
            name=op.f("fk_watch_logs_user_agent_id_user_agents"),
        ),
        sa.PrimaryKeyConstraint("session_id", "business_date", name=op.f("pk_watch_logs")),
        postgresql_partition_by="RANGE (business_date)",
    )


def _old_watch_logs() -> None:
    op.create_table(
        "watch_logs",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("video_id", BigId, nullable=False),
        sa.Column("viewer_id", BigId, nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_position_seconds", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("end_position_seconds", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("watched_seconds", sa.BigInteger(), nullable=False),
        *_checks_and_keys("start_position_seconds", "end_position_seconds"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_watch_logs")),
    )
    op.create_index(
        "ix_watch_logs_business_date_video_id", "watch_logs", ["business_date", "video_id"]
    )
    op.create_table(
        "watch_log_ad_slots",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("position_seconds", sa.Integer(), nullable=False),
        sa.Column("ad_id", BigId, nullable=True),
        sa.CheckConstraint(
            "position_seconds > 0", name=op.f("ck_watch_log_ad_slots_positive_position")
        ),
        sa.ForeignKeyConstraint(
            ["ad_id"], ["ads.id"], name=op.f("fk_watch_log_ad_slots_ad_id_ads")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["watch_logs.session_id"],
            name=op.f("fk_watch_log_ad_slots_session_id_watch_logs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "position_seconds", name=op.f("pk_watch_log_ad_slots")
        ),
    )


def _drop_trigger(postgresql: bool) -> None:
    op.execute("DROP TRIGGER watch_logs_mark_rerun" + (" ON watch_logs" if postgresql else ""))


def _set_aside(postgresql: bool, name: str) -> str:
    """Rename ``watch_logs`` to ``name`` and free the schema-wide names it holds; the
    definition of its trigger, dropped."""
    trigger = _trigger_definition(postgresql)
    _drop_trigger(postgresql)
    op.rename_table("watch_logs", name)
    if postgresql:
        op.execute(f"ALTER TABLE {name} RENAME CONSTRAINT pk_watch_logs TO pk_{name}")
    return trigger


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "user_agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_agents")),
        sa.UniqueConstraint("user_agent", name=op.f("uq_user_agents_user_agent")),
    )
    op.create_table(
        "watch_log_archives",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("business_date", name=op.f("pk_watch_log_archives")),
    )
    op.drop_index("ix_watch_logs_business_date_video_id", table_name="watch_logs")
    trigger = _set_aside(postgresql, "watch_logs_v6")
    op.execute(
        "INSERT INTO user_agents (user_agent) "
        "SELECT DISTINCT user_agent FROM watch_logs_v6 ORDER BY user_agent"
    )
    _new_watch_logs(postgresql)
    if postgresql:
        op.execute(
            """
            DO $$
            DECLARE d date;
            BEGIN
                FOR d IN SELECT DISTINCT business_date FROM watch_logs_v6 LOOP
                    EXECUTE format(
                        'CREATE TABLE %I PARTITION OF watch_logs FOR VALUES FROM (%L) TO (%L)',
                        'watch_logs_d' || to_char(d, 'YYYYMMDD'), d, d + 1);
                END LOOP;
            END
            $$
            """
        )
    op.execute(_PG_COPY_UP if postgresql else _SQLITE_COPY_UP)
    op.drop_table("watch_log_ad_slots")
    op.drop_table("watch_logs_v6")
    op.execute(trigger)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    postgresql = dialect == "postgresql"
    trigger = _set_aside(postgresql, "watch_logs_v7")
    _old_watch_logs()
    for statement in _COPY_DOWN[dialect].split(";"):
        op.execute(statement)
    op.drop_table("watch_logs_v7")
    op.drop_table("user_agents")
    op.drop_table("watch_log_archives")
    op.execute(trigger)
