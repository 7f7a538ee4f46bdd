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


def hide_flag_types() -> None:
    """Typer labels every option with its type in the help, flags too (``--json <bool>``),
    though a flag takes no value: give flags no label, as Click does."""
    from typer.core import TyperOption

    labelled = TyperOption.display_type_rich
    if getattr(labelled, "flags_hidden", False):
        return

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag and self.metavar is None else labelled(self, ctx)

    display_type_rich.flags_hidden = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign,assignment]


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
