"""Lineage of a daily settlement (product.md 3.8): which earlier session a repeat view
repeats. The same rule as ``views.classify_views`` (3.3): the nearest earlier session of
the same video by the same user id or the same IP, started at most the window before."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from streamsettle.domain.views import LogKey


def repeat_of(log: LogKey, earlier: Iterable[LogKey], window_seconds: int) -> str | None:
    """The session id ``log`` repeats, or None when no session makes it a repeat.

    "Earlier" orders by ``(started_at, session_id)``; ``earlier`` may hold any logs (later
    ones, other videos and ``log`` itself are skipped)."""
    window = timedelta(seconds=window_seconds)
    key = (log.started_at, log.session_id)
    best: LogKey | None = None
    for other in earlier:
        if other.video_id != log.video_id or (other.started_at, other.session_id) >= key:
            continue
        if log.started_at - other.started_at > window:
            continue
        same_user = log.viewer_id is not None and other.viewer_id == log.viewer_id
        if not (same_user or other.ip == log.ip):
            continue
        if best is None or (other.started_at, other.session_id) > (
            best.started_at,
            best.session_id,
        ):
            best = other
    return None if best is None else best.session_id
