"""Render `tidings jobs demo` as an SVG for the README (docs/img/cli-jobs.svg).

A throwaway SQLite store gets three mailing lists through the real jobs.php, the real
dispatcher sends part of them to the virtual upstream, then the real command prints its table
into a recording console.

    .venv/bin/python scripts/cli_screenshot.py
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from starlette.testclient import TestClient

from tidings.app import build_application, build_dispatcher
from tidings.cli import operator
from tidings.config import Settings
from tidings.domain.accounts import hash_password

OUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "cli-jobs.svg"


def _lists(client: TestClient) -> None:
    auth = {"login": "demo", "psw": "demo-password"}
    phones = ",".join(f"7916{n:07d}" for n in range(3000))
    lists = [
        {"name": "Welcome", "phones": "79161234567,79161234568,79161234569", "mes": "Привет!"},
        {
            "name": "Spring sale",
            "phones": phones,
            "mes": "Весенняя распродажа: −20% до воскресенья",
        },
        {
            "name": "Reminder",
            "phones": "79160000001,79160000002",
            "mes": "До встречи",
            "time": "+600",
        },
    ]
    for fields in lists:
        answer = client.post("/sys/jobs.php", data={**auth, "add": "1", **fields}).text
        assert answer.startswith("OK"), answer


async def _dispatch_for(settings: Settings, application: object, seconds: float) -> None:
    store = application.store  # type: ignore[attr-defined]
    dispatcher = build_dispatcher(settings, store)
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    await running


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'demo.db'}"
        settings = Settings.model_validate(
            {
                "database_url": db,
                "log_level": "warning",
                "virtual": {"delay_ms": 3000, "window": 200, "failures": {20: 0.04}},
            }
        )
        application = build_application(settings)
        application.store.create_account(
            "demo", hash_password("demo-password"), datetime.now(UTC), test_mode=True
        )
        with TestClient(application.http) as client:
            _lists(client)
        asyncio.run(_dispatch_for(settings, application, 2.5))
        application.close()
        operator.console = Console(
            record=True, width=118, force_terminal=True, color_system="truecolor"
        )
        operator.jobs("demo", db=db)
        operator.console.save_svg(str(OUT), title="tidings jobs demo")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
