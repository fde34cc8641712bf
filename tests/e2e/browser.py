"""Headless Chromium for browser tests: the Debian `chromium` package, installed on demand, driven
by Playwright for Python.

Playwright's own browser download (`playwright install`) is never used: the machines reach package
registries only, so the browser comes from apt and Playwright launches it by path."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page, async_playwright

CHROMIUM = Path("/usr/bin/chromium")

# Without the background-networking switches Chromium keeps dialling Google services (component
# updates, sync, QUIC probes); on a closed network those connections are refused and slow it down.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # running as root in a container: the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ChromiumUnavailable(RuntimeError):
    """Chromium is missing and could not be installed: a test setup error, never a skip."""


def _run(command: list[str]) -> None:
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise ChromiumUnavailable(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}\n"
            f"{done.stderr[-2000:]}"
        )


def ensure_chromium() -> Path:
    """The Chromium binary, installing the Debian package first when it is not there yet."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise ChromiumUnavailable(f"{CHROMIUM} is missing and there is no apt-get to install it")
    _run(["apt-get", "update"])
    _run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"])
    if not CHROMIUM.exists():
        raise ChromiumUnavailable(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@asynccontextmanager
async def browser_context(executable: Path, **options: Any) -> AsyncIterator[BrowserContext]:
    """A fresh headless Chromium and one browsing context (its own storage) in it."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            yield await browser.new_context(**options)
        finally:
            await browser.close()


def collect_errors(page: Page) -> list[str]:
    """What went wrong in the page, as it happens: uncaught exceptions, console errors and HTTP
    answers of 400 and up (a missing asset included)."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"exception: {exc}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors


if __name__ == "__main__":
    print(ensure_chromium())
