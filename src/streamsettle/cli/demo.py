"""`streamsettle demo …` commands."""

from __future__ import annotations

import typer
from rich.table import Table

from streamsettle.cli.common import console, runtime
from streamsettle.synthetic.demo import load_demo

app = typer.Typer(help="demo data", no_args_is_help=True)


@app.command("load")
def load(
    days: int = typer.Option(14, min=1, max=366, help="business days of history, up to yesterday"),
    seed: int = typer.Option(20261130, help="seed of the generated watch logs"),
) -> None:
    """Load the demo accounts, videos, watch logs and settlements, unless they exist."""
    with runtime() as rt:
        result = load_demo(
            rt, days=days, seed=seed, on_step=lambda m: console.print(f"[dim]demo:[/dim] {m}")
        )
    if result.created:
        assert result.dates is not None
        console.print(
            f"[green]demo loaded[/green]: {result.logs_inserted} watch logs, "
            f"{len(result.runs)} days settled ({result.dates.start} to {result.dates.end})"
        )
    else:
        console.print("demo data already present (admin@demo.test exists): nothing to do")
    table = Table(title="Demo accounts")
    for column in ("email", "password", "roles"):
        table.add_column(column)
    for account in result.accounts:
        table.add_row(account.email, account.password, ", ".join(account.roles))
    console.print(table)
    console.print("Open http://127.0.0.1:8000/ after `streamsettle serve` and log in.")
