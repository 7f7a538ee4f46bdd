"""A small OpenID Connect provider that tests run on localhost, so no test calls the internet.

It serves a discovery document, a JWKS with an RSA key generated at start, an authorization
endpoint that redirects straight back with a code (the "signed-in" person is whatever
``identity`` says), and a token endpoint that checks the client secret, the redirect URI and
the PKCE verifier before returning an RS256-signed ID token. Knobs for negative tests:
``claim_overrides`` (e.g. another ``aud``) and ``sign_with`` (another key).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.servers import serve


@dataclass
class Identity:
    sub: str
    email: str | None
    email_verified: bool = True
    name: str = "Oidc Person"


@dataclass
class FakeOidcProvider:
    client_id: str = "streamsettle-test-client"
    client_secret: str = "streamsettle-test-secret"
    identity: Identity = field(default_factory=lambda: Identity("subject-1", "oidc@example.com"))
    claim_overrides: dict[str, Any] = field(default_factory=dict)
    sign_with: RSAKey | None = None
    issuer: str = ""
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1"}, private=True)

    # -- endpoints -------------------------------------------------------------------------
    async def discovery(self, _: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, _: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        self.authorize_requests.append(params)
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = {
            "nonce": params.get("nonce"),
            "challenge": params.get("code_challenge"),
            "redirect_uri": params["redirect_uri"],
            "identity": self.identity,
        }
        query = urlencode({"code": code, "state": params.get("state", "")})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user == self.client_id and password == self.client_secret
        return (
            form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
        )

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not self._client_ok(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if (
            challenge.decode() != grant["challenge"]
            or form.get("redirect_uri") != grant["redirect_uri"]
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        identity: Identity = grant["identity"]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": identity.sub,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "email_verified": identity.email_verified,
            "name": identity.name,
        }
        if identity.email is not None:
            claims["email"] = identity.email
        claims.update(self.claim_overrides)
        key = self.sign_with or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid or "test-key-1"}, claims, key)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 3600,
                "id_token": id_token,
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )


@contextmanager
def running_provider(provider: FakeOidcProvider | None = None) -> Iterator[FakeOidcProvider]:
    """Serve ``provider`` with uvicorn on a free loopback port for the ``with`` block."""
    provider = provider or FakeOidcProvider()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    provider.issuer = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        with serve(provider.app(), sock):
            yield provider
    finally:
        sock.close()
