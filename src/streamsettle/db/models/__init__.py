"""All tables, importable from one place (Alembic and the tests need the full metadata)."""

from streamsettle.db.models.accounts import (
    ROLES,
    OidcIdentity,
    RefreshToken,
    RevokedAccessToken,
    RevokedTokenFamily,
    User,
    UserRole,
)
from streamsettle.db.models.batch import BatchRun, BatchStep, Lease, RerunMark
from streamsettle.db.models.catalogue import Ad, AdSlot, Video
from streamsettle.db.models.playback import (
    LivePlaybackSession,
    PlaybackCheckpoint,
    ResumePosition,
    UserAgent,
    WatchLog,
    WatchLogArchive,
    WatchLogBlock,
)
from streamsettle.db.models.settlement import (
    DailyAdSettlement,
    DailyCreatorSettlement,
    DailySettlement,
    RateCard,
    RateCardTier,
)
from streamsettle.db.models.statements import (
    Statement,
    StatementAdjustment,
    StatementDay,
    StatementLine,
    StatementMonth,
)
from streamsettle.db.models.statistics import (
    DailyAdStats,
    DailyVideoStats,
    PeriodVideoStats,
    ViewClassification,
)

__all__ = [
    "ROLES",
    "Ad",
    "AdSlot",
    "BatchRun",
    "BatchStep",
    "DailyAdSettlement",
    "DailyAdStats",
    "DailyCreatorSettlement",
    "DailySettlement",
    "DailyVideoStats",
    "Lease",
    "LivePlaybackSession",
    "OidcIdentity",
    "PeriodVideoStats",
    "PlaybackCheckpoint",
    "RateCard",
    "RateCardTier",
    "RefreshToken",
    "RerunMark",
    "ResumePosition",
    "RevokedAccessToken",
    "RevokedTokenFamily",
    "Statement",
    "StatementAdjustment",
    "StatementDay",
    "StatementLine",
    "StatementMonth",
    "User",
    "UserAgent",
    "UserRole",
    "Video",
    "ViewClassification",
    "WatchLog",
    "WatchLogArchive",
    "WatchLogBlock",
]
