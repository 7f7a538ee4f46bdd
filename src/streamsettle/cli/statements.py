"""`streamsettle statements …`: close a month, show a creator's statement, list a month."""

from __future__ import annotations

from datetime import date

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from streamsettle.cli.common import console, fail, runtime
from streamsettle.domain.statements import month_text, parse_month
from streamsettle.services import statements
from streamsettle.services.statements.export import BALANCE_ROWS
from streamsettle.services.statements.results import CreatorStatement

app = typer.Typer(help="monthly statements: close months, show statements", no_args_is_help=True)

MONTH_HELP = "the calendar month, YYYY-MM"


def _month(value: str) -> date:
    try:
        return parse_month(value)
    except ValueError as exc:
        fail(f"--month: {exc}")


@app.command("close")
def close(month: str = typer.Option(..., "--month", help=MONTH_HELP)) -> None:
    """Close a month: one frozen statement per creator. Closing it again changes nothing."""
    first = _month(month)
    with (
        runtime() as rt,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress,
    ):
        progress.add_task(f"closing {month_text(first)}", total=None)
        result = statements.close_month(rt, first)
    if result.closed_now:
        console.print(f"[green]{month_text(first)} closed[/green]: {result.statements} statements")
    else:
        console.print(f"{month_text(first)} was already closed: {result.statements} statements")


def _print(statement: CreatorStatement) -> None:
    table = Table(title=f"creator {statement.creator_id}, {statement.month} ({statement.status})")
    for name in ("video", "title", "views", "ad views", "video ₩", "ad ₩", "total ₩"):
        table.add_column(name, justify="left" if name == "title" else "right")
    for line in statement.lines:
        table.add_row(
            str(line.video_id),
            line.title,
            f"{line.views:,}",
            f"{line.ad_views:,}",
            f"{line.video_amount:,}",
            f"{line.ad_amount:,}",
            f"{line.total_amount:,}",
        )
    console.print(table)
    for adj in statement.adjustments:
        console.print(
            f"adjustment: video {adj.video_id} on {adj.date.isoformat()} "
            f"({adj.previous_amount:,} → {adj.new_amount:,}): {adj.amount:+,}"
        )
    for name in BALANCE_ROWS:
        console.print(f"{name.replace('_', ' '):>20}: ₩{getattr(statement, name):,}")


@app.command("show")
def show(
    creator: int = typer.Option(..., "--creator", min=1, help="the creator's user id"),
    month: str = typer.Option(..., "--month", help=MONTH_HELP),
) -> None:
    """A creator's statement for a month: frozen once closed, provisional while open."""
    first = _month(month)
    with runtime() as rt, rt.db.read_session() as session:
        statement = statements.creator_statement(
            session, creator, first, rt.settings.payout_threshold_krw
        )
    _print(statement)


@app.command("list")
def list_month(month: str = typer.Option(..., "--month", help=MONTH_HELP)) -> None:
    """Every creator's balance for a month, one row each."""
    first = _month(month)
    with runtime() as rt, rt.db.read_session() as session:
        listed = statements.list_statements(session, first, rt.settings.payout_threshold_krw)
    table = Table(title=f"{listed.month} ({listed.status}): {len(listed.items)} statements")
    for name in ("creator", "carried in", "total", "adjustments", "payable", "paid out", "carried"):
        table.add_column(name, justify="right")
    for s in listed.items:
        table.add_row(
            str(s.creator_id),
            *(
                f"{v:,}"
                for v in (
                    s.carried_in,
                    s.total_amount,
                    s.adjustments_amount,
                    s.payable_amount,
                    s.paid_out,
                    s.carried_out,
                )
            ),
        )
    console.print(table)
