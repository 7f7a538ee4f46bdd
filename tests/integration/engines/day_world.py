"""Crafted days for the engine conformance tests: the batch tests' world (catalogue through
the models, watch logs through the one writer, as production stores them) with rate cards,
earlier days' statistics and a sample day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from streamsettle.db.models import RateCard, RateCardTier
from tests.integration.batch.batch_world import World


class DayWorld(World):
    def rate_card(self, effective_from: date, video: list[tuple[int, str]],
                  ad: list[tuple[int, str]]) -> int:  # fmt: skip
        with self.runtime.db.session() as session:
            card = RateCard(effective_from=effective_from)
            card.tiers = [
                RateCardTier(kind=kind, from_views=f, unit_price=Decimal(p))
                for kind, tiers in (("video", video), ("ad", ad))
                for f, p in tiers
            ]
            session.add(card)
            session.flush()
            return int(card.id)

    def history(self, day: date, video: int, creator: int, views: int,
                ads: dict[int, int] | None = None) -> None:  # fmt: skip
        """An earlier day's statistics (to start a video or a pair high in the tiers)."""
        self.stats(day, video, views, creator=creator)
        for ad, ad_views in (ads or {}).items():
            self.ad_stats(day, video, ad, ad_views)

    def sample_day(self, day: date) -> list[int]:
        """Three videos of two creators with ads, repeats by IP and self views; the videos."""
        creator, other, advertiser = (
            self.user("creator"),
            self.user("creator"),
            self.user("advertiser"),
        )
        videos = [self.video(creator), self.video(other), self.video(creator)]
        first, second = self.ad(advertiser), self.ad(advertiser)
        start = self.at(day, "12:00:00")
        with self.batch():
            for n, video in enumerate(videos):
                for i in range(4):
                    at = start + timedelta(seconds=10 * i + n)
                    self.log(video, at, ip=f"10.0.{n}.{i % 2}", watched=400 + i,
                             slots={300: first if i % 2 else second})  # fmt: skip
                self.log(video, start, viewer=creator, ip="10.9.9.9", watched=90)
        return videos
