"""The synthetic catalogue: creators, viewers, advertisers, ads, videos and their ad slots,
and the user agents the logs name (the ``user_agents`` dictionary).

Written in one transaction with bulk SQL (COPY on PostgreSQL, ``executemany`` on SQLite),
never one ORM call per video. Ids are reserved from the tables' own sequences first, so
the rows can be written in bulk, concurrent writers are never hit and a fresh database
gets the same ids for the same plan. Ad slots follow the product's rule exactly: every
300 s strictly below the duration, filled round-robin over all active ads in id order,
starting at ``video.id - 1`` (as ``services.catalogue.create_video`` does).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Connection

from streamsettle.db.base import Base
from streamsettle.db.engine import insert_on_conflict
from streamsettle.db.models import Ad, AdSlot, User, UserAgent, UserRole, Video
from streamsettle.domain.slots import default_slot_positions
from streamsettle.synthetic.model import USER_AGENTS
from streamsettle.synthetic.plan import GenerationPlan

TOPICS = (
    "Cooking",
    "Travel vlog",
    "Speedrun",
    "Lecture",
    "Live set",
    "Unboxing",
    "Tutorial",
    "Podcast",
    "Highlights",
    "ASMR",
    "Workout",
    "Review",
)
EMAIL_DOMAIN = "synthetic.streamsettle.test"


@dataclass(frozen=True)
class Catalogue:
    """The ids the logs refer to."""

    creator_ids: list[int]
    viewer_ids: list[int]
    advertiser_ids: list[int]
    ad_ids: list[int]
    """The ads this run created."""
    active_ad_ids: list[int]
    """Every active ad in id order (the round-robin over which slots are filled)."""
    video_ids: list[int]
    video_durations: list[int]
    video_creators: list[int]
    """Creator user id by video index."""
    video_creator_index: list[int]
    popular_videos: list[int]
    """Video indexes, most popular first."""
    slot_count: int
    user_agent_ids: list[int]
    """The dictionary id of each of ``model.USER_AGENTS``."""


def draw_durations_and_creators(
    plan: GenerationPlan,
) -> tuple[list[int], list[int], list[int]]:
    """Durations log-uniform over 1 min .. 1 h; a few creators own many videos; a shuffled
    popularity order (so popularity does not follow the id)."""
    rng = random.Random(f"{plan.seed}/catalogue")
    rnd = rng.random
    durations = [min(3600, int(60 * 60 ** rnd())) for _ in range(plan.videos)]
    creators = [int(plan.creators * rnd() ** 2) for _ in range(plan.videos)]
    order = list(range(plan.videos))
    rng.shuffle(order)
    return durations, creators, order


def _title(index: int) -> str:
    return f"{TOPICS[index % len(TOPICS)]} #{index + 1}"


def _reserve_ids(connection: Connection, table: str, count: int) -> list[int]:
    if count == 0:
        return []
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            sa.text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table, "count": count},
        )
        return sorted(row[0] for row in rows)
    # SQLite: one writer at a time and INTEGER PRIMARY KEY takes max(id) + 1 anyway.
    top = connection.execute(sa.text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()  # noqa: S608
    return list(range(top + 1, top + 1 + count))


def _write(
    connection: Connection, model: type[Base], columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        raw: Any = connection.connection.driver_connection
        with raw.cursor() as cursor:
            statement = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    for start in range(0, len(rows), 10_000):
        batch = rows[start : start + 10_000]
        connection.execute(
            sa.insert(model), [dict(zip(columns, row, strict=True)) for row in batch]
        )


def user_agent_ids(connection: Connection) -> list[int]:
    """The ids of ``USER_AGENTS`` in the dictionary, adding those it lacks (in order)."""
    table: Any = UserAgent.__table__
    stmt = insert_on_conflict(table, connection.dialect.name).on_conflict_do_nothing()
    for name in USER_AGENTS:
        connection.execute(stmt, {"user_agent": name})
    found = connection.execute(
        sa.select(table.c.user_agent, table.c.id).where(table.c.user_agent.in_(USER_AGENTS))
    )
    ids: dict[str, int] = {name: id_ for name, id_ in found}
    return [ids[name] for name in USER_AGENTS]


def create_catalogue(connection: Connection, plan: GenerationPlan, tz: ZoneInfo) -> Catalogue:
    """Insert the plan's users, ads, videos and ad slots; the caller owns the transaction."""
    durations, creator_index, order = draw_durations_and_creators(plan)
    created_at = datetime.combine(plan.start_date - timedelta(days=30), time(9), tzinfo=tz)
    n_users = plan.creators + plan.viewer_count + plan.advertiser_count
    user_ids = _reserve_ids(connection, "users", n_users)
    creators = user_ids[: plan.creators]
    viewers = user_ids[plan.creators : plan.creators + plan.viewer_count]
    advertisers = user_ids[plan.creators + plan.viewer_count :]
    users: list[tuple[Any, ...]] = []
    roles: list[tuple[Any, ...]] = []
    for kind, ids in (("creator", creators), ("viewer", viewers), ("advertiser", advertisers)):
        for n, user_id in enumerate(ids, 1):
            users.append(
                (
                    user_id,
                    f"{kind}{user_id}@{EMAIL_DOMAIN}",
                    f"Synthetic {kind} {n}",
                    None,
                    created_at,
                )
            )
            roles.append((user_id, kind))
    _write(
        connection,
        User,
        ("id", "email", "display_name", "password_hash", "created_at"),
        users,
    )
    _write(connection, UserRole, ("user_id", "role"), roles)

    ad_ids = _reserve_ids(connection, "ads", plan.ads)
    _write(
        connection,
        Ad,
        ("id", "owner_id", "title", "duration_seconds", "active", "created_at"),
        [
            (
                ad_id,
                advertisers[i % len(advertisers)],
                f"Synthetic ad {i + 1}",
                15 if i % 2 else 30,
                True,
                created_at,
            )
            for i, ad_id in enumerate(ad_ids)
        ],
    )
    active = list(connection.scalars(sa.select(Ad.id).where(Ad.active.is_(True)).order_by(Ad.id)))

    video_ids = _reserve_ids(connection, "videos", plan.videos)
    video_creators = [creators[c] for c in creator_index]
    _write(
        connection,
        Video,
        ("id", "creator_id", "title", "duration_seconds", "created_at"),
        [
            (
                video_id,
                video_creators[i],
                f"{TOPICS[i % len(TOPICS)]} #{i + 1}",
                durations[i],
                created_at,
            )
            for i, video_id in enumerate(video_ids)
        ],
    )
    slots: list[tuple[Any, ...]] = []
    n_active = len(active)
    for video_id, duration in zip(video_ids, durations, strict=True):
        for k, position in enumerate(default_slot_positions(duration)):
            slots.append(
                (video_id, position, active[(video_id - 1 + k) % n_active] if n_active else None)
            )
    _write(connection, AdSlot, ("video_id", "position_seconds", "ad_id"), slots)
    return Catalogue(
        creator_ids=creators,
        viewer_ids=viewers,
        advertiser_ids=advertisers,
        ad_ids=ad_ids,
        active_ad_ids=active,
        video_ids=video_ids,
        video_durations=durations,
        video_creators=video_creators,
        video_creator_index=creator_index,
        popular_videos=order,
        slot_count=len(slots),
        user_agent_ids=user_agent_ids(connection),
    )
