"""OpenID Connect login (authorization code flow with PKCE) against one configured issuer.

``begin_login`` builds the provider's authorization URL with a fresh ``state``, ``nonce``
and PKCE verifier, and returns them sealed in a signed, short-lived value that the HTTP
edge keeps in a cookie: no server memory ties the two requests to one process.
``complete_login`` opens that seal, checks ``state``, exchanges the code at the token
endpoint, validates the ID token (signature against the issuer's JWKS, ``iss``, ``aud``,
``exp``, ``nonce``; Authlib's ``CodeIDToken`` over joserfc, Authlib's own JOSE engine) and
logs the user in: found by (issuer, subject), else linked to the local account with the
same email when the provider says the email is verified, else created as a viewer with no
password.

Discovery documents and key sets are cached per issuer for ``METADATA_TTL_SECONDS``; an ID
token signed with a key id not in the cached set triggers one refetch (key rotation).
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from streamsettle.config import Settings
from streamsettle.db.base import utcnow
from streamsettle.db.models import OidcIdentity, User
from streamsettle.errors import AuthenticationFailed, Conflict, NotFound, ServiceUnavailable
from streamsettle.services.identity.accounts import (
    MAX_DISPLAY_NAME_LENGTH,
    create_user,
    get_user_by_email,
)
from streamsettle.services.identity.auth import TokenPair, issue_token_pair

STATE_MAX_AGE_SECONDS = 600
METADATA_TTL_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 10.0
CLOCK_LEEWAY_SECONDS = 60
SCOPE = "openid email profile"
# Asymmetric algorithms only: an ID token MACed with the client secret is not accepted.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
# Google documents both spellings for the ``iss`` of its ID tokens.
_ISSUER_ALIASES = {"https://accounts.google.com": ("accounts.google.com",)}


@dataclass(frozen=True)
class Provider:
    name: str
    issuer: str
    client_id: str
    client_secret: str | None


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


@dataclass(frozen=True)
class LoginRedirect:
    url: str
    sealed_state: str  # to keep in a cookie until the callback


@dataclass(frozen=True)
class _Pending:
    state: str
    nonce: str
    code_verifier: str


def provider(settings: Settings, name: str) -> Provider:
    """The configured provider called ``name``; ``NotFound`` if unknown or not configured."""
    if name != settings.oidc_provider:
        raise NotFound(f"unknown OIDC provider {name!r}")
    if not settings.oidc_client_id:
        raise NotFound(
            f"OIDC login with {name!r} is not configured: set STREAMSETTLE_OIDC_CLIENT_ID "
            "and STREAMSETTLE_OIDC_CLIENT_SECRET"
        )
    secret = settings.oidc_client_secret
    return Provider(
        name=name,
        issuer=settings.oidc_issuer.rstrip("/"),
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret is not None else None,
    )


class _TtlCache:
    """A tiny per-process cache of provider documents (a cache only, never login state)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + METADATA_TTL_SECONDS, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_metadata_cache = _TtlCache()
_jwks_cache = _TtlCache()


def clear_caches() -> None:
    _metadata_cache.clear()
    _jwks_cache.clear()


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=True)
        response.raise_for_status()
        body = response.json()
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"the identity provider is unreachable ({url}): {exc}") from exc
    except ValueError as exc:
        raise ServiceUnavailable(f"the identity provider sent invalid JSON at {url}") from exc
    if not isinstance(body, dict):
        raise ServiceUnavailable(f"the identity provider sent an unexpected document at {url}")
    return body


def discover(issuer: str) -> ProviderMetadata:
    """The issuer's ``/.well-known/openid-configuration``, cached."""
    cached: ProviderMetadata | None = _metadata_cache.get(issuer)
    if cached is not None:
        return cached
    doc = _get_json(f"{issuer}/.well-known/openid-configuration")
    try:
        metadata = ProviderMetadata(
            issuer=str(doc["issuer"]).rstrip("/"),
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            algorithms=tuple(doc.get("id_token_signing_alg_values_supported") or ["RS256"]),
            token_auth_methods=tuple(
                doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
            ),
        )
    except KeyError as exc:
        raise ServiceUnavailable(f"the discovery document of {issuer} lacks {exc}") from exc
    if metadata.issuer != issuer:
        raise ServiceUnavailable(
            f"the discovery document names the issuer {metadata.issuer!r}, "
            f"but {issuer!r} is configured"
        )
    _metadata_cache.put(issuer, metadata)
    return metadata


def _key_set(metadata: ProviderMetadata, *, refresh: bool = False) -> KeySet:
    jwks: dict[str, Any] | None = None if refresh else _jwks_cache.get(metadata.jwks_uri)
    if jwks is None:
        jwks = _get_json(metadata.jwks_uri)
        _jwks_cache.put(metadata.jwks_uri, jwks)
    try:
        return KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise ServiceUnavailable("the identity provider published an unusable key set") from exc


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    if settings.jwt_private_key_file is not None:
        secret = settings.jwt_private_key_file.read_text()
    else:
        secret = settings.jwt_secret.get_secret_value()
    return URLSafeTimedSerializer(secret, salt="streamsettle.oidc-login")


def begin_login(settings: Settings, name: str, redirect_uri: str) -> LoginRedirect:
    """The authorization URL to send the browser to, and the sealed state to keep."""
    config = provider(settings, name)
    metadata = discover(config.issuer)
    pending = _Pending(
        state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64)
    )
    url = prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id=config.client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=SCOPE,
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier),
        code_challenge_method="S256",
    )
    sealed = _serializer(settings).dumps(
        {"p": name, "s": pending.state, "n": pending.nonce, "v": pending.code_verifier}
    )
    return LoginRedirect(url=str(url), sealed_state=sealed)


