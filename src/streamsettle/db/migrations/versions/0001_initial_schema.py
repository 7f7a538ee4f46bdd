"""Initial schema.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from streamsettle.db.ddl import PLAYBACK_STATE, Fk, create_table

revision, down_revision = "0001", None

_KNOWN_STATUS = {"known_status": "status IN ('running', 'completed', 'failed')"}
_USER = "users.id"
_USER_CASCADE = Fk("user_id", _USER, "CASCADE")
_AD, _VIDEO, _RATE_CARD = (
    Fk("ad_id", "ads.id"),
    Fk("video_id", "videos.id"),
    Fk("rate_card_id", "rate_cards.id"),
)


def upgrade() -> None:
    create_table(
        "batch_runs",
        "id:id* business_date:date^ status:str(10) partitions:int worker:str(200) started_at:ts"
        " heartbeat_at:ts finished_at:ts? error:text?",
        checks=_KNOWN_STATUS,
    )
    running = sa.text("status = 'running'")
    op.create_index(
        "uq_batch_runs_one_running_per_date",
        "batch_runs",
        ["business_date"],
        unique=True,
        postgresql_where=running,
        sqlite_where=running,
    )
    create_table("leases", "name:str(100)* holder:str(200) expires_at:ts")
    create_table("revoked_access_tokens", "jti:str(64)* expires_at:ts^")
    create_table(
        "users",
        "id:id* email:str(320) display_name:str(200) password_hash:str(200)? created_at:ts",
        unique=[["email"]],
    )
    create_table(
        "ads",
        "id:id* owner_id:id^ title:str(300) duration_seconds:int active:bool created_at:ts",
        checks={"positive_duration": "duration_seconds > 0"},
        fks=[Fk("owner_id", _USER)],
    )
    create_table(
        "batch_steps",
        "id:id* run_id:id name:str(50) partition:int status:str(10) rows:big started_at:ts"
        " finished_at:ts? error:text?",
        checks=_KNOWN_STATUS,
        fks=[Fk("run_id", "batch_runs.id", "CASCADE")],
        unique=[["run_id", "name", "partition"]],
    )
    create_table(
        "oidc_identities",
        "id:id* user_id:id^ issuer:str(500) subject:str(255) created_at:ts",
        fks=[_USER_CASCADE],
        unique=[["issuer", "subject"]],
    )
    create_table(
        "rate_cards",
        "id:id* effective_from:date created_at:ts created_by:id?",
        fks=[Fk("created_by", _USER)],
        unique=[["effective_from"]],
    )
    create_table(
        "refresh_tokens",
        "id:id* user_id:id family_id:uuid token_hash:str(64) issued_at:ts expires_at:ts"
        " used_at:ts? revoked_at:ts?",
        fks=[_USER_CASCADE],
        unique=[["token_hash"]],
        indexes={
            "ix_refresh_tokens_family": ["family_id"],
            "ix_refresh_tokens_user_id": ["user_id"],
        },
    )
    create_table(
        "user_roles",
        "user_id:id* role:str(20)*",
        fks=[_USER_CASCADE],
        checks={"known_role": "role IN ('viewer', 'creator', 'advertiser', 'admin')"},
    )
    create_table(
        "videos",
        "id:id* creator_id:id^ title:str(300) duration_seconds:int created_at:ts",
        checks={"duration_range": "duration_seconds BETWEEN 1 AND 86400"},
        fks=[Fk("creator_id", _USER)],
    )
    create_table(
        "ad_slots",
        "video_id:id* position_seconds:int* ad_id:id?^",
        checks={"positive_position": "position_seconds > 0"},
        fks=[_AD, Fk("video_id", "videos.id", "CASCADE")],
    )
    create_table(
        "daily_ad_settlements",
        "business_date:date* video_id:id* ad_id:id* rate_card_id:id ad_views:big ad_views_before:big"
        " amount:big",
        checks={"non_negative": "ad_views >= 0 AND ad_views_before >= 0 AND amount >= 0"},
        fks=[_AD, _RATE_CARD, _VIDEO],
        indexes={"ix_daily_ad_settlements_ad_date": ["ad_id", "business_date"]},
    )
    create_table(
        "daily_ad_stats",
        "business_date:date* ad_id:id* owner_id:id ad_views:big",
        checks={"non_negative": "ad_views >= 0"},
        fks=[_AD, Fk("owner_id", _USER)],
        indexes={"ix_daily_ad_stats_owner_date": ["owner_id", "business_date"]},
    )
    create_table(
        "daily_settlements",
        "business_date:date* video_id:id* creator_id:id rate_card_id:id views:big views_before:big"
        " ad_views:big video_amount:big ad_amount:big total_amount:big",
        checks={
            "total_adds_up": "total_amount = video_amount + ad_amount",
            "non_negative": "views >= 0 AND ad_views >= 0 AND views_before >= 0"
            " AND video_amount >= 0 AND ad_amount >= 0",
        },
        fks=[Fk("creator_id", _USER), _RATE_CARD, _VIDEO],
        indexes={
            "ix_daily_settlements_creator_date": ["creator_id", "business_date"],
            "ix_daily_settlements_video_date": ["video_id", "business_date"],
        },
    )
    create_table(
        "daily_video_ad_stats",
        "business_date:date* video_id:id* ad_id:id* ad_views:big",
        checks={"non_negative": "ad_views >= 0"},
        fks=[_AD, _VIDEO],
        indexes={
            "ix_daily_video_ad_stats_ad_date": ["ad_id", "business_date"],
            "ix_daily_video_ad_stats_pair_date": ["video_id", "ad_id", "business_date"],
        },
    )
    create_table(
        "daily_video_stats",
        "business_date:date* video_id:id* creator_id:id sessions:big views:big self_views:big"
        " repeat_views:big watched_seconds:big ad_views:big",
        checks={
            "non_negative": "views >= 0 AND watched_seconds >= 0 AND ad_views >= 0"
            " AND sessions >= 0 AND self_views >= 0 AND repeat_views >= 0"
        },
        fks=[Fk("creator_id", _USER), _VIDEO],
        indexes={
            "ix_daily_video_stats_creator_date": ["creator_id", "business_date"],
            "ix_daily_video_stats_video_date": ["video_id", "business_date"],
        },
    )
    create_table(
        "view_classifications",
        "business_date:date* video_id:id* session_id:uuid* kind:str(7) watched_seconds:big",
        checks={"known_kind": "kind IN ('counted', 'self', 'repeat')"},
    )
    create_table(
        "live_playback_sessions",
        f"id:uuid* video_id:id viewer_id:id? {PLAYBACK_STATE} state:str(10) last_seen_at:ts ended_at:ts?",
        checks={"known_state": "state IN ('live', 'stopped')"},
        fks=[_VIDEO, Fk("viewer_id", _USER)],
        indexes={"ix_live_playback_sessions_state_last_seen": ["state", "last_seen_at"]},
    )
    create_table(
        "rate_card_tiers",
        "rate_card_id:id* kind:str(5)* from_views:big* unit_price:num(18,6)",
        checks={
            "known_kind": "kind IN ('video', 'ad')",
            "from_non_negative": "from_views >= 0",
            "price_non_negative": "unit_price >= 0",
        },
        fks=[Fk("rate_card_id", "rate_cards.id", "CASCADE")],
    )
    create_table(
        "resume_positions",
        "viewer_id:id* video_id:id* position_seconds:num(12,3) left_at:ts",
        fks=[Fk("video_id", "videos.id", "CASCADE"), Fk("viewer_id", _USER, "CASCADE")],
    )
    create_table(
        "watch_logs",
        "session_id:uuid* business_date:date video_id:id viewer_id:id? ip:str(45) user_agent:text"
        " started_at:ts ended_at:ts start_position_seconds:num(12,3) end_position_seconds:num(12,3)"
        " watched_seconds:big",
        checks={
            "end_non_negative": "end_position_seconds >= 0",
            "ends_after_start": "ended_at >= started_at",
            "start_non_negative": "start_position_seconds >= 0",
            "watched_non_negative": "watched_seconds >= 0",
        },
        fks=[_VIDEO, Fk("viewer_id", _USER)],
        indexes={"ix_watch_logs_business_date_video_id": ["business_date", "video_id"]},
    )
    create_table(
        "watch_log_ad_slots",
        "session_id:uuid* position_seconds:int* ad_id:id?",
        checks={"positive_position": "position_seconds > 0"},
        fks=[_AD, Fk("session_id", "watch_logs.session_id", "CASCADE")],
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; the order is the reverse of the upgrade's.
    tables = (
        "batch_runs leases revoked_access_tokens users ads batch_steps oidc_identities rate_cards"
        " refresh_tokens user_roles videos ad_slots daily_ad_settlements daily_ad_stats"
        " daily_settlements daily_video_ad_stats daily_video_stats view_classifications"
        " live_playback_sessions rate_card_tiers resume_positions watch_logs watch_log_ad_slots"
    )
    for table in reversed(tables.split()):
        op.drop_table(table)
