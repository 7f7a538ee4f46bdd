"""Monthly statements: closed months, their statements, lines and days, and adjustments.

Closed statements never change, and the database says so: triggers refuse every UPDATE
and DELETE of ``statement_months``, ``statements``, ``statement_lines``,
``statement_days`` and ``statement_adjustments`` (an append-only ledger), and refuse
inserting rows into a month already closed (an adjustment must land on an open month).
The close inserts the month's ``statement_months`` row last, in the same transaction.
PostgreSQL: row triggers for UPDATE/DELETE, statement triggers with transition tables for
the inserts (one check per statement, not per row). SQLite: row triggers.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
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


def _amounts() -> list[sa.Column[int]]:
    return [
        sa.Column(name, sa.BigInteger(), nullable=False)
        for name in ("views", "ad_views", "video_amount", "ad_amount", "total_amount")
    ]


def upgrade() -> None:
    op.create_table(
        "statement_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payout_threshold", sa.BigInteger(), nullable=False),
        sa.Column("statements", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_statement_months")),
    )
    op.create_table(
        "statements",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("creator_id", BigId, nullable=False),
        *_amounts(),
        sa.Column("carried_in", sa.BigInteger(), nullable=False),
        sa.Column("adjustments_amount", sa.BigInteger(), nullable=False),
        sa.Column("payable_amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_out", sa.BigInteger(), nullable=False),
        sa.Column("carried_out", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "paid_out + carried_out = payable_amount", name=op.f("ck_statements_payout_adds_up")
        ),
        sa.CheckConstraint("paid_out >= 0", name=op.f("ck_statements_payout_non_negative")),
        sa.CheckConstraint(
            "payable_amount = carried_in + total_amount + adjustments_amount",
            name=op.f("ck_statements_payable_adds_up"),
        ),
        sa.CheckConstraint(
            "total_amount = video_amount + ad_amount", name=op.f("ck_statements_total_adds_up")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["users.id"], name=op.f("fk_statements_creator_id_users")
        ),
        sa.PrimaryKeyConstraint("month", "creator_id", name=op.f("pk_statements")),
    )
    op.create_index("ix_statements_creator_month", "statements", ["creator_id", "month"])
    op.create_table(
        "statement_lines",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("creator_id", BigId, nullable=False),
        sa.Column("video_id", BigId, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        *_amounts(),
        sa.ForeignKeyConstraint(
            ["month", "creator_id"],
            ["statements.month", "statements.creator_id"],
            name=op.f("fk_statement_lines_month_statements"),
        ),
        sa.PrimaryKeyConstraint("month", "creator_id", "video_id", name=op.f("pk_statement_lines")),
    )
    op.create_table(
        "statement_days",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("video_id", BigId, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("creator_id", BigId, nullable=False),
        *_amounts(),
        sa.PrimaryKeyConstraint("business_date", "video_id", name=op.f("pk_statement_days")),
    )
    op.create_index("ix_statement_days_month_creator", "statement_days", ["month", "creator_id"])
    op.create_table(
        LEDGER,
        sa.Column("id", BigId, nullable=False),
        sa.Column("statement_month", sa.Date(), nullable=False),
        sa.Column("creator_id", BigId, nullable=False),
        sa.Column("video_id", BigId, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("previous_amount", sa.BigInteger(), nullable=False),
        sa.Column("new_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_statement_adjustments_non_zero")),
        sa.CheckConstraint(
            "amount = new_amount - previous_amount",
            name=op.f("ck_statement_adjustments_amount_adds_up"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_adjustments")),
    )
    op.create_index("ix_statement_adjustments_date_video", LEDGER, ["business_date", "video_id"])
    op.create_index(
        "ix_statement_adjustments_month_creator", LEDGER, ["statement_month", "creator_id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        _pg_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    # Dropping a table drops its triggers; PostgreSQL's functions go after them.
    op.drop_index("ix_statement_adjustments_month_creator", table_name=LEDGER)
    op.drop_index("ix_statement_adjustments_date_video", table_name=LEDGER)
    op.drop_table(LEDGER)
    op.drop_index("ix_statement_days_month_creator", table_name="statement_days")
    op.drop_table("statement_days")
    op.drop_table("statement_lines")
    op.drop_index("ix_statements_creator_month", table_name="statements")
    op.drop_table("statements")
    op.drop_table("statement_months")
    if op.get_bind().dialect.name == "postgresql":
        for table in INSERT_MONTH:
            op.execute(f"DROP FUNCTION refuse_insert_into_closed_{table}()")
        op.execute("DROP FUNCTION refuse_statement_change()")
