"""Who is bound to the SMPP server, for the operator: each server process reports its binds
every few seconds; a report not renewed for STALE_S is of a server that is gone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# A server reports every REPORT_S; one silent for this long is gone (its rows are not shown).
REPORT_S = 2.0
STALE_S = 15


@dataclass(frozen=True)
class DoorBind:
    session: int
    account_id: int
    login: str
    mode: str
    peer: str
    bound_at: int
    window_in_use: int
    window_size: int
    submits: int

    def rate(self, now: int) -> float:
        """Submits a second since the bind."""
        return self.submits / max(now - self.bound_at, 1)


class DoorBindStore(Protocol):
    def replace_binds(self, server_id: str, binds: Sequence[DoorBind], now: int) -> None: ...

    def current_binds(self, fresh_after: int) -> list[tuple[str, DoorBind]]:
        """(server id, bind) of the reports renewed after `fresh_after`."""

    def forget_server(self, server_id: str) -> None: ...


class DoorBindService:
    def __init__(self, store: DoorBindStore) -> None:
        self._store = store

    def report(self, server_id: str, binds: Sequence[DoorBind], now: int) -> None:
        self._store.replace_binds(server_id, binds, now)

    def stopped(self, server_id: str) -> None:
        self._store.forget_server(server_id)

    def bound(self, now: int) -> list[tuple[str, DoorBind]]:
        """Every bound client of every live server, by login."""
        found = self._store.current_binds(now - STALE_S)
        return sorted(found, key=lambda item: (item[1].login, item[1].bound_at))
