"""Password login, refresh-token rotation with reuse detection, and logout.

A login starts a *family* of refresh tokens. Each refresh spends the presented token and
issues the next one of the same family. A refresh token is opaque random text; only its
SHA-256 is stored, so a database leak does not leak usable tokens. Presenting a token that
was already spent means two parties hold it (a thief or a replay), so the whole family is
revoked: the legitimate holder has to log in again, and so does the thief. Access tokens
carry their family id (the ``fam`` claim), so revoking a family refuses its access tokens
at once too (``services.identity.revocation``); logout revokes the caller's whole login that way.

Logins and refreshes count against the rate limits of ``services.rate_limit`` (per address
and per account) before any password is checked, and passwords are checked on the bounded
pool of ``services.identity.passwords``.

Spending is a conditional ``UPDATE … WHERE used_at IS NULL AND revoked_at IS NULL``: of two
requests racing with the same token exactly one updates the row; the other counts as reuse.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from streamsettle.config import Settings
from streamsettle.db.base import utcnow
from streamsettle.db.models import RefreshToken, User
from streamsettle.errors import AuthenticationFailed, InvalidInput
from streamsettle.runtime import Runtime
from streamsettle.services.identity import revocation
from streamsettle.services.identity.accounts import get_user_by_email, normalize_email
from streamsettle.services.identity.passwords import hash_password, needs_rehash, password_pool
from streamsettle.services.identity.tokens import AccessClaims, issue_access_token
from streamsettle.services.rate_limit import (
    enforce,
    login_limits,
    refresh_account_limits,
    refresh_ip_limits,
)

BAD_CREDENTIALS = "incorrect email or password"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown emails, so both failures take the same time."""
    return hash_password(secrets.token_urlsafe(16))


def issue_token_pair(
    session: Session,
    settings: Settings,
    user: User,
    *,
    family_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> TokenPair:
    """A fresh access token and a refresh token of ``family_id`` (a new family if None)."""
    now = now or utcnow()
    family_id = family_id or uuid.uuid4()
    access_token, _ = issue_access_token(
        settings, user.id, user.roles, now=now, family_id=family_id
    )
    refresh_token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_refresh_token(refresh_token),
            issued_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
        )
    )
    session.flush()
    return TokenPair(access_token, refresh_token, settings.access_token_ttl_seconds)


def login(
    session: Session,
    runtime: Runtime,
    *,
    email: str,
    password: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> TokenPair:
    """Check the password and start a new token family; one message for every failure.

    ``ip`` is the client's address for its rate limit (None: not a network client)."""
    enforce(runtime, login_limits(runtime.settings, ip, email), "login attempts")
    pool = password_pool(runtime)
    try:
        user = get_user_by_email(session, normalize_email(email))
    except InvalidInput:  # not even an email: fail like an unknown one
        user = None
    if user is None or user.password_hash is None:
        pool.verify(_dummy_hash(), password)
        raise AuthenticationFailed(BAD_CREDENTIALS)
    if not pool.verify(user.password_hash, password):
        raise AuthenticationFailed(BAD_CREDENTIALS)
    if needs_rehash(user.password_hash):
        user.password_hash = pool.hash(password)
    return issue_token_pair(session, runtime.settings, user, now=now)


def _revoke_family(session: Session, runtime: Runtime, family_id: uuid.UUID, now: datetime) -> None:
    """Revoke a login: its refresh tokens and, by their ``fam`` claim, its access tokens."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    revocation.revoke_family(session, runtime, family_id, now)


def _rotate(session: Session, runtime: Runtime, token_hash: str, now: datetime) -> TokenPair | None:
    """The next pair, or None after revoking the family of a reused token (to be committed)."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
    if row is None:
        raise AuthenticationFailed("invalid refresh token")
    enforce(runtime, refresh_account_limits(runtime.settings, row.user_id), "token refreshes")
    if row.revoked_at is not None:
        raise AuthenticationFailed("refresh token revoked")
    if row.used_at is not None:
        _revoke_family(session, runtime, row.family_id, now)
        return None
    if row.expires_at <= now:
        raise AuthenticationFailed("refresh token expired")
    spent = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == row.id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        _revoke_family(session, runtime, row.family_id, now)  # a concurrent request spent it
        return None
    user = session.get(User, row.user_id)
    if user is None:  # pragma: no cover - the cascade deletes the tokens with the user
        raise AuthenticationFailed("invalid refresh token")
    return issue_token_pair(session, runtime.settings, user, family_id=row.family_id, now=now)


def refresh(
    runtime: Runtime, refresh_token: str, now: datetime | None = None, ip: str | None = None
) -> TokenPair:
    """Spend ``refresh_token`` for a new pair; a reused token revokes its whole family.

    Runs its own unit of work because the family's revocation must be committed even
    though the caller gets an error. ``ip`` as for ``login``.
    """
    enforce(runtime, refresh_ip_limits(runtime.settings, ip), "token refreshes")
    now = now or utcnow()
    with runtime.db.session() as session:
        pair = _rotate(session, runtime, hash_refresh_token(refresh_token), now)
    if pair is None:
        raise AuthenticationFailed(
            "refresh token already used: every token of this login has been revoked"
        )
    return pair


def logout(runtime: Runtime, claims: AccessClaims, refresh_token: str | None = None) -> None:
    """Revoke the caller's whole login: the access token, its family (``fam``: every refresh
    and access token of the login) and, when given, the family of ``refresh_token``.

    A refresh token that is unknown or belongs to someone else is left alone (logout stays
    idempotent and reveals nothing). One transaction; Redis is written before it commits.
    """
    now = utcnow()
    with runtime.db.session() as session:
        families = set() if claims.family_id is None else {claims.family_id}
        if refresh_token is not None:
            row = session.scalar(
                select(RefreshToken).where(
                    RefreshToken.token_hash == hash_refresh_token(refresh_token)
                )
            )
            if row is not None and row.user_id == claims.user_id:
                families.add(row.family_id)
        revocation.revoke_token(session, runtime, claims, now)
        for family_id in sorted(families):
            _revoke_family(session, runtime, family_id, now)
