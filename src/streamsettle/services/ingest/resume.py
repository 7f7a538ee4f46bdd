"""Where each signed-in viewer left each video, so that the next session resumes there.

Both ways a watch log is born (the flusher and the import) record it here, in the same
transaction as the log: the newest ended session of a (viewer, video) wins, whatever order
the logs arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from streamsettle.db.models import ResumePosition, Video

_RESUME: Table = ResumePosition.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class LeftAt:
    """A signed-in viewer's session of a video ended at ``position_seconds``."""

    viewer_id: int
    video_id: int
    position_seconds: Decimal
    left_at: datetime


def record_positions(connection: Connection, ends: Iterable[LeftAt]) -> None:
    """Keep the newest end per (viewer, video); an older one never overwrites a newer one."""
    latest: dict[tuple[int, int], LeftAt] = {}
    for end in ends:
        key = (end.viewer_id, end.video_id)
        if key not in latest or latest[key].left_at < end.left_at:
            latest[key] = end
    if not latest:
        return
    insert = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    upsert = insert(_RESUME)
    connection.execute(
        upsert.on_conflict_do_update(
            index_elements=["viewer_id", "video_id"],
            set_={
                "position_seconds": upsert.excluded.position_seconds,
                "left_at": upsert.excluded.left_at,
            },
            where=_RESUME.c.left_at < upsert.excluded.left_at,
        ),
        [asdict(end) for end in latest.values()],
    )


def resume_position(session: Session, viewer_id: int, video: Video) -> Decimal:
    """Where the viewer left the video last time; 0 if they reached its end or never left it."""
    row = session.get(ResumePosition, (viewer_id, video.id))
    if row is None or row.position_seconds >= video.duration_seconds:
        return Decimal(0)
    return row.position_seconds
