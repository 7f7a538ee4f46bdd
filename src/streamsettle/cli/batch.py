"""`streamsettle batch …`: run the daily batch for a date or a range, and inspect runs."""

from __future__ import annotations

import threading
from datetime import date, datetime

import typer
from rich import box
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from streamsettle.cli.common import console, fail, runtime
from streamsettle.db.models import BatchRun

app = typer.Typer(help="the daily batch: statistics and settlement", no_args_is_help=True)


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)")


class _Display:
    """A Rich progress line per step and partition while a date runs; one summary line per
    finished date. The note of the last finished date (later dates needing a re-run) is kept
    for the end of a range instead of being repeated for every date."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[tuple[int | None, str | None, int | None], tuple[TaskID, str]] = {}
        self.by_run: dict[int | None, list[TaskID]] = {}
        self.lock = threading.Lock()
        self.note: str | None = None

    def __call__(self, event: object) -> None:
        from streamsettle.services.batch import BatchEvent

        assert isinstance(event, BatchEvent)
        day = event.day.isoformat()
        with self.lock:
            if event.kind == "step_started":
                label = f"{day} {event.step or ''}"
                if event.partitions and event.partitions > 1:
                    label += f" [{(event.partition or 0) + 1}/{event.partitions}]"
                task = self.progress.add_task(label, total=1)
                self.tasks[(event.run_id, event.step, event.partition)] = (task, label)
                self.by_run.setdefault(event.run_id, []).append(task)
            elif event.kind in ("step_finished", "step_failed"):
                task, label = self.tasks.pop((event.run_id, event.step, event.partition))
                if event.kind == "step_finished":
                    note = f"[green]{event.rows} rows[/green] in {event.seconds or 0:.2f} s"
                else:
                    note = f"[red]failed: {event.message}[/red]"
                self.progress.update(task, completed=1, description=f"{label}  {note}")
            elif event.kind == "run_finished":
                for task in self.by_run.pop(event.run_id, []):
                    self.progress.remove_task(task)
                colour = "green" if event.status == "completed" else "red"
                line = (
                    f"{day} [{colour}]{event.status}[/{colour}] "
                    f"in {event.seconds or 0:.2f} s (run {event.run_id})"
                )
                if event.status != "completed" and event.message:
                    line += f": {event.message}"
                self.progress.console.print(line)
                self.note = event.message if event.status == "completed" else None
            elif event.kind == "date_skipped":
                self.progress.console.print(f"{day} skipped: {event.message}")


@app.command("run")
def run(
    day: str | None = typer.Option(None, "--date", help="the business date to settle"),
    start: str | None = typer.Option(None, "--from", help="first date of a backfill"),
    end: str | None = typer.Option(None, "--to", help="last date of a backfill (inclusive)"),
    partitions: int = typer.Option(
        0, "--partitions", min=0, help="parallel partitions (0: STREAMSETTLE_BATCH_PARTITIONS)"
    ),
    skip_completed: bool = typer.Option(
        False, "--skip-completed", help="in a backfill, skip dates already settled and current"
    ),
    engine: str = typer.Option(
        "",
        "--engine",
        help="where the rules are computed: sql, duckdb or spark (default: "
        "STREAMSETTLE_BATCH_ENGINE, else duckdb on PostgreSQL, sql on SQLite)",
    ),
) -> None:
    """Settle one date (--date) or a range in order (--from/--to), stopping at a failure."""
    from streamsettle.services.batch import run_range
    from streamsettle.services.batch.engines import ENGINE_NAMES

    if engine and engine not in ENGINE_NAMES:
        fail(f"--engine must be one of {', '.join(ENGINE_NAMES)}, not {engine!r}")

    single, first, last = (
        _parse_date(day, "--date"),
        _parse_date(start, "--from"),
        _parse_date(end, "--to"),
    )
    if single is not None and (first or last):
        fail("give either --date or --from/--to, not both")
    if single is not None:
        first = last = single
    if first is None or last is None:
        fail("give --date D, or --from D1 --to D2")
    if first > last:
        fail(f"--from {first} is after --to {last}")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with runtime() as rt, Progress(*columns, console=console) as progress:
        display = _Display(progress)
        runs = run_range(
            rt,
            first,
            last,
            partitions=partitions or None,
            on_event=display,
            skip_completed=skip_completed,
            engine=engine or None,
        )
    if display.note:
        console.print(f"[yellow]note:[/yellow] {display.note}")
    if any(r.status != "completed" for r in runs):
        raise typer.Exit(1)


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%m-%d %H:%M:%S") if value else ""


def _duration(run_start: datetime, run_end: datetime | None) -> str:
    return f"{(run_end - run_start).total_seconds():.1f} s" if run_end else ""


def _table(title: str, *columns: str) -> Table:
    """A compact table that fits 80 columns: fixed columns never wrap, the last one folds."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for name in columns[:-1]:
        table.add_column(name, no_wrap=True)
    table.add_column(columns[-1], overflow="fold", ratio=1)
    return table


@app.command("status")
def status(
    day: str | None = typer.Option(None, "--date", help="only this business date, with steps"),
    limit: int = typer.Option(20, min=1, help="how many runs to show"),
) -> None:
    """The latest batch runs (and, with --date, the steps of that date's latest run)."""
    from streamsettle.services.batch import repository as repo

    only = _parse_date(day, "--date")
    with runtime() as rt:
        runs = repo.list_runs(rt.db, only, limit)
        with rt.db.session() as session:
            stale = repo.dates_needing_rerun(session)
    if not runs:
        console.print("no batch runs" + (f" for {only}" if only else ""))
        return
    table = _table(
        "batch runs", "run", "date", "status", "engine", "parts", "started", "took", "note"
    )
    latest: dict[date, int] = {}
    for r in runs:
        latest.setdefault(r.business_date, r.id)
    for r in runs:
        note = r.error or ""
        if r.status == "running":
            note = f"on {r.worker}"
        elif (
            r.business_date in stale and r.status == "completed" and latest[r.business_date] == r.id
        ):
            note = f"needs a re-run: {stale[r.business_date]}"
        colour = {"completed": "green", "failed": "red"}.get(r.status, "yellow")
        table.add_row(
            str(r.id),
            r.business_date.isoformat(),
            f"[{colour}]{r.status}[/{colour}]",
            r.engine,
            str(r.partitions),
            _when(r.started_at),
            _duration(r.started_at, r.finished_at),
            note,
        )
    console.print(table)
    if stale:
        first, last = min(stale).isoformat(), max(stale).isoformat()
        listed = (
            ", ".join(d.isoformat() for d in sorted(stale))
            if len(stale) <= 3
            else f"from {first} to {last}"
        )
        console.print(
            f"[yellow]{len(stale)} date(s) need a re-run: {listed}[/yellow]. "
            "Dates with late watch logs are "
            "re-run by the scheduler within a minute; the others with "
            f"streamsettle batch run --from {first} --to {last}"
        )
    if only is not None:
        console.print(_steps_table(runs[0]))


def _steps_table(run: BatchRun) -> Table:
    table = _table(f"steps of run {run.id}", "step", "partition", "status", "rows", "took", "error")
    for step in run.steps:
        table.add_row(
            step.name,
            str(step.partition),
            step.status,
            str(step.rows),
            _duration(step.started_at, step.finished_at),
            step.error or "",
        )
    return table
