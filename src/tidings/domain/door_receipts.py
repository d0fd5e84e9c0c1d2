"""Final statuses owed to a door's client: the receipts an SMPP client asked for with its submit.

A door that takes a send (the SMPP server) may ask, with `ReceiptRequest`, for each of its
messages' final status back, to hand to its client (deliver_sm). The store queues the request
with the send in the same transaction, marks it due when the message becomes final (in the
transaction of that change), and keeps it until the door says its client acknowledged it: a
receipt lives in the store while no client of the account is there to take it, and one the
client never acknowledged is offered again. Nothing here knows SMPP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tidings.domain.lifecycle import MessageStatus


@dataclass(frozen=True)
class ReceiptRequest:
    """Who asked for the final status of a send's messages, and which ones they want."""

    door: str
    # The address the client sent from: its receipt is addressed back to it.
    source: str
    # Only failures (SMPP registered_delivery 2), not deliveries.
    failures_only: bool = False


@dataclass(frozen=True)
class DoorReceipt:
    """One final status due to a door's client."""

    message_id: int
    # The id the door's client knows the send by (for SMPP: the id of submit_sm_resp).
    reference: str
    account_id: int
    address: str
    source: str
    status: MessageStatus
    err: int
    submitted_at: int
    done_at: int
    text: str
    parts: int
    attempts: int


class DoorReceiptStore(Protocol):
    def claim_receipts(
        self, door: str, account_ids: Sequence[int], now: int, lease_s: int, limit: int
    ) -> list[DoorReceipt]:
        """Due receipts of these accounts, each leased until now + lease_s (offered again
        after that unless acknowledged)."""

    def receipts_acknowledged(self, message_ids: Sequence[int]) -> None:
        """The client has them: forget them."""

    def drop_old_receipts(self, door: str, done_before: int) -> int:
        """Receipts of messages final before `done_before`, never taken: dropped."""


class DoorReceiptService:
    def __init__(self, store: DoorReceiptStore, keep_s: int) -> None:
        self._store = store
        self._keep_s = keep_s

    def due(
        self, door: str, account_ids: Sequence[int], now: int, lease_s: int, limit: int
    ) -> list[DoorReceipt]:
        if not account_ids:
            return []
        return self._store.claim_receipts(door, account_ids, now, lease_s, limit)

    def acknowledged(self, message_ids: Sequence[int]) -> None:
        if message_ids:
            self._store.receipts_acknowledged(message_ids)

    def expire(self, door: str, now: int) -> int:
        """Receipts kept longer than the door's keep time (no client came for them)."""
        return self._store.drop_old_receipts(door, now - self._keep_s)
