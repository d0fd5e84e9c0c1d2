"""Messages outside mailing lists (send.php) and message lookups (status.php)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from tidings.domain.accounts import Account
from tidings.domain.clock import to_ts
from tidings.domain.jobs import MessageFormat
from tidings.domain.lifecycle import FAILED, IN_PROGRESS, NO_UPSTREAM_ERR, MessageStatus
from tidings.domain.messages import HistoryQuery, MessageInfo, Totals
from tidings.domain.pricing import Tariff
from tidings.domain.routing import UNROUTED, Routes
from tidings.domain.sends import PricedSend, Sent
from tidings.domain.templates import Template
from tidings.errors import InsufficientFunds
from tidings.store import door_receipts, ledger
from tidings.store.db import Database, Tx
from tidings.store.repository import Store
from tidings.store.runs import MESSAGE_COLUMNS
from tidings.store.sql import chunks, marks, sql_in

_BLACKLIST_SINGLE = (0, 2)  # stop-list types that block single messages
# A send's own subject and h1-h2 window: a list's messages take theirs from the list.
_SEND_COLUMNS = (*MESSAGE_COLUMNS, "subject", "window_start", "window_end", "client_id")


# err of a message waiting for want of an upstream says why it waits (NO_UPSTREAM_ERR).
_ERR = (
    f"CASE WHEN m.channel = '{UNROUTED}' AND m.status = {int(MessageStatus.WAITING)} "
    f"THEN {NO_UPSTREAM_ERR} ELSE m.err END"
)
_INFO_COLUMNS = (
    f"m.id, m.client_id, m.address, m.status, {_ERR}, COALESCE(m.text, j.message, ''), "
    "m.sender, m.format, m.parts, m.cost_minor, m.created_at, m.sent_at, m.done_at, j.job_id"
)


def _balances(tx: Tx, account_ids: Collection[int]) -> dict[int, int]:
    """The accounts' balances, locked in the order and mode every transaction uses."""
    return {a: money.balance for a, money in ledger.lock_accounts(tx, account_ids).items()}


def _refusal(prepared: PricedSend, balance: int) -> InsufficientFunds | None:
    """Whether the balance refuses the send. Sends are charged when they are handed over,
    so each is checked against the balance as it is now, as a send alone would be."""
    account = prepared.account
    if not account.test_mode and balance - prepared.quote.cost < -account.credit_limit_minor:
        return InsufficientFunds("no money")
    return None


def _sent(prepared: PricedSend, send_id: str, balance: int) -> Sent:
    quote = prepared.quote
    charged = 0 if prepared.account.test_mode else quote.cost
    return Sent(send_id, quote.parts, quote.cost, balance - charged)


def _new_message_ids(tx: Tx, count: int) -> list[int]:
    """`count` message ids no message has had (ids are never reused: migration 0010)."""
    if count == 0:
        return []
    if tx.dialect == "postgresql":
        rows = tx.all(
            "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, ?)",
            (count,),
        )
        return [int(r[0]) for r in rows]
    # The write transaction holds SQLite's only writer lock: nobody else takes ids meanwhile,
    # and an explicit id above the sequence moves the sequence up to it.
    row = tx.one(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), "
        "COALESCE((SELECT MAX(id) FROM messages), 0))"
    )
    last = int(row[0]) if row else 0
    return list(range(last + 1, last + 1 + count))


