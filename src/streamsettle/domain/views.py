"""Views and abuse rules (rule 3.3): the reference the batch's SQL is checked against."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_REPEAT_WINDOW_SECONDS = 30


class ViewKind(StrEnum):
    COUNTED = "counted"
    SELF = "self"
    REPEAT = "repeat"

    @property
    def counts_view(self) -> bool:
        """Counts as a view (and its ad slots as ad views)."""
        return self is ViewKind.COUNTED

    @property
    def counts_watch_time(self) -> bool:
        """Contributes its watched seconds: a repeat does, a self view does not."""
        return self is not ViewKind.SELF


@dataclass(frozen=True)
class LogKey:
    """The fields of a watch log that decide its kind."""

    session_id: str
    video_id: int
    viewer_id: int | None
    ip: str
    started_at: datetime
    creator_id: int


def classify_views(
    logs: Iterable[LogKey], window_seconds: int = DEFAULT_REPEAT_WINDOW_SECONDS
) -> dict[str, ViewKind]:
    """Kind of every session, by session id; independent of the order of ``logs``.

    Per video, in ``(started_at, session_id)`` order: self if the viewer is the creator;
    else repeat if an earlier session (of any kind) by the same user id or the same IP
    started at most ``window_seconds`` before; else counted.
    """
    if window_seconds < 0:
        raise ValueError(f"the repeat window must not be negative, got {window_seconds}")
    window = timedelta(seconds=window_seconds)
    by_video: defaultdict[int, list[LogKey]] = defaultdict(list)
    kinds: dict[str, ViewKind] = {}
    for log in logs:
        if log.session_id in kinds:
            raise ValueError(f"duplicate session id {log.session_id!r}")
        kinds[log.session_id] = ViewKind.COUNTED
        by_video[log.video_id].append(log)
    for video_logs in by_video.values():
        video_logs.sort(key=lambda log: (log.started_at, log.session_id))
        # Latest start so far per viewer key: the nearest earlier session decides.
        last_start: dict[Hashable, datetime] = {}
        for log in video_logs:
            keys: list[Hashable] = [("ip", log.ip)]
            if log.viewer_id is not None:
                keys.append(("user", log.viewer_id))
            if log.viewer_id is not None and log.viewer_id == log.creator_id:
                kinds[log.session_id] = ViewKind.SELF
            elif any(k in last_start and log.started_at - last_start[k] <= window for k in keys):
                kinds[log.session_id] = ViewKind.REPEAT
            for k in keys:
                last_start[k] = log.started_at
    return kinds
