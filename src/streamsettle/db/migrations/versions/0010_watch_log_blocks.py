"""The columnar copy of the watch logs: ``watch_log_blocks`` (``db/log_blocks.py``).

Blocks hold copies of a day's logs for the batch's columnar engines. They stay exact
because logs are only inserted: on PostgreSQL, any ``DELETE`` or ``UPDATE`` of watch logs
removes the blocks of the days it touched (statement-level triggers with transition
tables: one statement per statement, nothing on the insert path), a ``TRUNCATE`` all
blocks, and the batch reads a day's blocks only when their rows add up to the day's logs.
The blocks are stored out of line and uncompressed (they are Arrow buffers: compressing
costs more than it saves). The partial index's literal is frozen here, as migrations are.

Revision ID: 0010, revises 0009
"""

import sqlalchemy as sa
from alembic import op

from streamsettle.db.ddl import create_table

revision, down_revision = "0010", "0009"

_PG_FUNCTION = """
CREATE FUNCTION drop_watch_log_blocks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM watch_log_blocks
    WHERE business_date IN (SELECT DISTINCT business_date FROM changed_watch_logs);
    RETURN NULL;
END
$$
"""
_PG_TRUNCATE_FUNCTION = """
CREATE FUNCTION drop_all_watch_log_blocks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM watch_log_blocks;
    RETURN NULL;
END
$$
"""
_PG_TRIGGERS = (
    "CREATE TRIGGER watch_logs_drop_blocks_on_delete AFTER DELETE ON watch_logs"
    " REFERENCING OLD TABLE AS changed_watch_logs"
    " FOR EACH STATEMENT EXECUTE FUNCTION drop_watch_log_blocks()",
    # The old rows' days. A row moved to another day adds to that day's count and not to
    # its blocks: the reader then reads that day from the table.
    "CREATE TRIGGER watch_logs_drop_blocks_on_update AFTER UPDATE ON watch_logs"
    " REFERENCING OLD TABLE AS changed_watch_logs"
    " FOR EACH STATEMENT EXECUTE FUNCTION drop_watch_log_blocks()",
    "CREATE TRIGGER watch_logs_drop_blocks_on_truncate AFTER TRUNCATE ON watch_logs"
    " FOR EACH STATEMENT EXECUTE FUNCTION drop_all_watch_log_blocks()",
)


def upgrade() -> None:
    create_table("watch_log_blocks", "business_date:date* block_id:uuid* rows:int data:bytes")
    # The small blocks waiting to be merged: the flusher looks for them on every pass.
    op.create_index(
        "ix_watch_log_blocks_small",
        "watch_log_blocks",
        ["business_date"],
        postgresql_where=sa.text("rows < 10000"),
        sqlite_where=sa.text("rows < 10000"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE watch_log_blocks ALTER COLUMN data SET STORAGE EXTERNAL")
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRUNCATE_FUNCTION)
        for trigger in _PG_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER watch_logs_drop_blocks_on_truncate ON watch_logs")
        op.execute("DROP TRIGGER watch_logs_drop_blocks_on_update ON watch_logs")
        op.execute("DROP TRIGGER watch_logs_drop_blocks_on_delete ON watch_logs")
        op.execute("DROP FUNCTION drop_all_watch_log_blocks()")
        op.execute("DROP FUNCTION drop_watch_log_blocks()")
    op.drop_index("ix_watch_log_blocks_small", "watch_log_blocks")
    op.drop_table("watch_log_blocks")
