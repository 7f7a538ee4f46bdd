"""Routes for the catalogue: videos, ads and ad placement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query

from streamsettle.api.deps import (
    CREATES,
    AdvertiserUser,
    CreatorUser,
    CurrentUser,
    RecordsWrites,
    require_role,
)
from streamsettle.api.openapi import errors
from streamsettle.api.schemas.catalogue import (
    MAX_ID,
    AdCreate,
    AdPage,
    AdPublic,
    AdSlotPlacement,
    AdSlotPublic,
    AdUpdate,
    VideoCreate,
    VideoPage,
    VideoPublic,
)
from streamsettle.db.models import User
from streamsettle.http.deps import DbSession
from streamsettle.services import catalogue
from streamsettle.services.catalogue import Placement

router = APIRouter(prefix="/api/v1", tags=["catalogue"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
VideoId = Annotated[int, Path(ge=1, le=MAX_ID)]
AdId = Annotated[int, Path(ge=1, le=MAX_ID)]
OwnerFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
CreatorOrAdvertiser = Annotated[User, Depends(require_role("creator", "advertiser"))]


@router.post("/videos", response_model=VideoPublic, **CREATES)
def create_video(body: VideoCreate, creator: CreatorUser, session: DbSession) -> VideoPublic:
    """Upload a video; its default ad slots are filled round-robin with the active ads."""
    video = catalogue.create_video(
        session, creator, title=body.title, duration_seconds=body.duration_seconds
    )
    return VideoPublic.model_validate(video)


@router.get("/videos", response_model=VideoPage)
def list_videos(
    session: DbSession,
    creator_id: OwnerFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> VideoPage:
    """Videos in id order (public), optionally of one creator."""
    page = catalogue.list_videos(session, creator_id=creator_id, limit=limit, offset=offset)
    return VideoPage.model_validate(page, from_attributes=True)


@router.get("/me/videos", response_model=VideoPage)
def my_videos(
    creator: CreatorUser, session: DbSession, limit: Limit = 100, offset: Offset = 0
) -> VideoPage:
    """The caller's own videos."""
    page = catalogue.list_videos(session, creator_id=creator.id, limit=limit, offset=offset)
    return VideoPage.model_validate(page, from_attributes=True)


@router.get(
    "/videos/{video_id}",
    response_model=VideoPublic,
    responses=errors({404: "no such video"}),
)
def get_video(video_id: VideoId, session: DbSession) -> VideoPublic:
    return VideoPublic.model_validate(catalogue.get_video(session, video_id))


@router.put(
    "/videos/{video_id}/ad-slots",
    response_model=list[AdSlotPublic],
    dependencies=[RecordsWrites],
    responses=errors(
        {403: "only the video's creator or an admin places its ads", 404: "no such video"}
    ),
)
def place_ads(
    video_id: VideoId,
    placements: Annotated[list[AdSlotPlacement], Body(max_length=1000)],
    user: CurrentUser,
    session: DbSession,
) -> list[AdSlotPublic]:
    """Replace the video's ad slots (its creator or an admin); answers the new slots."""
    video = catalogue.place_ads(
        session,
        user,
        video_id,
        [Placement(p.position_seconds, p.ad_id) for p in placements],
    )
    return VideoPublic.model_validate(video).ad_slots


@router.post("/ads", response_model=AdPublic, **CREATES)
def create_ad(body: AdCreate, advertiser: AdvertiserUser, session: DbSession) -> AdPublic:
    ad = catalogue.create_ad(
        session,
        advertiser,
        title=body.title,
        duration_seconds=body.duration_seconds,
        active=body.active,
    )
    return AdPublic.model_validate(ad)


@router.get("/ads", response_model=AdPage)
def list_ads(
    user: CreatorOrAdvertiser,
    session: DbSession,
    active: bool | None = None,
    owner_id: OwnerFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AdPage:
    """An advertiser's own ads; an admin all (or one owner's with ``owner_id``); a creator
    who is not an advertiser the active ads, the ones they may place."""
    page = catalogue.list_ads_for(
        session, user, owner_id=owner_id, active=active, limit=limit, offset=offset
    )
    return AdPage.model_validate(page, from_attributes=True)


@router.get(
    "/ads/{ad_id}",
    response_model=AdPublic,
    responses=errors({404: "no such ad, or an inactive one of someone else"}),
)
def get_ad(ad_id: AdId, user: CurrentUser, session: DbSession) -> AdPublic:
    """Any active ad; an inactive one only for its owner or an admin."""
    return AdPublic.model_validate(catalogue.get_ad_for(session, user, ad_id))


@router.patch(
    "/ads/{ad_id}",
    response_model=AdPublic,
    dependencies=[RecordsWrites],
    responses=errors({403: "only the ad's owner or an admin changes it", 404: "no such ad"}),
)
def update_ad(ad_id: AdId, body: AdUpdate, user: CurrentUser, session: DbSession) -> AdPublic:
    """Rename or (de)activate an ad (its owner or an admin)."""
    ad = catalogue.update_ad(session, user, ad_id, title=body.title, active=body.active)
    return AdPublic.model_validate(ad)
