"""The ASGI entry point that ``streamsettle serve`` hands to uvicorn (one per worker)."""

from __future__ import annotations

from fastapi import FastAPI

from streamsettle.api.app import create_app
from streamsettle.config import get_settings
from streamsettle.logging import configure_logging


def build() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(flusher=settings.run_flusher, scheduler=settings.run_scheduler)
