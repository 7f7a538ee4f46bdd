"""The day's result tables computed from the pure domain rules, row by row in Python: the
reference every engine is checked against (small days only)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC
from typing import Any

import pyarrow as pa

from streamsettle.domain.money import truncate_krw
from streamsettle.domain.pricing import TierSchedule, price_views
from streamsettle.domain.views import LogKey, ViewKind, classify_views
from streamsettle.services.batch.engines.day import RESULT_COLUMNS, DayInputs, DayResults


def _schedule(tiers: pa.Table, kind: str) -> TierSchedule:
    rows = sorted(
        (r["from_views"], r["unit_price"]) for r in tiers.to_pylist() if r["kind"] == kind
    )
    return TierSchedule.from_pairs(rows)


def reference_results(inputs: DayInputs) -> DayResults:
    params = inputs.params
    day = params.day
    creators = {r["video_id"]: r["creator_id"] for r in inputs.videos.to_pylist()}
    owners = {r["ad_id"]: r["owner_id"] for r in inputs.ads.to_pylist()}
    views_before = {r["video_id"]: r["views_before"] for r in inputs.video_before.to_pylist()}
    pair_before = {
        (r["video_id"], r["ad_id"]): r["ad_views_before"] for r in inputs.pair_before.to_pylist()
    }
    logs = inputs.logs.to_pylist()
    kinds = classify_views(
        (
            LogKey(
                session_id=row["session_id"].hex(),
                video_id=row["video_id"],
                viewer_id=row["viewer_id"],
                ip=row["ip"].hex(),
                started_at=row["started_at"].replace(tzinfo=UTC),
                creator_id=creators[row["video_id"]],
            )
            for row in logs
        ),
        window_seconds=params.window_seconds,
    )
    classifications: list[dict[str, Any]] = []
    counts: defaultdict[int, Counter[str]] = defaultdict(Counter)
    watched: Counter[int] = Counter()
    pair_views: Counter[tuple[int, int]] = Counter()
    for row in logs:
        if row["business_date"] != day:
            continue
        video, kind = row["video_id"], kinds[row["session_id"].hex()]
        counts[video][kind] += 1
        if kind.counts_watch_time:
            watched[video] += row["watched_seconds"]
        if kind.counts_view:
            for ad in row["ad_ids"] or ():
                if ad is not None:
                    pair_views[video, ad] += 1
        else:
            classifications.append(
                {
                    "business_date": day,
                    "video_id": video,
                    "session_id": str(uuid.UUID(bytes=row["session_id"])),
                    "kind": str(kind),
                    "watched_seconds": row["watched_seconds"],
                }
            )
    video_tiers, ad_tiers = _schedule(inputs.tiers, "video"), _schedule(inputs.tiers, "ad")
    card = params.rate_card_id
    ad_settlements = []
    ad_amount: Counter[int] = Counter()
    ad_views_of_video: Counter[int] = Counter()
    ad_views_of_ad: Counter[int] = Counter()
    for (video, ad), n in pair_views.items():
        before = pair_before.get((video, ad), 0)
        amount = truncate_krw(price_views(ad_tiers, before, n))
        ad_amount[video] += amount
        ad_views_of_video[video] += n
        ad_views_of_ad[ad] += n
        ad_settlements.append(
            {"business_date": day, "video_id": video, "ad_id": ad, "rate_card_id": card,
             "ad_views": n, "ad_views_before": before, "amount": amount}
        )  # fmt: skip
    video_stats, settlements = [], []
    creator_totals: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for video, c in counts.items():
        views = c[ViewKind.COUNTED]
        creator = creators[video]
        video_stats.append(
            {"business_date": day, "video_id": video, "creator_id": creator,
             "sessions": sum(c.values()), "views": views, "self_views": c[ViewKind.SELF],
             "repeat_views": c[ViewKind.REPEAT], "watched_seconds": watched[video],
             "ad_views": ad_views_of_video[video]}
        )  # fmt: skip
        before = views_before.get(video, 0)
        video_amount = truncate_krw(price_views(video_tiers, before, views))
        figures = {
            "views": views,
            "ad_views": ad_views_of_video[video],
            "video_amount": video_amount,
            "ad_amount": ad_amount[video],
            "total_amount": video_amount + ad_amount[video],
        }
        settlements.append(
            {"business_date": day, "video_id": video, "creator_id": creator,
             "rate_card_id": card, "views_before": before, **figures}
        )  # fmt: skip
        creator_totals[creator].update(figures)
    tables = {
        "view_classifications": classifications,
        "daily_video_stats": video_stats,
        "daily_ad_stats": [
            {"business_date": day, "ad_id": a, "owner_id": owners[a], "ad_views": n}
            for a, n in ad_views_of_ad.items()
        ],
        "daily_ad_settlements": ad_settlements,
        "daily_settlements": settlements,
        "daily_creator_settlements": [
            {"business_date": day, "creator_id": creator, **{k: totals[k] for k in (
                "views", "ad_views", "video_amount", "ad_amount", "total_amount")}}
            for creator, totals in creator_totals.items()
        ],
    }  # fmt: skip
    return DayResults(
        {
            name: pa.Table.from_pylist(rows) if rows else _empty(name)
            for name, rows in tables.items()
        }
    )


def _empty(name: str) -> pa.Table:
    return pa.table({column: pa.array([], pa.null()) for column in RESULT_COLUMNS[name]})
