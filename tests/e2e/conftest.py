"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import ensure_chromium


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The browser, installed from Debian when missing; failing to get it is an error, not a skip."""
    return ensure_chromium()
