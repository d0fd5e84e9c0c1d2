"""Group commit: the writes of the requests in flight together, one transaction for them all.

A send.php request costs a transaction of its own otherwise — BEGIN, a balance read, the
inserts, COMMIT — and on SQLite each commit writes every page the insert touched (the table
and seven indexes: sixteen page writes per message), while concurrent requests queue for
the one writer lock. Here a request hands its prepared write to `submit` and awaits it; the
first one starts a flush, which writes everything waiting in one transaction on a store
thread; whatever arrives while that transaction runs waits for the next. A request is
answered only once its transaction has committed, so an answered send is as durable as it
was alone, and a batch that fails rolls back whole: every request of it gets the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import structlog

log = structlog.get_logger("tidings.api")

Item = TypeVar("Item")
Result = TypeVar("Result")
_Waiting = list[tuple[Item, "asyncio.Future[Result | Exception]"]]

# More than this many waiting go in the next transaction: a huge batch would hold SQLite's
# writer lock (and the dispatcher) for long.
MAX_BATCH = 256


class GroupCommit(Generic[Item, Result]):
    """`write(items)` returns one result per item: its value, or the exception refusing it
    alone (raised to that item's caller). `run(write, items)` runs it off the event loop."""

    def __init__(
        self,
        write: Callable[[Sequence[Item]], Sequence[Result | Exception]],
        run: Callable[..., Awaitable[Any]],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._write = write
        self._run = run
        self._max_batch = max_batch
        self._waiting: _Waiting[Item, Result] = []
        self._flushing: asyncio.Task[None] | None = None
        self.batches = 0  # transactions written, and the items in them: the mean batch size
        self.items = 0

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result | Exception] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        outcome = await future
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._write_batch(batch)
        finally:
            self._flushing = None

    async def _write_batch(self, batch: _Waiting[Item, Result]) -> None:
        try:
            results = await self._run(self._write, [item for item, _future in batch])
        except Exception as error:  # rolled back whole: nothing of the batch was written
            for _item, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        self.batches += 1
        self.items += len(batch)
        for (_item, future), result in zip(batch, results, strict=True):
            # A caller that went away (cancelled) is not answered; its write stands.
            if not future.done():
                future.set_result(result)
