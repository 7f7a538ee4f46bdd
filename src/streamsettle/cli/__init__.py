"""The ``streamsettle`` command: thin Typer commands that call the services."""

from __future__ import annotations

import os

import typer
from pydantic import ValidationError

from streamsettle.cli import (
    batch,
    demo,
    generate,
    logs,
    settlements,
    statements,
    users,
    workers,
)
from streamsettle.cli.common import console, fail, hide_flag_types

hide_flag_types()
app = typer.Typer(
    help="streamsettle: watch logs, views and daily creator settlement.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(users.app, name="users")
app.add_typer(logs.app, name="logs")
app.add_typer(batch.app, name="batch")
app.add_typer(demo.app, name="demo")
app.add_typer(settlements.app, name="settlements")
app.add_typer(statements.app, name="statements")
app.command("generate")(generate.generate)
app.command("flusher")(workers.flusher)
app.command("scheduler")(workers.scheduler)


@app.command()
def migrate(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Bring the database schema up to date."""
    from streamsettle.config import get_settings
    from streamsettle.db.migrate import upgrade

    settings = get_settings()
    if settings.database_url.startswith("sqlite:///"):
        path = settings.database_url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    upgrade(settings.database_url, revision)
    console.print(f"[green]database at revision {revision}[/green]")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="port to bind"),
    workers: int = typer.Option(1, min=1, help="worker processes"),
    no_flusher: bool = typer.Option(False, "--no-flusher", help="do not run the flusher"),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="do not run the scheduler"),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="log one line per request to stderr"
    ),
) -> None:
    """Serve the API and the settlement page."""
    import uvicorn

    from streamsettle.config import get_settings
    from streamsettle.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if no_flusher:
        os.environ["STREAMSETTLE_RUN_FLUSHER"] = "false"
    if no_scheduler:
        os.environ["STREAMSETTLE_RUN_SCHEDULER"] = "false"
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    base = f"http://{shown}:{port}"
    console.print(f"streamsettle: page {base}/  API docs {base}/docs  (Ctrl-C to stop)")
    uvicorn.run(
        "streamsettle.app:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level="info" if access_log else "warning",
        log_config=None,  # uvicorn logs through the root handler (``configure_logging``)
    )


def main() -> None:
    try:
        app()
    except ValidationError as exc:
        fail(f"invalid configuration:\n{exc}")


__all__ = ["app", "main"]
