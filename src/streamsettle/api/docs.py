"""``/docs`` (Swagger UI) and ``/redoc`` served from the installed package, not from a CDN.

FastAPI's own pages load their scripts and styles from a CDN and are blank without internet.
The pinned ``fastapi-offline`` package ships the same Swagger UI and ReDoc bundles; they are
served here under ``/static-docs`` (the app is a ``FastAPI`` subclass, so the package's app
factory itself cannot be used). Nothing on the two pages asks for another host: no favicon,
fonts or validator badge from elsewhere, and a Content-Security-Policy limited to this origin
(the page's one inline script allowed by its hash) stops what the bundles would still fetch
(ReDoc's footer logo).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/static-docs"
DOCS_URL, REDOC_URL = "/docs", "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    """The page with a CSP that allows its own inline scripts and nothing from elsewhere."""
    body = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )
    page.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page


def install_docs(app: FastAPI) -> None:
    """Add the two documentation pages to an app built with ``docs_url=redoc_url=None``."""
    assert app.docs_url is None and app.redoc_url is None, "FastAPI's CDN pages are on"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    parameters = {**(app.swagger_ui_parameters or {}), "validatorUrl": None}

    def page(request: Request, render: Callable[..., HTMLResponse], **assets: str) -> HTMLResponse:
        """``render``'s page for the document and the bundled ``assets`` below the app's root."""
        root = request.scope.get("root_path", "")
        return _with_policy(
            render(
                openapi_url=f"{root}{app.openapi_url}",
                title=f"{app.title} API",
                **{name: f"{root}{ASSETS_URL}/{file}" for name, file in assets.items()},
            )
        )

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return page(
            request,
            partial(
                get_swagger_ui_html,
                oauth2_redirect_url=OAUTH2_REDIRECT_URL,
                swagger_ui_parameters=parameters,
            ),
            swagger_js_url="swagger-ui-bundle.js",
            swagger_css_url="swagger-ui.css",
            swagger_favicon_url="favicon.png",
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return page(
            request,
            partial(get_redoc_html, with_google_fonts=False),
            redoc_js_url="redoc.standalone.js",
            redoc_favicon_url="favicon.png",
        )
