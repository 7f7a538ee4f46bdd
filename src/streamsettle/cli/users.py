"""`streamsettle users …` commands."""

from __future__ import annotations

import sys

import typer

from streamsettle.cli.common import console, fail, runtime
from streamsettle.services.identity import accounts
from streamsettle.services.identity.password_policy import check_password

app = typer.Typer(help="users commands", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input")
        return password
    password_text: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password_text


@app.command("create-admin")
def create_admin(
    email: str = typer.Argument(..., help="the admin's email"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from the first line of stdin"
    ),
    display_name: str = typer.Option("Administrator", help="name shown for a new account"),
) -> None:
    """Create an admin, or give the admin role to an existing user (password unchanged)."""
    with runtime() as rt, rt.db.session() as session:
        user = accounts.get_user_by_email(session, email)
        if user is not None:
            if accounts.grant_role(session, user, "admin"):
                console.print(f"[green]{user.email} (id {user.id}) is now an admin[/green]")
            else:
                console.print(f"{user.email} (id {user.id}) is already an admin")
            return
        normalized = accounts.normalize_email(email)  # a bad email fails before the prompt
        password = _read_password(password_stdin)
        check_password(password, email=normalized, name=display_name)
        user = accounts.create_user(
            session, email=email, password=password, display_name=display_name, roles=["admin"]
        )
        console.print(f"[green]created admin {user.email} (id {user.id})[/green]")
