"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from streamsettle import __version__
from streamsettle.api.errors import install_error_handlers
from streamsettle.api.middleware import RequestContextMiddleware
from streamsettle.api.routers import (
    auth,
    batch,
    catalogue,
    health,
    imports,
    playback,
    rate_cards,
    settlements,
    stats,
)
from streamsettle.runtime import Runtime
from streamsettle.services.workers import PeriodicWorker, background_workers
from streamsettle.web import routes as web_routes


def create_app(
    runtime: Runtime | None = None, *, flusher: bool = False, scheduler: bool = False
) -> FastAPI:
    """Build the app; with no runtime given, one is built from the environment at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or Runtime.from_settings()
        app.state.runtime = rt
        workers: list[PeriodicWorker] = background_workers(rt, flusher=flusher, scheduler=scheduler)
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()
            if owned:
                rt.close()

    app = FastAPI(
        title="streamsettle",
        version=__version__,
        description="Watch logs, views and daily creator settlement.",
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
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
        web_routes,
    ):
        app.include_router(module.router)
    return app
