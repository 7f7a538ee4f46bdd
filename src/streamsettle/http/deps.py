"""Request dependencies both HTTP edges use, as ``Annotated`` aliases that keep route
signatures short."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from streamsettle.config import Settings
from streamsettle.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


SESSION_SCOPE: Literal["function"] = "function"
"""The scope of every session dependency: closed when the route function returns.

With FastAPI's default ("request") scope a ``yield`` dependency finishes after the response
has been sent, so a client could hold a 2xx for a write not committed yet, or never. With
"function" scope the commit runs before the answer is sent, and a failed commit raises into
the error handlers (409 for a conflict, 503 for a lost database) instead of passing unseen.
"""


def get_db_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A write unit of work for one request: committed before the response is sent."""
    with runtime.db.session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db_session, scope=SESSION_SCOPE)]


def client_ip(request: Request, settings: SettingsDep) -> str:
    """The connection's address, or the first X-Forwarded-For entry from a trusted proxy."""
    peer = request.client.host if request.client else "0.0.0.0"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in settings.trusted_proxies:
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return peer


ClientIp = Annotated[str, Depends(client_ip)]
