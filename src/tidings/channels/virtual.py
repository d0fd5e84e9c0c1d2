"""The virtual upstream (test mode): no traffic; each message gets a receipt after a delay,
through the same code paths as a real upstream's receipts."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from tidings.channels.base import (
    MessageStatus,
    OutboundMessage,
    Receipt,
    ReceiptHandler,
    SubmitResult,
)
from tidings.dispatch.routing import VIRTUAL


class VirtualChannel:
    name = VIRTUAL

    def __init__(
        self, delay_ms: int = 300, failures: dict[int, float] | None = None, seed: int | None = None
    ) -> None:
        self._delay = delay_ms / 1000
        self._failures = [(MessageStatus(s), p) for s, p in (failures or {}).items()]
        self._random = random.Random(seed)
        self._on_receipt: ReceiptHandler | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self, on_receipt: ReceiptHandler) -> None:
        self._on_receipt = on_receipt

    async def submit(self, message: OutboundMessage) -> SubmitResult:
        ids = tuple(f"v{message.message_id}.{part}" for part in range(1, message.parts + 1))
        outcome = self._outcome()
        for upstream_id in ids:
            task = asyncio.create_task(self._receipt_later(upstream_id, outcome))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return SubmitResult(accepted=True, upstream_ids=ids)

    def _outcome(self) -> MessageStatus:
        draw = self._random.random()
        for status, probability in self._failures:
            if draw < probability:
                return status
            draw -= probability
        return MessageStatus.DELIVERED

    async def _receipt_later(self, upstream_id: str, status: MessageStatus) -> None:
        await asyncio.sleep(self._delay)
        if self._on_receipt is not None:
            err = 0 if status is MessageStatus.DELIVERED else int(status)
            await self._on_receipt(Receipt(self.name, upstream_id, status, err, datetime.now(UTC)))

    async def stop(self, *, drain: bool = True) -> None:
        if drain and self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        for task in self._pending:
            task.cancel()
