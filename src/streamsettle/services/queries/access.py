"""Who may read which numbers (docs/rules.md): nobody sees another creator's or advertiser's money.

Each function answers with the owner id to filter on, or ``None`` for "everything" (admin),
and raises ``Forbidden`` otherwise. Existence is checked before ownership by the callers,
so an unknown id is a 404 for everyone and a foreign one a 403.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from streamsettle.db.models import Ad, User, Video
from streamsettle.errors import Forbidden
from streamsettle.services.lookup import found


def creator_scope(user: User, creator_id: int | None = None) -> int | None:
    """The creator whose videos ``user`` may rank: all (None) for an admin, else their own."""
    if user.has_role("admin"):
        return creator_id
    if not user.has_role("creator"):
        raise Forbidden("video statistics are for creators and admins")
    if creator_id is not None and creator_id != user.id:
        raise Forbidden("a creator sees only their own videos")
    return user.id


def advertiser_scope(user: User) -> int | None:
    """The owner whose ads ``user`` may rank: all (None) for an admin, else their own."""
    if user.has_role("admin"):
        return None
    if not user.has_role("advertiser"):
        raise Forbidden("ad statistics are for advertisers and admins")
    return user.id


def require_owner_or_admin(user: User, owner_id: int, what: str) -> None:
    if owner_id != user.id and not user.has_role("admin"):
        raise Forbidden(f"only the {what}'s owner or an admin may see its settlement")


def creator_target(user: User, asked: int | None, refusals: tuple[str, str]) -> int:
    """The creator a page is about: the caller, or (for an admin) the one ``asked`` for.

    ``refusals``: the message refusing another creator's page to a non-admin, then the one
    refusing the page to someone who is neither creator nor admin.
    """
    if asked is not None and asked != user.id:
        if not user.has_role("admin"):
            raise Forbidden(refusals[0])
        return asked
    if not (user.has_role("creator") or user.has_role("admin")):
        raise Forbidden(refusals[1])
    return user.id


def visible_video(session: Session, user: User, video_id: int) -> Video:
    """A video whose money ``user`` may see: 404 when unknown, 403 unless creator or admin."""
    video = found(session, Video, video_id, "video")
    require_owner_or_admin(user, video.creator_id, "video")
    return video


def visible_ad(session: Session, user: User, ad_id: int) -> Ad:
    """An ad whose money ``user`` may see: 404 when unknown, 403 unless owner or admin."""
    ad = found(session, Ad, ad_id, "ad")
    require_owner_or_admin(user, ad.owner_id, "ad")
    return ad


def require_admin(user: User) -> None:
    if not user.has_role("admin"):
        raise Forbidden("only an admin may see all creators")
