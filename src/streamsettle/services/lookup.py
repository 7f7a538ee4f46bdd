"""A row by its primary key, or the 404 every use case answers when it is missing."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from streamsettle.errors import NotFound

T = TypeVar("T")


def found(session: Session, model: type[T], key: Any, what: str) -> T:
    """The ``model`` row ``key``; ``NotFound("<what> <key> not found")`` when there is none."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} not found")
    return row
