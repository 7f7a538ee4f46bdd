"""`streamsettle logs …` commands."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from streamsettle.cli.common import console, err_console, fail, runtime

app = typer.Typer(help="watch log commands", no_args_is_help=True)


class _CountingLines:
    """Lines of a binary stream, counting the bytes read (for the progress bar)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.bytes_read = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            self.bytes_read += len(line)
            yield line


@app.command("import")
def import_logs(
    file: str = typer.Argument(..., help="a JSON Lines file of watch logs, or - for stdin"),
    as_json: bool = typer.Option(False, "--json", help="print the API's JSON answer"),
    max_errors: int = typer.Option(
        50, help="rejected lines listed in the table (--json lists the first 1,000)"
    ),
) -> None:
    """Import historical watch logs; idempotent on session id.

    Exit status:
    0  every line was stored or is a duplicate
    2  lines were rejected (the valid ones are stored)
    1  the import could not run or was interrupted"""
    from streamsettle.services.ingest.importer import import_watch_logs

    if file == "-":
        stream: BinaryIO = sys.stdin.buffer
        total = None
    else:
        try:
            stream = open(file, "rb")  # noqa: SIM115 (closed below)
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror}")
        total = os.fstat(stream.fileno()).st_size
    lines = _CountingLines(stream)
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[lines]:,} lines"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    try:
        with runtime() as rt, progress:
            task = progress.add_task("import", total=total, lines=0)

            def advance(lines_read: int) -> None:
                progress.update(task, completed=lines.bytes_read, lines=lines_read)

            result = import_watch_logs(rt, lines, on_progress=advance)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if as_json:
        summary = {
            "inserted": result.inserted,
            "duplicates": result.duplicates,
            "rejected": [{"line": r.line, "error": r.error} for r in result.rejected],
            "rejected_count": result.rejected_count,
            "lines": result.lines,
        }
        console.print_json(json.dumps(summary))
    else:
        console.print(
            f"inserted {result.inserted}, duplicates {result.duplicates}, "
            f"rejected {result.rejected_count} (of {result.lines} lines)"
        )
        if result.rejected:
            table = Table("line", "error")
            for rejected in result.rejected[:max_errors]:
                table.add_row(str(rejected.line), rejected.error)
            console.print(table)
            if result.rejected_count > max_errors:
                console.print(f"… and {result.rejected_count - max_errors} more (see --json)")
    if result.rejected_count:
        raise typer.Exit(2)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date YYYY-MM-DD, not {value!r}")


@app.command("archive")
def archive_logs(
    before: str = typer.Option(..., help="archive the settled days before this date"),
    directory: Path | None = typer.Option(
        None, "--dir", help="where the Parquet files go (default: STREAMSETTLE_ARCHIVE_DIR)"
    ),
) -> None:
    """Move settled days of watch logs into Parquet files, one per day (PostgreSQL).

    Each file is read back and checked against the day before its partition is dropped;
    settled results stay. Interrupt at will: running it again carries on."""
    from streamsettle.services.archive import archive

    until = _day(before, "--before")
    with runtime() as rt:
        target = directory or rt.settings.archive_dir
        with Progress(
            TextColumn("archiving"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as progress:
            task = progress.add_task("", total=None)

            def done(day: date, rows: int) -> None:
                progress.update(task, description=f"{day} ({rows:,} rows)")
                console.print(f"archived {day}: {rows:,} rows")

            result = archive(rt, until, target, on_day=done)
    for day, why in result.skipped:
        console.print(f"kept {day}: {why}")
    console.print(f"{len(result.archived)} day(s) archived to {target}")


@app.command("restore")
def restore_logs(
    day: str = typer.Option(..., "--date", help="the archived business date to bring back"),
) -> None:
    """Bring an archived day of watch logs back into the database from its Parquet file."""
    from streamsettle.services.archive import restore

    when = _day(day, "--date")
    with runtime() as rt:
        rows = restore(rt, when)
    console.print(f"restored {when}: {rows:,} rows")


@app.command("archives")
def list_archives() -> None:
    """The archived days: file, rows and checksum."""
    from streamsettle.services.archive import archived_days

    with runtime() as rt:
        records = archived_days(rt)
    table = Table("date", "rows", "file", "sha256")
    for record in records:
        table.add_row(
            str(record.business_date), f"{record.rows:,}", record.path, record.sha256[:16]
        )
    console.print(table)
