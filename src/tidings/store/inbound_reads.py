"""Inbound messages as the edges read them (get_answers, the cabinet's inbox, a list's
replies, the operator's unassigned ones) and the operator's inbound numbers.

Every account query is scoped by account_id: another account's messages read as nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tidings.domain.inbound import (
    InboundNumber,
    InboundQuery,
    InboundView,
    Route,
    matches_search,
)
from tidings.errors import InvalidParameter
from tidings.store.db import Database, Row

# The inbox's search reads this many messages a round, for at most this many rounds.
_SCAN_BATCH = 500
_SCAN_ROUNDS = 200
_COLUMNS = (
    "i.id, i.account_id, i.upstream, i.phone, i.to_phone, i.text, i.received_at, i.route, "
    "i.stop, i.message_id, j.job_id, m.sent_at, i.parts, i.missing"
)
_FROM = (
    "FROM inbound_messages i LEFT JOIN jobs j ON j.id = i.job_pk "
    "LEFT JOIN messages m ON m.id = i.message_id "
)


def _view(r: Row) -> InboundView:
    return InboundView(
        id=int(r[0]),
        account_id=None if r[1] is None else int(r[1]),
        upstream=r[2],
        phone=r[3],
        to_phone=r[4],
        text=r[5],
        received_at=int(r[6]),
        route=Route(int(r[7])),
        stop=bool(r[8]),
        reply_to=None if r[9] is None else int(r[9]),
        job_id=None if r[10] is None else int(r[10]),
        reply_sent_at=None if r[11] is None else int(r[11]),
        parts=int(r[12]),
        missing=int(r[13]),
    )


class InboundQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    def inbound_page(self, query: InboundQuery) -> list[InboundView]:
        if not query.search:
            return self._page(query)
        # SQL LIKE folds case differently on SQLite and PostgreSQL (and not at all beyond
        # ASCII on SQLite): scan the account's messages newest first and match in Python.
        needle, found = query.search, []
        scan = replace(query, search="", limit=_SCAN_BATCH, oldest_first=False)
        for _round in range(_SCAN_ROUNDS):
            rows = self._page(scan)
            found += [v for v in rows if matches_search(needle, v.phone, v.text)]
            if len(found) >= query.limit or len(rows) < _SCAN_BATCH:
                break
            scan = replace(scan, before_id=rows[-1].id)
        return found[: query.limit]

    def _page(self, query: InboundQuery) -> list[InboundView]:
        where = ["i.account_id = ?", "i.id > ?"]
        params: list[Any] = [query.account_id, query.after_id]
        if query.before_id is not None:
            where.append("i.id < ?")
            params.append(query.before_id)
        if query.since_ts is not None:
            where.append("i.received_at >= ?")
            params.append(query.since_ts)
        if query.to_phone:
            where.append("i.to_phone = ?")
            params.append(query.to_phone)
        if query.job_id is not None:
            where.append(
                "i.job_pk = (SELECT id FROM jobs WHERE account_id = ? AND job_id = ? "
                "AND deleted_at IS NULL)"
            )
            params += [query.account_id, query.job_id]
        if query.stops_only:
            where.append("i.stop = ?")
            params.append(True)
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                f"SELECT {_COLUMNS} {_FROM} WHERE {' AND '.join(where)} "
                f"ORDER BY i.id {'ASC' if query.oldest_first else 'DESC'} LIMIT ?",
                (*params, query.limit),
            )
        return [_view(r) for r in rows]

    def unassigned_page(self, before_id: int | None, limit: int) -> list[InboundView]:
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                f"SELECT {_COLUMNS} {_FROM} WHERE i.account_id IS NULL AND i.id < ? "
                "ORDER BY i.id DESC LIMIT ?",
                (before_id if before_id is not None else 2**62, limit),
            )
        return [_view(r) for r in rows]

    def inbound_numbers(self, account_id: int | None) -> list[InboundNumber]:
        scope = "WHERE n.account_id = ? " if account_id is not None else ""
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT n.number, n.account_id, a.login, n.created_at FROM inbound_numbers n "
                f"JOIN accounts a ON a.id = n.account_id {scope}ORDER BY n.number",
                () if account_id is None else (account_id,),
            )
        return [InboundNumber(r[0], int(r[1]), r[2], int(r[3])) for r in rows]

    def assign_number(self, number: str, account_id: int, now: int) -> None:
        with self._db.tx() as tx:
            row = tx.one(
                "INSERT INTO inbound_numbers (number, account_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (number) DO NOTHING RETURNING account_id",
                (number, account_id, now),
            )
            if row is None:
                owner = tx.one("SELECT account_id FROM inbound_numbers WHERE number = ?", (number,))
                if owner is None or int(owner[0]) != account_id:
                    raise InvalidParameter(
                        "%(number)s is assigned to another account", number=number
                    )

    def release_number(self, number: str) -> bool:
        with self._db.tx() as tx:
            return tx.execute("DELETE FROM inbound_numbers WHERE number = ?", (number,)) > 0

    # The account's own stop keywords and stop reply live on its row (accounts.stop_keywords,
    # NULL = the settings'; accounts.stop_reply, NULL = none); written only here.
    def stop_keywords(self, account_id: int) -> str | None:
        with self._db.tx(write=False) as tx:
            row = tx.one("SELECT stop_keywords FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else row[0]

    def set_stop_keywords(self, account_id: int, stored: str | None) -> None:
        with self._db.tx() as tx:
            tx.execute("UPDATE accounts SET stop_keywords = ? WHERE id = ?", (stored, account_id))

    def stop_reply(self, account_id: int) -> str | None:
        with self._db.tx(write=False) as tx:
            row = tx.one("SELECT stop_reply FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else row[0]

    def set_stop_reply(self, account_id: int, text: str | None) -> None:
        with self._db.tx() as tx:
            tx.execute("UPDATE accounts SET stop_reply = ? WHERE id = ?", (text, account_id))
