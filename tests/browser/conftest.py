"""Playwright driving Debian's Chromium (never a downloaded browser), headless."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import Server

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Per module, not per session: the sync Playwright API keeps its event loop running in the
# main thread while it is open, and later tests that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait for what the page will show; on a busy 2-core CI machine the dispatcher
    # and the store take longer than Playwright's 5 s default.
    expect.set_options(timeout=20_000)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_in(browser: Any, live: Server) -> Iterator[Callable[[str], Page]]:
    """A tab on the live server whose browser speaks the given locale ("ru-RU", "en-US":
    Playwright's locale sets Accept-Language)."""
    yield from _tabs_in(browser, live)


def _tabs_in(browser: Any, server: Server) -> Iterator[Callable[[str], Page]]:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    contexts = []

    def open_tab(locale: str) -> Page:
        context = browser.new_context(
            base_url=server.url,
            viewport={"width": 1280, "height": 800},
            locale=locale,
            accept_downloads=True,
        )
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
