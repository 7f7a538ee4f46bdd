"""Settled days written straight into the daily tables, for tests that read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from streamsettle.db.models import DailySettlement, DailyVideoStats


def add_settled_day(
    session: Session,
    keys: dict[str, Any],
    *,
    views: int,
    watched: int,
    ad_views: int,
    video_amount: int,
    ad_amount: int,
) -> None:
    """A video's day as the batch leaves it (``keys``: business_date, video_id, creator_id):
    every session a counted view, settled with rate card 1 and no earlier views."""
    session.add(
        DailyVideoStats(
            **keys,
            sessions=views,
            views=views,
            self_views=0,
            repeat_views=0,
            watched_seconds=watched,
            ad_views=ad_views,
        )
    )
    session.add(
        DailySettlement(
            **keys,
            rate_card_id=1,
            views=views,
            views_before=0,
            ad_views=ad_views,
            video_amount=video_amount,
            ad_amount=ad_amount,
            total_amount=video_amount + ad_amount,
        )
    )
