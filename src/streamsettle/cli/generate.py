"""``streamsettle generate``: a synthetic catalogue and realistic watch logs at scale."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from streamsettle.cli.common import console, fail, runtime
from streamsettle.domain.periods import business_date
from streamsettle.errors import InvalidInput


def _start_date(value: str | None, days: int) -> date:
    from streamsettle.config import get_settings

    if value is None:
        # The days that end yesterday, so the batch can settle them all right away.
        today = business_date(datetime.now().astimezone(), get_settings().tz)
        return today - timedelta(days=days)
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--start-date must be YYYY-MM-DD, got {value!r}")


def generate(
    videos: int = typer.Option(..., "--videos", min=1, help="videos to create"),
    creators: int = typer.Option(..., "--creators", min=1, help="creators owning them"),
    days: int = typer.Option(..., "--days", min=1, help="business days of watch logs"),
    logs_per_day: int = typer.Option(..., "--logs-per-day", min=0, help="watch logs per day"),
    seed: int = typer.Option(0, "--seed", help="same seed and sizes, same data"),
    start_date: str | None = typer.Option(
        None, "--start-date", help="first business day, YYYY-MM-DD (default: DAYS days ago)"
    ),
    out: Path | None = typer.Option(
        None, "--out", help="write the logs to this JSON Lines file (for `logs import`)"
    ),
    streams: int | None = typer.Option(
        None, "--streams", min=1, help="parallel streams (default: the number of cores, max 8)"
    ),
    viewers: int | None = typer.Option(
        None, "--viewers", min=1, help="logged-in viewer pool (default: logs per day / 10)"
    ),
    ads: int = typer.Option(5, "--ads", min=0, help="active ads filling the slots"),
    rebuild_indexes: bool = typer.Option(
        False,
        "--rebuild-indexes",
        help="PostgreSQL bulk load: drop the watch log key and foreign keys, rebuild them "
        "per day partition after (faster; only when nothing else writes to the database)",
    ),
) -> None:
    """Generate creators, viewers, ads, videos and realistic watch logs.

    The catalogue always goes to the database; the watch logs go to the database (COPY on
    PostgreSQL, in parallel streams) or, with --out, to a JSON Lines file to import.
    """
    from streamsettle.synthetic import GenerationPlan, default_streams
    from streamsettle.synthetic import generate as run_generation

    try:
        plan = GenerationPlan(
            videos=videos,
            creators=creators,
            days=days,
            logs_per_day=logs_per_day,
            start_date=_start_date(start_date, days),
            seed=seed,
            viewers=viewers,
            ads=ads,
        )
    except InvalidInput as exc:
        fail(exc.message)
    progress = Progress(
        TextColumn("[bold]watch logs"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with runtime() as rt, progress:
        task = progress.add_task("logs", total=plan.total_logs)
        result = run_generation(
            rt,
            plan,
            out=out,
            streams=streams or default_streams(),
            rebuild_indexes=rebuild_indexes,
            on_progress=lambda n: progress.advance(task, n),
        )
    rate = result.watch_logs / result.logs_seconds if result.logs_seconds else 0.0
    where = f"to {result.out}" if result.out else "into the database"
    console.print(
        f"[green]{result.users:,} users, {result.videos:,} videos ({result.ad_slots:,} ad "
        f"slots), {result.ads:,} ads in {result.catalogue_seconds:.1f} s; "
        f"{result.watch_logs:,} watch logs ({result.slots_reached:,} ad slots reached) "
        f"{where} in {result.logs_seconds:.1f} s ({rate:,.0f} logs/s, "
        f"{result.streams} stream(s))[/green]"
    )
    console.print(
        f"business days {plan.start_date} .. {plan.start_date + timedelta(days=plan.days - 1)}"
    )
