"""Monthly statements (product.md 3.8): closing months, adjustments, payouts, reading them."""

from streamsettle.services.statements.adjustments import record_adjustments
from streamsettle.services.statements.close import CloseResult, MonthNotClosable, close_month
from streamsettle.services.statements.export import statement_filename, write_statement_csv
from streamsettle.services.statements.reads import (
    creator_statement,
    latest_closed,
    list_statements,
    statement_days,
)

__all__ = [
    "CloseResult",
    "MonthNotClosable",
    "close_month",
    "creator_statement",
    "latest_closed",
    "list_statements",
    "record_adjustments",
    "statement_days",
    "statement_filename",
    "write_statement_csv",
]