class MessageStore:
    def __init__(self, store: Store, routes: Routes) -> None:
        self._store = store
        self._db: Database = store.db
        self._routes = routes

    def approved_senders(self, account_id: int) -> list[str]:
        return self._store.approved_senders(account_id)

    def tariff_for(self, account: Account) -> Tariff:
        return self._store.tariff_for(account)

    def template(self, account_id: int, template_id: int) -> Template | None:
        return self._store.template(account_id, template_id)

    def signature_templates(self, account_ids: Collection[int]) -> dict[int, Template]:
        return self._store.signature_templates(account_ids)

    def group_addresses(self, account_id: int, groups: Sequence[int], mail: bool) -> list[str]:
        return self._store.group_addresses(account_id, groups, mail)

    def stop_listed_among(self, wanted: Mapping[int, Collection[str]]) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        # The chunks need no common snapshot: a number is on the list or not, each by itself.
        with self._db.tx(write=False, snapshot=False) as tx:
            for account_id, addresses in wanted.items():
                for chunk in chunks(list(addresses), 500):
                    rows = tx.all(
                        "SELECT address FROM blacklist WHERE account_id = ? AND type IN (?, ?) "
                        f"AND address IN ({marks(chunk)})",
                        (account_id, *_BLACKLIST_SINGLE, *chunk),
                    )
                    if rows:
                        found.setdefault(account_id, set()).update(r[0] for r in rows)
        return found

    def queue_sends(self, sends: Sequence[PricedSend]) -> list[Sent | InsufficientFunds]:
        """One transaction for any number of sends (the API's group commit): the accounts'
        balances read once, in id order (the order every transaction locks accounts in), the
        messages' ids allocated up front, every row written by one bulk insert."""
        if not sends:
            return []
        with self._db.tx() as tx:
            balances = _balances(tx, {p.account.id for p in sends})
            refusals = [_refusal(p, balances.get(p.account.id, 0)) for p in sends]
            accepted = [p for p, no in zip(sends, refusals, strict=True) if no is None]
            ids = iter(_new_message_ids(tx, sum(len(p.quote.recipients) for p in accepted)))
            rows: list[tuple[object, ...]] = []
            sent: list[Sent] = []
            wanted: list[tuple[PricedSend, str, list[int]]] = []
            for prepared in accepted:
                first = len(rows)
                rows += self._rows(prepared, ids)
                # Without a client id the send is known by its first message's id.
                send_id = prepared.send.client_id or str(rows[first][0])
                rows[first:] = [(*row, send_id) for row in rows[first:]]
                sent.append(_sent(prepared, send_id, balances.get(prepared.account.id, 0)))
                if prepared.receipts is not None:
                    ids_of_send = [int(str(row[0])) for row in rows[first:]]
                    wanted.append((prepared, send_id, ids_of_send))
            tx.insert_rows("messages", ("id", *_SEND_COLUMNS), rows)
            for prepared, send_id, message_ids in wanted:
                door_receipts.queue_requests(tx, prepared, send_id, message_ids)
        stored = iter(sent)
        return [next(stored) if no is None else no for no in refusals]

    def _rows(self, prepared: PricedSend, ids: Iterator[int]) -> list[tuple[object, ...]]:
        """The send's message rows, with their ids, without the client id (added after)."""
        account, send = prepared.account, prepared.send
        ts = to_ts(prepared.now)
        mail = send.fmt == MessageFormat.MAIL
        window = send.window
        options = (
            send.subject if mail and send.subject else None,
            None if window is None else window.start_hour,
            None if window is None else window.end_hour,
        )
        return [
            (
                next(ids),
                account.id,
                None,
                None,
                r.address,
                r.text,
                send.sender,
                self._routes.channel_for(r.address, mail=mail, test_mode=account.test_mode),
                int(send.fmt),
                r.parts,
                int(MessageStatus.WAITING),
                to_ts(r.due),
                to_ts(r.due) + prepared.validity_s,
                ts,
                *options,
            )
            for r in prepared.quote.recipients
        ]

    def find(self, account_id: int, client_id: str, address: str | None) -> MessageInfo | None:
        """The newest message of the account with this id (and number, when given). A
        mailing-list message, which has no client id, is found by its own message id."""
        base = f"SELECT {_INFO_COLUMNS} FROM messages m LEFT JOIN jobs j ON j.id = m.job_pk "
        extra, params = ("", []) if not address else (" AND m.address = ?", [address])
        with self._db.tx(write=False) as tx:
            row = tx.one(
                base
                + "WHERE m.account_id = ? AND m.client_id = ?"
                + extra
                + " ORDER BY m.id DESC LIMIT 1",
                (account_id, client_id, *params),
            )
            # ASCII digits only: `²`.isdigit() is true but int() refuses it.
            if row is None and client_id.isascii() and client_id.isdigit() and len(client_id) < 19:
                row = tx.one(
                    base + "WHERE m.id = ? AND m.account_id = ? AND m.client_id IS NULL" + extra,
                    (int(client_id), account_id, *params),
                )
        return None if row is None else MessageInfo(*row)

    def delete(self, account_id: int, message_id: int) -> bool:
        """Remove a message that is no longer in flight from the history."""
        with self._db.tx() as tx:
            deleted = tx.execute(
                "DELETE FROM messages WHERE id = ? AND account_id = ? "
                f"AND status NOT IN {sql_in(IN_PROGRESS)}",
                (message_id, account_id),
            )
        return deleted == 1

    def history(self, query: HistoryQuery) -> list[MessageInfo]:
        """Messages of the account newest first, created in [start, end), `before_id` for paging."""
        sql = (
            f"SELECT {_INFO_COLUMNS} FROM messages m LEFT JOIN jobs j ON j.id = m.job_pk "
            "WHERE m.account_id = ? AND m.created_at >= ? AND m.created_at < ?"
        )
        params: list[object] = [query.account_id, query.start_ts, query.end_ts]
        if query.addresses:
            sql += f" AND m.address IN ({', '.join('?' * len(query.addresses))})"
            params.extend(query.addresses)
        if query.fmt is not None:
            sql += " AND m.format = ?"
            params.append(query.fmt)
        if query.statuses:
            sql += f" AND m.status IN ({', '.join('?' * len(query.statuses))})"
            params.extend(query.statuses)
        if query.before_id is not None:
            sql += " AND m.id < ?"
            params.append(query.before_id)
        sql += " ORDER BY m.id DESC LIMIT ?"
        params.append(query.limit)
        with self._db.tx(write=False) as tx:
            rows = tx.all(sql, params)
        return [MessageInfo(*row) for row in rows]

    def totals(self, account_id: int, start_ts: int, end_ts: int) -> Totals:
        with self._db.tx(write=False) as tx:
            row = tx.one(
                "SELECT COUNT(*), COALESCE(SUM(parts), 0), COALESCE(SUM(cost_minor), 0), "
                f"COALESCE(SUM(CASE WHEN status = {int(MessageStatus.DELIVERED)} "
                "THEN 1 ELSE 0 END), 0), "
                f"COALESCE(SUM(CASE WHEN status IN {sql_in(FAILED)} THEN 1 ELSE 0 END), 0), "
                f"COALESCE(SUM(CASE WHEN status IN {sql_in(IN_PROGRESS)} THEN 1 ELSE 0 END), 0) "
                "FROM messages WHERE account_id = ? AND created_at >= ? AND created_at < ?",
                (account_id, start_ts, end_ts),
            )
        assert row is not None
        return Totals(*(int(v) for v in row))
