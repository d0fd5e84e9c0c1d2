"""Where the dispatcher's transactions run: in a thread, or on the loop while it is free."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from tidings.store.db import Database, retrying
from tidings.waiting import on_loop_first

T = TypeVar("T")


class DbCalls:
    def __init__(self, db: Database) -> None:
        self._inline = db.dialect == "sqlite"

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(retrying, fn)

    async def hot(self, fn: Callable[[], T]) -> T:
        """A short transaction on the sending path (claim, settle, receipts). On SQLite it
        runs on the loop's own thread when the writer lock is free: a thread hop costs a
        GIL hand-off per statement, more than the statement. Taken elsewhere, it waits for
        the lock in a thread, never on the loop."""
        if self._inline:
            return await on_loop_first(fn, self.run)
        return await self.run(fn)
