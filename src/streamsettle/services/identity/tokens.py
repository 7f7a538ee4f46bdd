"""JWT access tokens: short-lived, signed with one pinned algorithm, revocable by ``jti``
and, through the ``fam`` claim (the refresh-token family of the login), with their login.

The algorithm is fixed by configuration and passed to PyJWT as the only accepted one, so
``alg: none`` or a token signed for another algorithm or key is refused.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from streamsettle.config import Settings
from streamsettle.errors import AuthenticationFailed

MAX_USER_ID = 2**63 - 1  # users.id is a bigint


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    roles: tuple[str, ...]
    jti: str
    expires_at: datetime
    family_id: uuid.UUID | None = None
    """The login (refresh-token family) the token belongs to; None for a token issued alone."""

    def has_role(self, role: str) -> bool:
        return role in self.roles


def _signing_key(settings: Settings) -> str:
    if settings.jwt_private_key_file is not None:
        return settings.jwt_private_key_file.read_text()
    return settings.jwt_secret.get_secret_value()


def issue_access_token(
    settings: Settings,
    user_id: int,
    roles: list[str],
    now: datetime | None = None,
    *,
    family_id: uuid.UUID | None = None,
) -> tuple[str, AccessClaims]:
    now = now or datetime.now(UTC)
    expires_at = now + timedelta(seconds=settings.access_token_ttl_seconds)
    claims = AccessClaims(
        user_id=user_id,
        roles=tuple(roles),
        jti=uuid.uuid4().hex,
        expires_at=expires_at,
        family_id=family_id,
    )
    payload = {
        "sub": str(user_id),
        "roles": list(roles),
        "jti": claims.jti,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    if family_id is not None:
        payload["fam"] = str(family_id)
    token = jwt.encode(payload, _signing_key(settings), algorithm=settings.jwt_algorithm)
    return token, claims


def decode_access_token(
    settings: Settings, token: str, now: datetime | None = None
) -> AccessClaims:
    """The claims of a valid, unexpired access token; ``AuthenticationFailed`` otherwise.

    A verified token is remembered by its exact text: a player sends the same token with
    every heartbeat for the token's whole life, and checking the signature again each time
    cost ~100 µs, half of a heartbeat's CPU. Expiry is checked on every use;
    revocation is checked by the callers, as before.
    """
    key_file = settings.jwt_public_key_file
    key_source = str(key_file) if key_file is not None else settings.jwt_secret.get_secret_value()
    claims = _verified(settings.jwt_algorithm, key_source, key_file is not None, token)
    if claims.expires_at.timestamp() <= (time.time() if now is None else now.timestamp()):
        raise AuthenticationFailed("access token expired")
    return claims


@functools.lru_cache(maxsize=32_768)
def _verified(algorithm: str, key_source: str, key_is_file: bool, token: str) -> AccessClaims:
    """Signature and shape of a token, expiry aside (a failure raises and is not cached)."""
    key = Path(key_source).read_text() if key_is_file else key_source
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            options={"require": ["exp", "sub", "jti"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("invalid access token") from exc
    return _claims(payload)


def _claims(payload: dict[str, Any]) -> AccessClaims:
    """The claims of a verified payload, each of the type and form this module issues.

    A signed token is trusted to come from us, not to be well formed: ``sub`` must be ASCII
    digits naming a ``bigint`` id (``int()`` accepts "²" or "٣" and the database refuses
    ids past 2**63 - 1), ``jti`` a string, ``roles`` a list of strings, ``exp`` an integer.
    """
    sub, jti, roles, exp = payload["sub"], payload["jti"], payload.get("roles", []), payload["exp"]
    if (
        payload.get("typ") != "access"
        or not (isinstance(sub, str) and len(sub) <= 19 and sub.isascii() and sub.isdigit())
        or not 1 <= int(sub) <= MAX_USER_ID
        or not (isinstance(jti, str) and jti)
        or not (isinstance(roles, list) and all(isinstance(r, str) for r in roles))
        or isinstance(exp, bool)
        or not isinstance(exp, int)
    ):
        raise AuthenticationFailed("invalid access token")
    try:
        expires_at = datetime.fromtimestamp(exp, UTC)
        family = payload.get("fam")
        family_id = None if family is None else uuid.UUID(str(family))
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise AuthenticationFailed("invalid access token") from exc
    return AccessClaims(
        user_id=int(sub), roles=tuple(roles), jti=jti, expires_at=expires_at, family_id=family_id
    )
