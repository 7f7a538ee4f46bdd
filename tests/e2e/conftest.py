"""Fixtures of the browser tests: Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.e2e.chromium import chromium


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched
