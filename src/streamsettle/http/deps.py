"""Request dependencies both HTTP edges use, as ``Annotated`` aliases that keep route
signatures short."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.types import Scope

from streamsettle.config import Settings
from streamsettle.http.middleware import header
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


UNKNOWN_ADDRESS = "0.0.0.0"
"""Stands for a peer with no IP address (a Unix socket, an in-process test client)."""


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def caller_ip(scope: Scope, settings: Settings) -> str:
    """The connection's address, or the first X-Forwarded-For entry from a trusted proxy,
    always a valid IP address in canonical form (watch logs store it as ``inet``)."""
    client = scope.get("client")
    peer = client[0] if client else UNKNOWN_ADDRESS
    if peer in settings.trusted_proxies:
        forwarded = header(scope, b"x-forwarded-for")
        first = _address(forwarded.split(",")[0].strip()) if forwarded else None
        if first:
            return first
    return _address(peer) or UNKNOWN_ADDRESS


def client_ip(request: Request, settings: SettingsDep) -> str:
    return caller_ip(request.scope, settings)


ClientIp = Annotated[str, Depends(client_ip)]
