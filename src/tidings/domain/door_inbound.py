"""Inbound messages owed to a door's clients: an SMPP client bound as a receiver gets its
account's inbound messages as deliver_sm, as it gets its receipts (domain/door_receipts.py).

From the first time an account binds a receiver (`receiver_bound`), each inbound message the
account owns is queued for its receivers in the transaction that stores it; before that the
account reads its inbound messages over HTTP only, and nothing is queued for it. A queued
message waits while no receiver is bound, is leased to a door that offers it, offered again
when the lease ends unacknowledged, forgotten when acknowledged or, never taken, after the
door's keep time. Nothing here knows SMPP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# The door whose receivers get inbound messages (the SMPP server's name for its rows).
SMPP_DOOR = "smpp"


@dataclass(frozen=True)
class DoorInbound:
    """One inbound message due to a door's client."""

    inbound_id: int
    account_id: int
    # Who wrote (the handset) and to which number or name of ours.
    phone: str
    to_phone: str
    text: str
    received_at: int
    attempts: int


class DoorInboundStore(Protocol):
    def receiver_bound(self, account_id: int, now: int) -> None:
        """A receiver of the account bound: queue its inbound messages from now on."""

    def claim_inbound(
        self, door: str, account_ids: Sequence[int], now: int, lease_s: int, limit: int
    ) -> list[DoorInbound]:
        """Due inbound messages of these accounts, oldest first, each leased until
        now + lease_s (offered again after that unless acknowledged)."""

    def inbound_acknowledged(self, door: str, inbound_ids: Sequence[int]) -> None:
        """The client has them: forget them."""

    def drop_old_inbound(self, door: str, received_before: int) -> int:
        """Inbound messages received before `received_before`, never taken: dropped."""


class DoorInboundService:
    def __init__(self, store: DoorInboundStore, keep_s: int) -> None:
        self._store = store
        self._keep_s = keep_s

    def receiver_bound(self, account_id: int, now: int) -> None:
        self._store.receiver_bound(account_id, now)

    def due(
        self, door: str, account_ids: Sequence[int], now: int, lease_s: int, limit: int
    ) -> list[DoorInbound]:
        if not account_ids or limit <= 0:
            return []
        return self._store.claim_inbound(door, account_ids, now, lease_s, limit)

    def acknowledged(self, door: str, inbound_ids: Sequence[int]) -> None:
        if inbound_ids:
            self._store.inbound_acknowledged(door, inbound_ids)

    def expire(self, door: str, now: int) -> int:
        """Inbound messages kept longer than the door's keep time (no client came for them)."""
        return self._store.drop_old_inbound(door, now - self._keep_s)