def _open_seal(settings: Settings, name: str, sealed_state: str | None) -> _Pending:
    if not sealed_state:
        raise AuthenticationFailed("no login in progress: start again at the login URL")
    try:
        data = _serializer(settings).loads(sealed_state, max_age=STATE_MAX_AGE_SECONDS)
    except SignatureExpired as exc:
        raise AuthenticationFailed("the login took too long: start again") from exc
    except BadSignature as exc:
        raise AuthenticationFailed("invalid login state: start again") from exc
    if not isinstance(data, dict) or data.get("p") != name:
        raise AuthenticationFailed("invalid login state: start again")
    return _Pending(state=str(data["s"]), nonce=str(data["n"]), code_verifier=str(data["v"]))


def _exchange_code(
    config: Provider,
    metadata: ProviderMetadata,
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> dict[str, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
        "client_id": config.client_id,
    }
    auth: tuple[str, str] | None = None
    if config.client_secret is not None:
        if "client_secret_basic" in metadata.token_auth_methods:
            auth = (config.client_id, config.client_secret)
        else:
            form["client_secret"] = config.client_secret
    try:
        response = httpx.post(
            metadata.token_endpoint,
            data=form,
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"the identity provider is unreachable: {exc}") from exc
    if response.status_code >= 500:
        raise ServiceUnavailable(f"the identity provider failed ({response.status_code})")
    try:
        body = response.json()
    except ValueError as exc:
        raise ServiceUnavailable("the identity provider sent an invalid token response") from exc
    if response.status_code != 200 or not isinstance(body, dict):
        error = body.get("error", response.status_code) if isinstance(body, dict) else "?"
        raise AuthenticationFailed(f"the identity provider refused the code: {error}")
    if not isinstance(body.get("id_token"), str):
        raise AuthenticationFailed("the identity provider returned no ID token")
    return body


def _validate_id_token(
    config: Provider,
    metadata: ProviderMetadata,
    tokens: dict[str, Any],
    nonce: str,
    now: datetime,
) -> dict[str, Any]:
    algorithms = [a for a in metadata.algorithms if a in ALLOWED_ALGORITHMS] or ["RS256"]
    id_token = tokens["id_token"]
    try:
        try:
            token = jwt.decode(id_token, _key_set(metadata), algorithms=algorithms)
        except InvalidKeyIdError:
            token = jwt.decode(id_token, _key_set(metadata, refresh=True), algorithms=algorithms)
        issuers = [config.issuer, *_ISSUER_ALIASES.get(config.issuer, ())]
        claims = CodeIDToken(
            token.claims,
            token.header,
            {
                "iss": {"essential": True, "values": issuers},
                "aud": {"essential": True, "value": config.client_id},
                "sub": {"essential": True},
            },
            {
                "nonce": nonce,
                "client_id": config.client_id,
                "access_token": tokens.get("access_token"),
            },
        )
        claims.validate(now=int(now.timestamp()), leeway=CLOCK_LEEWAY_SECONDS)
    except (JoseError, ValueError) as exc:
        raise AuthenticationFailed(f"invalid ID token from the identity provider: {exc}") from exc
    return dict(claims)


def _email_verified(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or value == "true"


def _user_for_identity(session: Session, issuer: str, claims: dict[str, Any]) -> User:
    subject = str(claims["sub"])
    identity = session.scalar(
        select(OidcIdentity).where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
    )
    if identity is not None:
        user = session.get(User, identity.user_id)
        if user is not None:
            return user
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise AuthenticationFailed("the identity provider did not share an email address")
    user = get_user_by_email(session, email)
    if user is not None and not _email_verified(claims):
        raise Conflict(
            "an account with this email already exists; the identity provider has not "
            "verified the email, so log in with the account's password instead"
        )
    if user is None:
        name = str(claims.get("name") or email.split("@")[0])[:MAX_DISPLAY_NAME_LENGTH]
        user = create_user(session, email=email, password=None, display_name=name, roles=["viewer"])
    session.add(OidcIdentity(user_id=user.id, issuer=issuer, subject=subject))
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent first login of the same subject won
        raise Conflict("this identity was linked by a concurrent login: try again") from exc
    return user


def complete_login(
    session: Session,
    settings: Settings,
    name: str,
    redirect_uri: str,
    *,
    code: str | None,
    state: str | None,
    sealed_state: str | None,
    error: str | None = None,
    now: datetime | None = None,
) -> TokenPair:
    """Finish the login the provider redirected back to; a token pair for the user.

    401 for a missing, forged, expired or mismatched state, a refused code or an invalid ID
    token; 503 when the provider cannot be reached.
    """
    now = now or utcnow()
    config = provider(settings, name)
    pending = _open_seal(settings, name, sealed_state)
    if not state or not hmac.compare_digest(state, pending.state):
        raise AuthenticationFailed("the login state does not match: start again")
    if error:
        raise AuthenticationFailed(f"the identity provider refused the login: {error}")
    if not code:
        raise AuthenticationFailed("the identity provider returned no authorization code")
    metadata = discover(config.issuer)
    tokens = _exchange_code(config, metadata, code, pending.code_verifier, redirect_uri)
    claims = _validate_id_token(config, metadata, tokens, pending.nonce, now)
    user = _user_for_identity(session, config.issuer, claims)
    return issue_token_pair(session, settings, user, now=now)
