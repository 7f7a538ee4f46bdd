"""The demo data set behind ``make run``: accounts, a small catalogue, two weeks of settlements.

Everything goes through the real paths: accounts and catalogue services, the watch log
importer, then the daily batch over each day, so the page shows what the platform computes.
The watch logs are drawn from a fixed seed by the generator's viewer model (``model``):
about 14 business days ending yesterday, a few hundred to a couple of thousand sessions a
day, with anonymous viewers, self views (a creator watching their own video), repeat views
(the same viewer again within seconds) and mid-roll ad slots reached.

The accounts use the reserved ``.test`` domain (``accounts`` refuses ``.local``, and so
does login), so they can never be somebody's real address.

Idempotent: the admin account is created last, as the mark of a finished load. If it
exists, nothing is done; if an earlier load stopped half-way, running it again reuses the
accounts and videos it made, skips the logs already imported and the days already settled.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from streamsettle.db.models import Ad, User, Video
from streamsettle.domain.periods import DateRange, previous_business_date
from streamsettle.errors import BatchRefused, InvalidInput
from streamsettle.runtime import Runtime
from streamsettle.services import batch, catalogue
from streamsettle.services.identity import accounts
from streamsettle.services.ingest import importer
from streamsettle.synthetic import model
from streamsettle.synthetic.formats import jsonl
from streamsettle.synthetic.plan import business_days

DEMO_PASSWORD = "demo-password"
ADMIN_EMAIL = "admin@demo.test"
CREATORS = (
    ("creator1@demo.test", "Creator One"),
    ("creator2@demo.test", "Creator Two"),
)
ADVERTISER = ("advertiser@demo.test", "Demo Advertiser")
VIEWERS = 12
VIDEOS: dict[str, tuple[tuple[str, int], ...]] = {
    "creator1@demo.test": (
        ("Seoul street food at night", 1260),
        ("Hiking Bukhansan in one day", 1800),
        ("Five-minute kimchi", 420),
        ("Rainy cafe jazz", 960),
    ),
    "creator2@demo.test": (
        ("Learning Korean: lesson 1", 900),
        ("Han river bike tour", 1500),
        ("Mechanical keyboard build", 660),
    ),
}
ADS = (("Hot sauce", 15), ("Sneakers", 20), ("Language app", 30))


@dataclass(frozen=True)
class DemoAccount:
    email: str
    roles: tuple[str, ...]
    password: str = DEMO_PASSWORD


@dataclass
class DemoResult:
    created: bool
    accounts: list[DemoAccount]
    dates: DateRange | None = None
    logs_inserted: int = 0
    logs_duplicate: int = 0
    runs: list[tuple[date, str]] = field(default_factory=list)


DEMO_ACCOUNTS = [
    DemoAccount(ADMIN_EMAIL, ("admin",)),
    *(DemoAccount(email, ("creator",)) for email, _ in CREATORS),
    DemoAccount(ADVERTISER[0], ("advertiser",)),
]


@dataclass(frozen=True)
class _Video:
    id: int
    creator_id: int
    duration: int
    slots: tuple[int, ...]


@dataclass(frozen=True)
class _Cast:
    """Who and what the generated sessions refer to."""

    videos: list[_Video]
    viewer_ids: list[int]


def _user(session: Session, email: str, name: str, roles: list[str], password: str | None) -> User:
    existing = accounts.get_user_by_email(session, email)
    if existing is not None:
        return existing
    return accounts.create_user(
        session, email=email, password=password, display_name=name, roles=roles
    )


def _cast(session: Session) -> _Cast:
    """Accounts (but not the admin), ads and videos, reusing those a stopped load made."""
    advertiser = _user(session, *ADVERTISER, ["advertiser"], DEMO_PASSWORD)
    if session.scalar(select(Ad.id).where(Ad.owner_id == advertiser.id).limit(1)) is None:
        for title, seconds in ADS:
            catalogue.create_ad(session, advertiser, title=title, duration_seconds=seconds)
    videos: list[_Video] = []
    for email, name in CREATORS:
        creator = _user(session, email, name, ["creator"], DEMO_PASSWORD)
        owned = list(
            session.scalars(select(Video).where(Video.creator_id == creator.id).order_by(Video.id))
        )
        if not owned:
            owned = [
                catalogue.create_video(session, creator, title=title, duration_seconds=seconds)
                for title, seconds in VIDEOS[email]
            ]
        videos.extend(
            _Video(
                v.id,
                v.creator_id,
                v.duration_seconds,
                tuple(s.position_seconds for s in v.ad_slots),
            )
            for v in owned
        )
    viewers = [
        _user(session, f"viewer{n:02d}@demo.test", f"Viewer {n}", ["viewer"], None).id
        for n in range(1, VIEWERS + 1)
    ]
    return _Cast(videos, viewers)


SHARES = model.Shares(anonymous=0.35, self_view=0.04, repeat=0.08)


def watch_log_lines(cast: _Cast, dates: DateRange, tz: ZoneInfo, seed: int) -> Iterator[bytes]:
    """Deterministic watch logs (JSON lines) for ``dates``, busier on weekends, drawn by the
    generator's viewer model (``synthetic.model``) over the demo's accounts and videos. A
    repeat that would start after midnight is left out, so every log is of a settled day."""
    rng = random.Random(seed)
    order = list(range(len(cast.videos)))
    rng.shuffle(order)
    cum = model.zipf_cumulative(len(order), 1.0)
    tables = model.Tables(
        seed=seed,
        run_tag=model.run_tag(seed, cast.videos[0].id, cast.viewer_ids[0]),
        shares=SHARES,
        days=business_days(dates.start, dates.day_count, tz),
        video_ids=np.array([v.id for v in cast.videos], dtype=np.int32),
        video_durations=np.array([v.duration for v in cast.videos], dtype=np.int32),
        video_creators=np.array([v.creator_id for v in cast.videos], dtype=np.int64),
        creator_ips=np.array(
            [model.creator_ip(v.creator_id) for v in cast.videos], dtype=np.uint32
        ),
        popular_videos=np.array(order, dtype=np.int64),
        popularity_cum=cum,
        popularity_guide=model.zipf_guide(cum),
        viewer_ids=np.array(cast.viewer_ids, dtype=np.int64),
        # The import takes each reached slot's ad from the catalogue, the user agent's id
        # from the dictionary: the lines carry neither.
        ad_ids=np.zeros(0, dtype=np.int64),
        agent_ids=np.zeros(len(model.USER_AGENTS), dtype=np.int64),
    )
    for index, day in enumerate(dates.days()):
        unit = model.Unit(index, 0, rng.randint(250, 900) * (2 if day.weekday() >= 5 else 1))
        drawn = model.draw(tables, unit)
        # The rows of the next day come last.
        yield from jsonl(tables, unit, drawn).splitlines()[: drawn.today]


def demo_exists(runtime: Runtime) -> bool:
    with runtime.db.session() as session:
        return accounts.get_user_by_email(session, ADMIN_EMAIL) is not None


def load_demo(
    runtime: Runtime,
    *,
    days: int = 14,
    seed: int = 20261130,
    now: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Load the demo unless it exists; ``days`` business days ending yesterday."""
    say = on_step or (lambda _message: None)
    if demo_exists(runtime):
        return DemoResult(created=False, accounts=DEMO_ACCOUNTS)
    last = previous_business_date(now or datetime.now(UTC), runtime.settings.tz)
    dates = DateRange(last - timedelta(days=days - 1), last)
    say("creating accounts, ads and videos")
    with runtime.db.session() as session:
        cast = _cast(session)
    say(f"importing watch logs for {dates.start} to {dates.end}")
    imported = importer.import_watch_logs(
        runtime, watch_log_lines(cast, dates, runtime.settings.tz, seed)
    )
    if imported.rejected:
        first = imported.rejected[0]
        raise InvalidInput(f"demo watch log line {first.line} rejected: {first.error}")
    say(f"running the daily batch for {dates.day_count} days")
    runs = batch.run_range(runtime, dates.start, dates.end, skip_completed=True, now=now)
    failed = [run for run in runs if run.status != "completed"]
    if failed:
        run = failed[0]
        raise BatchRefused(f"the batch failed for {run.business_date} (run {run.id}): {run.error}")
    with runtime.db.session() as session:
        _user(session, ADMIN_EMAIL, "Demo Admin", ["admin"], DEMO_PASSWORD)
    return DemoResult(
        created=True,
        accounts=DEMO_ACCOUNTS,
        dates=dates,
        logs_inserted=imported.inserted,
        logs_duplicate=imported.duplicates,
        runs=[(run.business_date, run.status) for run in runs],
    )
