"""Settled days written straight into the daily tables, for tests that read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from streamsettle.db.models import DailySettlement, DailyVideoStats


def add_video_stats(
    session: Session,
    keys: dict[str, Any],
    *,
    views: int,
    watched: int,
    ad_views: int,
    sessions: int | None = None,
    repeat_views: int = 0,
) -> None:
    """A video's day of statistics (``keys``: business_date, video_id, creator_id); by
    default every session a counted view."""
    session.add(
        DailyVideoStats(
            **keys,
            sessions=views if sessions is None else sessions,
            views=views,
            self_views=0,
            repeat_views=repeat_views,
            watched_seconds=watched,
            ad_views=ad_views,
        )
    )


def add_settlement(
    session: Session,
    keys: dict[str, Any],
    *,
    views: int,
    ad_views: int,
    video_amount: int,
    ad_amount: int,
) -> None:
    """A video's day settled with rate card 1 and no earlier views."""
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
    """A video's day as the batch leaves it: its statistics and its settlement."""
    add_video_stats(session, keys, views=views, watched=watched, ad_views=ad_views)
    amounts = {"video_amount": video_amount, "ad_amount": ad_amount}
    add_settlement(session, keys, views=views, ad_views=ad_views, **amounts)
