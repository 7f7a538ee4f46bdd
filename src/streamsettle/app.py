"""The application factory: one ASGI app holding both HTTP edges.

It sits above ``api`` (the JSON API) and ``web`` (the creators' page), which never import each
other; ``build`` is the entry point ``streamsettle serve`` hands to uvicorn (one per worker)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from streamsettle import __version__
from streamsettle.api.docs import install_docs
from streamsettle.api.errors import install_error_handlers
from streamsettle.api.heartbeat import HeartbeatEdge
from streamsettle.api.openapi import install_openapi
from streamsettle.api.routers import (
    auth,
    batch,
    catalogue,
    health,
    imports,
    playback,
    rate_cards,
    settlements,
    statements,
    stats,
)
from streamsettle.config import Settings, get_settings
from streamsettle.http.middleware import BodyLimitMiddleware, BodyLimits, RequestContextMiddleware
from streamsettle.logging import configure_logging
from streamsettle.runtime import Runtime
from streamsettle.web import admin_routes
from streamsettle.web import advertiser as web_advertiser
from streamsettle.web import routes as web_routes
from streamsettle.web import statements as web_statements
from streamsettle.web import studio as web_studio
from streamsettle.workers import PeriodicWorker, background_workers


class StreamsettleAPI(FastAPI):
    """The routed app behind three raw ASGI layers, outermost first: the request context
    (request id, log binding and metrics, once for every request), the body limits, and the
    heartbeat edge, which answers most of the traffic before routing."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heartbeat_edge = HeartbeatEdge(self, fallback=super().__call__)
        self._limited = BodyLimitMiddleware(self.heartbeat_edge)
        self._front = RequestContextMiddleware(self._limited)

    def use_settings(self, settings: Settings) -> None:
        """Take the body limits from the settings (known once the runtime is)."""
        self._limited.limits = BodyLimits(
            default=settings.max_body_bytes, watch_log_import=settings.import_max_bytes
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._front(scope, receive, send)


def create_app(
    runtime: Runtime | None = None, *, flusher: bool = False, scheduler: bool = False
) -> FastAPI:
    """Build the app; with no runtime given, one is built from the environment at start-up."""

    @asynccontextmanager
    async def lifespan(app: StreamsettleAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or Runtime.from_settings()
        app.state.runtime = rt
        app.use_settings(rt.settings)
        workers: list[PeriodicWorker] = background_workers(rt, flusher=flusher, scheduler=scheduler)
        for worker in workers:
            worker.start()
        if owned:
            # Everything built so far lives as long as the process: keep it out of the
            # garbage collector's scans, which otherwise cost the hot path ~10 %.
            gc.freeze()
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()
            await rt.heartbeats.aclose()  # this event loop's connections
            if owned:
                rt.close()

    app = StreamsettleAPI(
        title="streamsettle",
        version=__version__,
        description="Watch logs, views and daily creator settlement.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    if runtime is not None:
        app.state.runtime = runtime
        app.use_settings(runtime.settings)
    install_error_handlers(app)
    for module in (
        health,
        auth,
        catalogue,
        playback,
        imports,
        batch,
        rate_cards,
        stats,
        settlements,
        statements,
        web_routes,
        web_statements,
        admin_routes,
        web_studio,
        web_advertiser,
    ):
        app.include_router(module.router)
    install_openapi(app)
    install_docs(app)
    return app


def build() -> FastAPI:
    """The app for one uvicorn worker, configured from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(flusher=settings.run_flusher, scheduler=settings.run_scheduler)
