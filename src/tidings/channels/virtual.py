"""The virtual upstream (test mode): no traffic; each message gets a receipt after a delay,
through the same code paths as a real upstream's receipts. Inbound messages too: `inbound()`
hands one to the dispatcher as an SMSC's would be (a test helper), and with `reply_text` set
every delivered message is answered by its recipient with that text."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
from datetime import UTC, datetime

from tidings.channels.base import (
    InboundPart,
    OutboundMessage,
    Receipt,
    ReceiptHandler,
    SubmitResult,
    accepted,
)
from tidings.domain.lifecycle import MessageStatus
from tidings.domain.routing import VIRTUAL


class VirtualChannel:
    name = VIRTUAL

    def __init__(
        self,
        delay_ms: int = 300,
        failures: dict[int, float] | None = None,
        seed: int | None = None,
        reply_text: str = "",
    ) -> None:
        self._reply_text = reply_text
        self._delay = delay_ms / 1000
        self._failures = [(MessageStatus(s), p) for s, p in (failures or {}).items()]
        self._random = random.Random(seed)
        self._on_receipt: ReceiptHandler | None = None
        # Receipts still to come: a timer each (a task each cost more than the send).
        self._pending: dict[int, asyncio.TimerHandle] = {}
        self._tokens = itertools.count()
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self, on_receipt: ReceiptHandler) -> None:
        self._on_receipt = on_receipt

    async def submit(self, message: OutboundMessage) -> SubmitResult:
        ids = tuple(f"v{message.message_id}.{part}" for part in range(1, message.parts + 1))
        outcome = self._outcome()
        loop = asyncio.get_running_loop()
        for upstream_id in ids:
            token = next(self._tokens)
            self._pending[token] = loop.call_later(
                self._delay, self._receipt, token, upstream_id, outcome
            )
            self._idle.clear()
        if self._reply_text and outcome is MessageStatus.DELIVERED and message.sender:
            # After the receipts: a reply can only answer a message that was handed over.
            loop.call_later(
                self._delay * 2,
                self.inbound,
                message.address,
                message.sender,
                self._reply_text,
                f"v{message.message_id}",
            )
        return accepted(ids)

    def inbound(self, source: str, destination: str, text: str, nonce: str = "") -> None:
        """An inbound message from `source` to `destination`, as if an SMSC delivered it
        (`nonce` tells two equal texts apart, so neither is taken for a resend)."""
        if self._on_receipt is None:
            return
        digest = hashlib.sha256(f"{source}\0{destination}\0{text}\0{nonce}".encode())
        self._on_receipt(
            InboundPart(
                self.name,
                source,
                destination,
                text,
                digest.hexdigest()[:40],
                sent_at=datetime.now(UTC),
            )
        )

    def _outcome(self) -> MessageStatus:
        draw = self._random.random()
        for status, probability in self._failures:
            if draw < probability:
                return status
            draw -= probability
        return MessageStatus.DELIVERED

    def _receipt(self, token: int, upstream_id: str, status: MessageStatus) -> None:
        try:
            if self._on_receipt is not None:
                err = 0 if status is MessageStatus.DELIVERED else int(status)
                self._on_receipt(Receipt(self.name, upstream_id, status, err, datetime.now(UTC)))
        finally:
            self._pending.pop(token, None)
            if not self._pending:
                self._idle.set()

    async def stop(self, *, drain: bool = True) -> None:
        if drain:
            await self._idle.wait()
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        self._idle.set()
