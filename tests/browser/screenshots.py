"""Screenshots the browser tests take: each test's into artifacts/, and the README's (tracked
files under docs/img, rewritten only when TIDINGS_UPDATE_SCREENSHOT=1)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import Server
from tidings.domain.accounts import api_key_hash

README_IMAGES = Path(__file__).parents[2] / "docs" / "img"
UPDATE_README_SCREENSHOT = os.environ.get("TIDINGS_UPDATE_SCREENSHOT") == "1"


def shot(page: Page, name: str, backend: str) -> Path:
    path = ARTIFACTS / f"{name}-{backend}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def readme_screenshot(page: Page, live: Server, path: Path, weekly: str) -> None:
    """The lists page with a few more lists beside the finished one (`weekly`: the name of
    the repeated one, in the page's language)."""
    login = page.locator(".who span").first.inner_text().split()[0]
    acc = live.store.account_by_login(login)
    assert acc is not None
    key = f"tk_readme_{path.stem}"
    live.store.add_api_key(acc.id, api_key_hash(key), key[:8], live.clock.now())
    phones = ",".join(f"7916{n:07d}" for n in range(1, 41))
    for name, extra in (
        ("Напоминание о записи к врачу", {"time": "+240"}),
        (weekly, {"time": "+60", "rpt": "5"}),
        ("Акция «Чёрная пятница»", {}),
    ):
        live.call(
            "jobs",
            apikey=key,
            add=1,
            name=name,
            phones=phones,
            mes="Скидки до 50% только сегодня!",
            charset="utf-8",
            **extra,
        )
    page.reload()
    expect(page.locator("tbody#list-rows tr")).to_have_count(4)
    page.wait_for_timeout(2500)  # one more poll: the newest list is under way
    page.set_viewport_size({"width": 1280, "height": 440})
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1280, "height": 800})
