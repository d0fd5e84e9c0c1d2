"""What an upstream hands over and waits for an answer to (receipts, inbound messages):
recorded in batches, each item acknowledged to the upstream only once its batch is durable.

An item is recorded at once with whatever else arrived meanwhile (batches form by themselves
under load): the SMSC waits for our answer, and many let only a few go unanswered — an item
held back 50 ms would cap them at a few hundred a second. A batch whose transaction fails
keeps its items, unanswered, for the next round: none is dropped and the loop never dies.
Before the commit a crash leaves them with the SMSC, which delivers them again on the next
bind; after it, they may be answered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

import structlog

from tidings.dispatch.db_calls import DbCalls

log = structlog.get_logger("tidings.dispatcher")


class Acknowledgeable(Protocol):
    @property
    def ack(self) -> Callable[[], None] | None: ...


Item = TypeVar("Item", bound=Acknowledgeable)


class AckedBatches(Generic[Item]):
    def __init__(
        self, what: str, calls: DbCalls, record: Callable[[Sequence[Item]], object]
    ) -> None:
        self._what = what
        self._calls = calls
        self._record = record
        self._pending: list[Item] = []
        self.wake = asyncio.Event()
        self._closed = False

    def add(self, item: Item) -> None:
        self._pending.append(item)
        self.wake.set()

    def close(self) -> None:
        """No more items come (the channels stopped): flush what is left and end `run`."""
        self._closed = True
        self.wake.set()

    async def run(self) -> None:
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), 0.05)
            self.wake.clear()
            await self.flush()
        await self.flush()

    async def flush(self) -> None:
        """Record what is pending now, then answer it (what `run` does each round)."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            await self._calls.hot(lambda: self._record(batch))
        except Exception:
            self._pending[:0] = batch  # kept, unanswered, for the next round
            log.exception(f"recording {self._what} failed; will retry")
            await asyncio.sleep(0.5)
            return
        for item in batch:  # durable now: the upstream may forget them
            if item.ack is not None:
                item.ack()
