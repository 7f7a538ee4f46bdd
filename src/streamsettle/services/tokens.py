"""JWT access tokens: short-lived, signed with one pinned algorithm, revocable by ``jti``.

The algorithm is fixed by configuration and passed to PyJWT as the only accepted one, so
``alg: none`` or a token signed for another algorithm or key is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from streamsettle.config import Settings
from streamsettle.errors import AuthenticationFailed


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    roles: tuple[str, ...]
    jti: str
    expires_at: datetime

    def has_role(self, role: str) -> bool:
        return role in self.roles


def _signing_key(settings: Settings) -> str:
    if settings.jwt_private_key_file is not None:
        return settings.jwt_private_key_file.read_text()
    return settings.jwt_secret.get_secret_value()


def _verifying_key(settings: Settings) -> str:
    if settings.jwt_public_key_file is not None:
        return settings.jwt_public_key_file.read_text()
    return settings.jwt_secret.get_secret_value()


def issue_access_token(
    settings: Settings, user_id: int, roles: list[str], now: datetime | None = None
) -> tuple[str, AccessClaims]:
    now = now or datetime.now(UTC)
    expires_at = now + timedelta(seconds=settings.access_token_ttl_seconds)
    claims = AccessClaims(
        user_id=user_id, roles=tuple(roles), jti=uuid.uuid4().hex, expires_at=expires_at
    )
    payload = {
        "sub": str(user_id),
        "roles": list(roles),
        "jti": claims.jti,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    token = jwt.encode(payload, _signing_key(settings), algorithm=settings.jwt_algorithm)
    return token, claims


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            _verifying_key(settings),
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed("access token expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("invalid access token") from exc
    if payload.get("typ") != "access" or not str(payload["sub"]).isdigit():
        raise AuthenticationFailed("invalid access token")
    roles = payload.get("roles", [])
    if not isinstance(roles, list):
        raise AuthenticationFailed("invalid access token")
    return AccessClaims(
        user_id=int(payload["sub"]),
        roles=tuple(str(r) for r in roles),
        jti=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
    )
