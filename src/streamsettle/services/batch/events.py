"""Progress events of a batch run, for displays (CLI progress, logs); never for control."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

EventKind = Literal[
    "run_started",
    "partitions_planned",
    "step_started",
    "step_finished",
    "step_failed",
    "run_finished",
    "date_skipped",
]


@dataclass(frozen=True)
class BatchEvent:
    """One thing that happened in a run. Partition steps report from worker threads, so a
    handler must be thread-safe (Rich's ``Progress`` is)."""

    kind: EventKind
    day: date
    run_id: int | None = None
    step: str | None = None
    partition: int | None = None
    partitions: int | None = None
    rows: int | None = None
    seconds: float | None = None
    status: str | None = None
    message: str | None = None


EventHandler = Callable[[BatchEvent], None]


def emit(handler: EventHandler | None, event: BatchEvent) -> None:
    """Call the handler, if any; a broken display must not break a settlement."""
    if handler is None:
        return
    try:
        handler(event)
    except Exception:  # pragma: no cover - defensive
        from streamsettle.logging import get_logger

        get_logger(__name__).exception("batch event handler failed", kind=event.kind)
