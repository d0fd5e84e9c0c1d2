"""Table `door_binds`: the SMPP servers' reports of their bound clients."""

from __future__ import annotations

from collections.abc import Sequence

from tidings.domain.door_binds import DoorBind
from tidings.store.db import Database

_COLUMNS = (
    "session",
    "account_id",
    "login",
    "mode",
    "peer",
    "bound_at",
    "window_in_use",
    "window_size",
    "submits",
)


class DoorBindQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    def replace_binds(self, server_id: str, binds: Sequence[DoorBind], now: int) -> None:
        with self._db.tx() as tx:
            tx.execute("DELETE FROM door_binds WHERE server_id = ?", (server_id,))
            tx.insert_rows(
                "door_binds",
                ("server_id", *_COLUMNS, "updated_at"),
                [(server_id, *(getattr(b, c) for c in _COLUMNS), now) for b in binds],
            )

    def current_binds(self, fresh_after: int) -> list[tuple[str, DoorBind]]:
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                f"SELECT server_id, {', '.join(_COLUMNS)} FROM door_binds WHERE updated_at > ?",
                (fresh_after,),
            )
        return [(str(r[0]), DoorBind(*r[1:])) for r in rows]

    def forget_server(self, server_id: str) -> None:
        with self._db.tx() as tx:
            tx.execute("DELETE FROM door_binds WHERE server_id = ?", (server_id,))
