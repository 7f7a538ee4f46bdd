"""What every command shares: the console, the runtime and the way to fail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console

from streamsettle.errors import StreamsettleError
from streamsettle.runtime import Runtime

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


@contextmanager
def runtime() -> Iterator[Runtime]:
    """A runtime for one command; service errors become a clear message and exit code 1."""
    rt = Runtime.from_settings()
    try:
        yield rt
    except StreamsettleError as exc:
        fail(exc.message)
    finally:
        rt.close()
