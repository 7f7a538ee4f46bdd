"""`streamsettle settlements …` commands."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer

from streamsettle.cli.common import err_console, fail, runtime
from streamsettle.domain.periods import DateRange
from streamsettle.services.queries.export import write_creator_csv

app = typer.Typer(help="settlement reports", no_args_is_help=True)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@app.command("export")
def export(
    creator: int = typer.Option(..., "--creator", help="the creator's user id"),
    start: str = typer.Option(..., "--from", help="first business date, YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="last business date, YYYY-MM-DD (inclusive)"),
    out: str = typer.Option(..., "--out", help="CSV file to write, '-' for standard output"),
) -> None:
    """Export a creator's daily settlements as CSV: one row per video per settled day."""
    first, last = _date(start), _date(end)
    if first > last:
        fail(f"--from {first} is after --to {last}")
    dates = DateRange(first, last)
    with runtime() as rt, rt.db.read_session() as session:
        if out == "-":
            rows = write_creator_csv(session, creator, dates, sys.stdout)
            sys.stdout.flush()
        else:
            target = Path(out)
            partial = target.with_name(target.name + ".partial")
            try:
                with partial.open("w", encoding="utf-8", newline="") as handle:
                    rows = write_creator_csv(session, creator, dates, handle)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            partial.replace(target)
    err_console.print(f"{rows} rows for creator {creator}, {first} to {last}")
