"""Admin routes of rate cards: add a version, list the versions."""

from __future__ import annotations

from fastapi import APIRouter

from streamsettle.api.deps import CREATES, AdminUser
from streamsettle.api.openapi import errors
from streamsettle.api.schemas.batch import (
    RateCardCreate,
    RateCardList,
    RateCardPublic,
    TierPublic,
)
from streamsettle.db.models import RateCard
from streamsettle.http.deps import DbSession
from streamsettle.services import rate_cards

router = APIRouter(prefix="/api/v1", tags=["rate-cards"])


def _public(card: RateCard) -> RateCardPublic:
    def tiers(kind: str) -> list[TierPublic]:
        rows = sorted((t for t in card.tiers if t.kind == kind), key=lambda t: t.from_views)
        return [
            TierPublic(from_views=t.from_views, unit_price=rate_cards.price_text(t.unit_price))
            for t in rows
        ]

    return RateCardPublic(
        id=card.id,
        effective_from=card.effective_from,
        created_at=card.created_at,
        created_by=card.created_by,
        video_tiers=tiers("video"),
        ad_tiers=tiers("ad"),
    )


@router.post(
    "/admin/rate-cards",
    response_model=RateCardPublic,
    responses=errors({409: "a version already starts on that date"}),
    **CREATES,
)
def create_rate_card(body: RateCardCreate, admin: AdminUser, session: DbSession) -> RateCardPublic:
    """Add a version, in force from ``effective_from`` until the next version."""
    card = rate_cards.create_rate_card(
        session,
        effective_from=body.effective_from,
        video_tiers=[(t.from_views, t.unit_price) for t in body.video_tiers],
        ad_tiers=[(t.from_views, t.unit_price) for t in body.ad_tiers],
        created_by=admin.id,
    )
    return _public(card)


@router.get("/admin/rate-cards", response_model=RateCardList)
def list_rate_cards(_: AdminUser, session: DbSession) -> RateCardList:
    """Every version, oldest first; unit prices as decimal strings."""
    return RateCardList(items=[_public(c) for c in rate_cards.list_rate_cards(session)])
