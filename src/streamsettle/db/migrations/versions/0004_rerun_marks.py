"""Re-run marks: watch logs stored for a date the batch has already run mark that date.

The marking is done by a trigger on ``watch_logs`` inserts, in the inserting transaction,
so every writer (import, flusher, batch flush, any other) is covered without knowing about
it. PostgreSQL: one statement-level ``AFTER INSERT`` trigger with a transition table (it
also fires for ``COPY``), a single upsert per statement. SQLite: a row trigger.

A date is marked when it is on or before the latest date that has a batch run (so also a
day before the first settled one, which settles to nothing until logs arrive for it).

Revision ID: 0004, revises 0003
"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0004", "0003"

_PG_FUNCTION = """
CREATE FUNCTION mark_rerun_dates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rerun_marks (business_date, version, marked_at)
    SELECT d.business_date, 1, now()
    FROM (SELECT DISTINCT business_date FROM new_watch_logs) d
    WHERE d.business_date <= (SELECT max(business_date) FROM batch_runs)
    ORDER BY d.business_date
    ON CONFLICT (business_date) DO UPDATE SET version = rerun_marks.version + 1;
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER watch_logs_mark_rerun AFTER INSERT ON watch_logs
REFERENCING NEW TABLE AS new_watch_logs
FOR EACH STATEMENT EXECUTE FUNCTION mark_rerun_dates()
"""
# SQLAlchemy stores SQLite timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC here).
_SQLITE_TRIGGER = """
CREATE TRIGGER watch_logs_mark_rerun AFTER INSERT ON watch_logs
FOR EACH ROW WHEN NEW.business_date <= (SELECT max(business_date) FROM batch_runs)
BEGIN
    INSERT INTO rerun_marks (business_date, version, marked_at)
    VALUES (NEW.business_date, 1, strftime('%Y-%m-%d %H:%M:%f', 'now') || '000')
    ON CONFLICT (business_date) DO UPDATE SET version = version + 1;
END
"""


def upgrade() -> None:
    op.create_table(
        "rerun_marks",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("business_date", name=op.f("pk_rerun_marks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER watch_logs_mark_rerun ON watch_logs")
        op.execute("DROP FUNCTION mark_rerun_dates()")
    else:
        op.execute("DROP TRIGGER watch_logs_mark_rerun")
    op.drop_table("rerun_marks")
