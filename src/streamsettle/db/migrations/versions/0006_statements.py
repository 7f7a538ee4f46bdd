"""Monthly statements: closed months, their statements, lines and days, and adjustments.

Closed statements never change, and the database says so: triggers refuse every UPDATE
and DELETE of ``statement_months``, ``statements``, ``statement_lines``,
``statement_days`` and ``statement_adjustments`` (an append-only ledger), and refuse
inserting rows into a month already closed (an adjustment must land on an open month).
The close inserts the month's ``statement_months`` row last, in the same transaction.
PostgreSQL: row triggers for UPDATE/DELETE, statement triggers with transition tables for
the inserts (one check per statement, not per row). SQLite: row triggers.

Revision ID: 0006, revises 0005
"""

from alembic import op

from streamsettle.db.ddl import AMOUNTS, Fk, create_table

revision, down_revision = "0006", "0005"

FROZEN = ("statement_months", "statements", "statement_lines", "statement_days")
LEDGER = "statement_adjustments"
# The column naming the month a table's rows belong to, checked on insert.
INSERT_MONTH = {
    "statements": "month",
    "statement_lines": "month",
    "statement_days": "month",
    LEDGER: "statement_month",
}

_PG_REFUSE = """
CREATE FUNCTION refuse_statement_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'closed statements never change: % of % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""
_PG_INSERT_CHECK = """
CREATE FUNCTION refuse_insert_into_closed_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows AS n JOIN statement_months AS m ON m.month = n.{column})
    THEN
        RAISE EXCEPTION 'closed statements never change: insert into a closed month of {table}'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END
$$
"""


def _pg_triggers() -> None:
    op.execute(_PG_REFUSE)
    for table in (*FROZEN, LEDGER):
        op.execute(
            f"CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_statement_change()"
        )
    for table, column in INSERT_MONTH.items():
        op.execute(_PG_INSERT_CHECK.format(table=table, column=column))
        op.execute(
            f"CREATE TRIGGER {table}_refuse_closed_insert AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION refuse_insert_into_closed_{table}()"
        )


def _sqlite_triggers() -> None:
    for table in (*FROZEN, LEDGER):
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_refuse_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'closed statements never change: {action} of "
                f"{table} refused'); END"
            )
    for table, column in INSERT_MONTH.items():
        op.execute(
            f"CREATE TRIGGER {table}_refuse_closed_insert BEFORE INSERT ON {table} "  # noqa: S608
            f"WHEN EXISTS (SELECT 1 FROM statement_months WHERE month = NEW.{column}) "
            f"BEGIN SELECT RAISE(ABORT, 'closed statements never change: insert into a "
            f"closed month of {table}'); END"
        )


def upgrade() -> None:
    create_table("statement_months", "month:date* closed_at:ts payout_threshold:big statements:big")
    create_table(
        "statements",
        f"month:date* creator_id:id* {AMOUNTS} carried_in:big adjustments_amount:big"
        " payable_amount:big paid_out:big carried_out:big",
        checks={
            "payout_adds_up": "paid_out + carried_out = payable_amount",
            "payout_non_negative": "paid_out >= 0",
            "payable_adds_up": "payable_amount = carried_in + total_amount + adjustments_amount",
            "total_adds_up": "total_amount = video_amount + ad_amount",
        },
        fks=[Fk("creator_id", "users.id")],
        indexes={"ix_statements_creator_month": ["creator_id", "month"]},
    )
    create_table(
        "statement_lines",
        f"month:date* creator_id:id* video_id:id* title:str(300) {AMOUNTS}",
        fks=[Fk(["month", "creator_id"], ["statements.month", "statements.creator_id"])],
    )
    create_table(
        "statement_days",
        f"business_date:date* video_id:id* month:date creator_id:id {AMOUNTS}",
        indexes={"ix_statement_days_month_creator": ["month", "creator_id"]},
    )
    create_table(
        LEDGER,
        "id:id* statement_month:date creator_id:id video_id:id business_date:date"
        " previous_amount:big new_amount:big amount:big created_at:ts",
        checks={
            "non_zero": "amount <> 0",
            "amount_adds_up": "amount = new_amount - previous_amount",
        },
        indexes={
            "ix_statement_adjustments_date_video": ["business_date", "video_id"],
            "ix_statement_adjustments_month_creator": ["statement_month", "creator_id"],
        },
    )
    if op.get_bind().dialect.name == "postgresql":
        _pg_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    # Dropping a table drops its indexes and triggers; PostgreSQL's functions go after them.
    for table in reversed((*FROZEN, LEDGER)):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for table in INSERT_MONTH:
            op.execute(f"DROP FUNCTION refuse_insert_into_closed_{table}()")
        op.execute("DROP FUNCTION refuse_statement_change()")
