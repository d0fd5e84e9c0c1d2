"""Contacts, groups, group members, the blacklist and sender names (phones.php, senders.php).

Every statement is scoped by account_id: a record of another account is never found, so it
answers as "not found" and its existence is not revealed. Requests are all-or-nothing: every
name they give is resolved first, and one missing name changes nothing (those checks:
`contact_checks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from tidings.domain.clock import to_ts
from tidings.domain.contact_import import ContactRow, ImportReport, RejectedRow
from tidings.domain.contacts import (
    BlacklistType,
    BlacklistView,
    ContactChange,
    ContactKeys,
    ContactView,
    GroupType,
    GroupView,
    MoveMode,
    NewContact,
    SenderView,
    matches,
    next_group_num,
)
from tidings.errors import NotFound, OperationFailed, RecordError
from tidings.store import contact_import
from tidings.store.contact_checks import (
    chunks,
    placeholders,
    refuse_taken,
    refuse_taken_num,
    require_groups,
    resolve_contacts,
)
from tidings.store.db import Database, Tx

# Rows read per round when `search` filters in Python (see `list_contacts`).
_SCAN_BATCH = 1000
# Class id of this store's PostgreSQL advisory locks (the second key is the account id).
_LOCK_CLASS = 0x7C0


class ContactStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def _write(self, account_id: int) -> Iterator[Tx]:
        """A write transaction that serialises the account's writes here, so "is this number
        taken?" stays true until the insert. PostgreSQL: an advisory transaction lock per
        account; SQLite needs none, BEGIN IMMEDIATE already serialises every writer."""
        with self._db.tx() as tx:
            if tx.dialect == "postgresql":
                tx.one(
                    "SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), CAST(? AS INTEGER))",
                    (_LOCK_CLASS, account_id),
                )
            yield tx

    # ---- contacts -------------------------------------------------------------------------

    def add_contacts(
        self,
        account_id: int,
        contacts: Sequence[NewContact],
        group_ids: Sequence[int],
        now: datetime,
    ) -> list[int]:
        with self._write(account_id) as tx:
            require_groups(tx, account_id, group_ids)
            phones = [c.phone for c in contacts if c.phone is not None]
            emails = [c.email for c in contacts if c.email is not None]
            refuse_taken(tx, account_id, "phone", phones, ())
            refuse_taken(tx, account_id, "email", emails, ())
            ids: list[int] = []
            for contact in contacts:
                row = tx.one(
                    "INSERT INTO contacts (account_id, phone, email, name, created_at) "
                    "VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (account_id, contact.phone, contact.email, contact.name, to_ts(now)),
                )
                assert row is not None
                ids.append(int(row[0]))
            _join(tx, ids, group_ids)
        return ids

    def change_contact(self, account_id: int, keys: ContactKeys, change: ContactChange) -> None:
        with self._write(account_id) as tx:
            ids = resolve_contacts(tx, account_id, keys)
            if change.phone is not None:
                refuse_taken(tx, account_id, "phone", [change.phone], ids)
            if change.email is not None:
                refuse_taken(tx, account_id, "email", [change.email], ids)
            fields = [
                (column, value)
                for column, value in (
                    ("phone", change.phone),
                    ("email", change.email),
                    ("name", change.name),
                )
                if value is not None
            ]
            sets = ", ".join(f"{column} = ?" for column, _value in fields)
            tx.execute(
                f"UPDATE contacts SET {sets} WHERE account_id = ? AND id IN ({placeholders(ids)})",
                (*(value for _column, value in fields), account_id, *ids),
            )

    def delete_contacts(self, account_id: int, keys: ContactKeys) -> None:
        with self._write(account_id) as tx:
            ids = resolve_contacts(tx, account_id, keys)
            for chunk in chunks(ids):
                tx.execute(
                    f"DELETE FROM group_members WHERE contact_id IN ({placeholders(chunk)})", chunk
                )
                tx.execute(
                    f"DELETE FROM contacts WHERE account_id = ? AND id IN ({placeholders(chunk)})",
                    (account_id, *chunk),
                )

    def list_contacts(
        self,
        account_id: int,
        group_ids: Sequence[int],
        after_id: int,
        limit: int,
        search: str | None,
    ) -> list[ContactView]:
        """Contacts with an id above `after_id`, in id order, at most `limit`.

        `search` is matched in Python (domain.contacts.matches): SQL LIKE folds case
        differently on SQLite and PostgreSQL, and the answer must not depend on the database.
        """
        sql = (
            "SELECT c.id, COALESCE(c.phone, ''), COALESCE(c.email, ''), c.name FROM contacts c "
            "WHERE c.account_id = ? AND c.id > ?"
        )
        if group_ids:
            sql += (
                " AND EXISTS (SELECT 1 FROM group_members gm WHERE gm.contact_id = c.id "
                f"AND gm.group_id IN ({placeholders(group_ids)}))"
            )
        sql += " ORDER BY c.id LIMIT ?"
        batch = limit if search is None else _SCAN_BATCH
        found: list[tuple[Any, ...]] = []
        cursor = after_id
        with self._db.tx(write=False) as tx:
            require_groups(tx, account_id, group_ids)
            while len(found) < limit:
                rows = tx.all(sql, (account_id, cursor, *group_ids, batch))
                found += [r for r in rows if search is None or matches(search, r[1], r[2], r[3])]
                if len(rows) < batch:
                    break
                cursor = int(rows[-1][0])
            found = found[:limit]
            groups = _groups_of(tx, [int(r[0]) for r in found])
        return [
            ContactView(int(r[0]), r[1], r[2], r[3], tuple(groups.get(int(r[0]), ())))
            for r in found
        ]

    def contact(self, account_id: int, contact_id: int) -> ContactView | None:
        """One of the account's contacts (None: no such contact, or another account's)."""
        with self._db.tx(write=False) as tx:
            row = tx.one(
                "SELECT id, COALESCE(phone, ''), COALESCE(email, ''), name FROM contacts "
                "WHERE account_id = ? AND id = ?",
                (account_id, contact_id),
            )
            if row is None:
                return None
            groups = _groups_of(tx, [int(row[0])])
        return ContactView(int(row[0]), row[1], row[2], row[3], tuple(groups.get(int(row[0]), ())))

    def count_contacts(self, account_id: int) -> int:
        with self._db.tx(write=False) as tx:
            row = tx.one("SELECT COUNT(*) FROM contacts WHERE account_id = ?", (account_id,))
        return int(row[0]) if row else 0

    def iter_contacts(
        self, account_id: int, group_ids: Sequence[int] = (), batch: int = _SCAN_BATCH
    ) -> Iterator[ContactView]:
        """Every contact (of the groups, when given) in id order, read a batch per short
        transaction: an export of any size holds neither a transaction nor the whole list."""
        after = 0
        while True:
            page = self.list_contacts(account_id, group_ids, after, batch, None)
            yield from page
            if len(page) < batch:
                return
            after = page[-1].id

    def import_contacts(
        self,
        account_id: int,
        rows: Iterable[ContactRow | RejectedRow],
        group_ids: Sequence[int],
        now: datetime,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import parsed CSV rows (tidings.domain.contact_import.read_contacts), streamed in
        batches of 1,000, one transaction each; `progress` gets the rows read so far after
        each batch. Every contact joins `group_ids` (ids) and the group its row names."""
        report = ImportReport()
        with self._db.tx(write=False) as tx:
            require_groups(tx, account_id, group_ids)
            rows_ = tx.all("SELECT num, id FROM contact_groups WHERE account_id = ?", (account_id,))
            groups = {int(num): int(group_id) for num, group_id in rows_}
        seen = 0
        batch: list[ContactRow] = []
        for row in rows:
            seen += 1
            if isinstance(row, RejectedRow):
                report.reject(row)
            else:
                batch.append(row)
            if len(batch) >= contact_import.BATCH:
                self._import_batch(account_id, batch, groups, group_ids, now, report)
                batch = []
                if progress is not None:
                    progress(seen)
        if batch:
            self._import_batch(account_id, batch, groups, group_ids, now, report)
        if progress is not None:
            progress(seen)
        return report

    def _import_batch(
        self,
        account_id: int,
        batch: list[ContactRow],
        groups: dict[int, int],
        group_ids: Sequence[int],
        now: datetime,
        report: ImportReport,
    ) -> None:
        with self._write(account_id) as tx:
            contact_import.import_batch(
                tx, account_id, batch, groups, group_ids, to_ts(now), report
            )

    # ---- groups ---------------------------------------------------------------------------

    def add_group(
        self, account_id: int, name: str, num: int | None, kind: GroupType, now: datetime
    ) -> int:
        with self._write(account_id) as tx:
            if num is None:
                row = tx.one(
                    "SELECT MAX(num) FROM contact_groups WHERE account_id = ?", (account_id,)
                )
                num = next_group_num(None if row is None or row[0] is None else int(row[0]))
                if num is None:
                    raise OperationFailed("no free group number")
            else:
                refuse_taken_num(tx, account_id, num, None)
            row = tx.one(
                "INSERT INTO contact_groups (account_id, num, name, type, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (account_id, num, name, int(kind), to_ts(now)),
            )
        assert row is not None
        return int(row[0])

    def change_group(
        self, account_id: int, group_id: int, name: str | None, num: int | None
    ) -> None:
        with self._write(account_id) as tx:
            require_groups(tx, account_id, [group_id])
            if num is not None:
                refuse_taken_num(tx, account_id, num, group_id)
                tx.execute("UPDATE contact_groups SET num = ? WHERE id = ?", (num, group_id))
            if name is not None:
                tx.execute("UPDATE contact_groups SET name = ? WHERE id = ?", (name, group_id))

    def delete_groups(self, account_id: int, group_ids: Sequence[int]) -> None:
        """The groups and their memberships go; their contacts stay."""
        with self._write(account_id) as tx:
            require_groups(tx, account_id, group_ids)
            for chunk in chunks(group_ids):
                marks = placeholders(chunk)
                tx.execute(f"DELETE FROM group_members WHERE group_id IN ({marks})", chunk)
                tx.execute(
                    f"DELETE FROM contact_groups WHERE account_id = ? AND id IN ({marks})",
                    (account_id, *chunk),
                )

    def list_groups(self, account_id: int) -> list[GroupView]:
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT g.id, g.num, g.name, g.type, (SELECT COUNT(*) FROM group_members gm "
                "WHERE gm.group_id = g.id) FROM contact_groups g WHERE g.account_id = ? "
                "ORDER BY g.id",
                (account_id,),
            )
        return [GroupView(int(r[0]), int(r[1]), r[2], int(r[3]), int(r[4])) for r in rows]

    def group(self, account_id: int, group_id: int) -> GroupView | None:
        """One of the account's groups (None: no such group, or another account's)."""
        with self._db.tx(write=False) as tx:
            row = tx.one(
                "SELECT g.id, g.num, g.name, g.type, (SELECT COUNT(*) FROM group_members gm "
                "WHERE gm.group_id = g.id) FROM contact_groups g WHERE g.account_id = ? "
                "AND g.id = ?",
                (account_id, group_id),
            )
        if row is None:
            return None
        return GroupView(int(row[0]), int(row[1]), row[2], int(row[3]), int(row[4]))

    def move(
        self, account_id: int, keys: ContactKeys, group_ids: Sequence[int], mode: MoveMode
    ) -> None:
        with self._write(account_id) as tx:
            require_groups(tx, account_id, group_ids)
            ids = resolve_contacts(tx, account_id, keys)
            marks = placeholders(group_ids)
            for chunk in chunks(ids):
                members = f"contact_id IN ({placeholders(chunk)})"
                if mode is MoveMode.MOVE:
                    tx.execute(
                        f"DELETE FROM group_members WHERE {members} AND group_id NOT IN ({marks})",
                        (*chunk, *group_ids),
                    )
                elif mode is MoveMode.REMOVE:
                    tx.execute(
                        f"DELETE FROM group_members WHERE {members} AND group_id IN ({marks})",
                        (*chunk, *group_ids),
                    )
            if mode is not MoveMode.REMOVE:
                _join(tx, ids, group_ids)

    # ---- blacklist ------------------------------------------------------------------------

    def add_blacklist(
        self, account_id: int, addresses: Sequence[str], kind: BlacklistType, now: datetime
    ) -> list[int]:
        """Stop-list the addresses; one already listed takes the new `type` and keeps its id."""
        ids: list[int] = []
        with self._write(account_id) as tx:
            for address in addresses:
                row = tx.one(
                    "INSERT INTO blacklist (account_id, address, type, created_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (account_id, address) "
                    "DO UPDATE SET type = excluded.type RETURNING id",
                    (account_id, address, int(kind), to_ts(now)),
                )
                assert row is not None
                ids.append(int(row[0]))
        return ids

    def delete_blacklist(self, account_id: int, addresses: Sequence[str]) -> None:
        with self._write(account_id) as tx:
            listed: set[str] = set()
            for chunk in chunks(addresses):
                listed.update(
                    r[0]
                    for r in tx.all(
                        "SELECT address FROM blacklist WHERE account_id = ? "
                        f"AND address IN ({placeholders(chunk)})",
                        (account_id, *chunk),
                    )
                )
            if listed != set(addresses):
                raise NotFound("not in the blacklist")
            for chunk in chunks(addresses):
                tx.execute(
                    "DELETE FROM blacklist WHERE account_id = ? "
                    f"AND address IN ({placeholders(chunk)})",
                    (account_id, *chunk),
                )

    def list_blacklist(self, account_id: int, after_id: int, limit: int) -> list[BlacklistView]:
        with self._db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT id, address, type FROM blacklist WHERE account_id = ? AND id > ? "
                "ORDER BY id LIMIT ?",
                (account_id, after_id, limit),
            )
        return [BlacklistView(int(r[0]), r[1], int(r[2])) for r in rows]

    # ---- senders --------------------------------------------------------------------------

    def senders(self, account_id: int, *, approved_only: bool) -> list[SenderView]:
        sql = "SELECT id, name, approved FROM senders WHERE account_id = ?"
        params: list[Any] = [account_id]
        if approved_only:
            sql += " AND approved = ?"
            params.append(True)
        with self._db.tx(write=False) as tx:
            rows = tx.all(sql + " ORDER BY id", params)
        return [SenderView(int(r[0]), r[1], bool(r[2])) for r in rows]

    def add_sender(self, account_id: int, name: str, now: datetime) -> int:
        """A new name waits for an operator's approval (`tidings senders approve`)."""
        with self._write(account_id) as tx:
            if tx.one(
                "SELECT 1 FROM senders WHERE account_id = ? AND name = ?", (account_id, name)
            ):
                raise RecordError("sender already exists")
            row = tx.one(
                "INSERT INTO senders (account_id, name, approved, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (account_id, name, False, to_ts(now)),
            )
        assert row is not None
        return int(row[0])

    def delete_sender(
        self, account_id: int, *, sender_id: int | None = None, name: str | None = None
    ) -> None:
        column, value = ("id", sender_id) if sender_id is not None else ("name", name)
        with self._write(account_id) as tx:
            deleted = tx.execute(
                f"DELETE FROM senders WHERE account_id = ? AND {column} = ?", (account_id, value)
            )
        if deleted == 0:
            raise NotFound("sender not found")

    def approve_sender(self, account_id: int, name: str, approved: bool = True) -> bool:
        """Set the operator's decision; False when the account has no such sender."""
        with self._write(account_id) as tx:
            changed = tx.execute(
                "UPDATE senders SET approved = ? WHERE account_id = ? AND name = ?",
                (approved, account_id, name),
            )
        return changed > 0


def _join(tx: Tx, contact_ids: Sequence[int], group_ids: Sequence[int]) -> None:
    tx.execute_many(
        "INSERT INTO group_members (group_id, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(g, c) for c in contact_ids for g in group_ids],
    )


def _groups_of(tx: Tx, contact_ids: Sequence[int]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for chunk in chunks(contact_ids):
        for contact_id, group_id in tx.all(
            "SELECT contact_id, group_id FROM group_members "
            f"WHERE contact_id IN ({placeholders(chunk)}) "
            "ORDER BY contact_id, group_id",
            chunk,
        ):
            groups.setdefault(int(contact_id), []).append(int(group_id))
    return groups
