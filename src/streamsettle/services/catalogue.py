"""Videos, ads and ad placement (docs/rules.md, "Ad slot").

A new video gets the default ad slots (every 300 s strictly below its duration), filled
round-robin over the active ads in id order. The rotation starts at ``video.id - 1`` so
that consecutive videos open on different ads instead of all showing the lowest-id ad
first. Re-placing ads replaces the whole placement of a video in one transaction, under a
row lock on the video so two concurrent re-placements cannot interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from streamsettle.db.models import Ad, AdSlot, User, Video
from streamsettle.domain.slots import default_slot_positions, fill_round_robin
from streamsettle.domain.text import has_control_characters
from streamsettle.errors import Forbidden, InvalidInput, NotFound
from streamsettle.services.lookup import found

MAX_TITLE_LENGTH = 300
MAX_VIDEO_SECONDS = 86_400
MAX_AD_SECONDS = 3_600


@dataclass(frozen=True)
class Placement:
    position_seconds: int
    ad_id: int


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, session: Session, query: Select[T], limit: int, offset: int) -> Page[T]:
        """The page of ``query``'s rows from ``offset``, with the count of all of them."""
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        items = list(session.scalars(query.limit(limit).offset(offset)))
        return cls(items, total or 0, limit, offset)


def _check_title(title: str) -> str:
    if not title.strip() or len(title) > MAX_TITLE_LENGTH or has_control_characters(title):
        raise InvalidInput(
            f"title must be 1 to {MAX_TITLE_LENGTH} characters, not blank and without "
            "control or bidirectional-override characters",
            {"field": "title"},
        )
    return title.strip()


def _check_duration(duration_seconds: int, maximum: int) -> int:
    if isinstance(duration_seconds, bool) or not 1 <= duration_seconds <= maximum:
        raise InvalidInput(
            f"duration_seconds must be an integer from 1 to {maximum}",
            {"field": "duration_seconds"},
        )
    return duration_seconds


def active_ad_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Ad.id).where(Ad.active.is_(True)).order_by(Ad.id)))


def create_video(session: Session, creator: User, *, title: str, duration_seconds: int) -> Video:
    """A video with its default ad slots filled round-robin with the active ads."""
    video = Video(
        creator_id=creator.id,
        title=_check_title(title),
        duration_seconds=_check_duration(duration_seconds, MAX_VIDEO_SECONDS),
    )
    session.add(video)
    session.flush()
    positions = default_slot_positions(video.duration_seconds)
    filled = fill_round_robin(positions, active_ad_ids(session), offset=video.id - 1)
    video.ad_slots = [AdSlot(position_seconds=p, ad_id=ad_id) for p, ad_id in filled]
    session.flush()
    return video


def get_video(session: Session, video_id: int) -> Video:
    return found(session, Video, video_id, "video")


def list_videos(
    session: Session, *, creator_id: int | None = None, limit: int = 100, offset: int = 0
) -> Page[Video]:
    """Videos in id order, optionally of one creator."""
    query = select(Video)
    if creator_id is not None:
        query = query.where(Video.creator_id == creator_id)
    return Page.of(session, query.order_by(Video.id), limit, offset)


def create_ad(
    session: Session, owner: User, *, title: str, duration_seconds: int, active: bool = True
) -> Ad:
    ad = Ad(
        owner_id=owner.id,
        title=_check_title(title),
        duration_seconds=_check_duration(duration_seconds, MAX_AD_SECONDS),
        active=active,
    )
    session.add(ad)
    session.flush()
    return ad


def get_ad(session: Session, ad_id: int) -> Ad:
    return found(session, Ad, ad_id, "ad")


def get_ad_for(session: Session, viewer: User, ad_id: int) -> Ad:
    """An ad as ``viewer`` may see it: any active ad (it plays in videos, it is public
    catalogue data); an inactive one only for its owner or an admin (404 for others)."""
    ad = get_ad(session, ad_id)
    if not ad.active and ad.owner_id != viewer.id and not viewer.has_role("admin"):
        raise NotFound(f"ad {ad_id} not found")
    return ad


def list_ads_for(
    session: Session,
    viewer: User,
    *,
    owner_id: int | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[Ad]:
    """The ads ``viewer`` may list: an admin all (or one owner's); an advertiser their own;
    anyone else (a creator choosing placements) the active ones."""
    if not viewer.has_role("admin"):
        if viewer.has_role("advertiser"):
            owner_id = viewer.id
        else:
            owner_id, active = None, True
    query = select(Ad)
    if owner_id is not None:
        query = query.where(Ad.owner_id == owner_id)
    if active is not None:
        query = query.where(Ad.active.is_(active))
    return Page.of(session, query.order_by(Ad.id), limit, offset)


def update_ad(
    session: Session,
    actor: User,
    ad_id: int,
    *,
    title: str | None = None,
    active: bool | None = None,
) -> Ad:
    """Rename or (de)activate an ad; its owner or an admin. Existing placements stay."""
    ad = get_ad(session, ad_id)
    if ad.owner_id != actor.id and not actor.has_role("admin"):
        raise Forbidden("only the ad's owner or an admin may change it")
    if title is not None:
        ad.title = _check_title(title)
    if active is not None:
        ad.active = active
    session.flush()
    return ad


def _placement_errors(
    session: Session, video: Video, placements: Sequence[Placement]
) -> list[dict[str, object]]:
    wanted = {p.ad_id for p in placements}
    active = (
        set(session.scalars(select(Ad.id).where(Ad.id.in_(wanted), Ad.active.is_(True))))
        if wanted
        else set()
    )
    errors: list[dict[str, object]] = []
    seen: set[int] = set()
    for index, p in enumerate(placements):
        problems = []
        if not 0 < p.position_seconds < video.duration_seconds:
            problems.append(
                f"position {p.position_seconds} is outside the video "
                f"(0 < position < {video.duration_seconds})"
            )
        if p.position_seconds in seen:
            problems.append(f"position {p.position_seconds} is repeated")
        seen.add(p.position_seconds)
        if p.ad_id not in active:
            problems.append(f"ad {p.ad_id} does not exist or is not active")
        errors.extend({"index": index, "message": m} for m in problems)
    return errors


def place_ads(
    session: Session, actor: User, video_id: int, placements: Sequence[Placement]
) -> Video:
    """Replace every ad slot of a video; its creator or an admin.

    ``InvalidInput`` lists every bad entry (position outside ``(0, duration)``, repeated
    position, unknown or inactive ad) and nothing is changed.
    """
    video = session.scalar(select(Video).where(Video.id == video_id).with_for_update())
    if video is None:
        raise NotFound(f"video {video_id} not found")
    if video.creator_id != actor.id and not actor.has_role("admin"):
        raise Forbidden("only the video's creator or an admin may place its ads")
    errors = _placement_errors(session, video, placements)
    if errors:
        raise InvalidInput(f"{len(errors)} invalid ad slot(s): {errors[0]['message']}", errors)
    video.ad_slots.clear()
    session.flush()  # the old rows go first: a kept position reuses its primary key
    video.ad_slots.extend(
        AdSlot(position_seconds=p.position_seconds, ad_id=p.ad_id)
        for p in sorted(placements, key=lambda p: p.position_seconds)
    )
    session.flush()
    return video
