"""The store side of a contacts import: one transaction per batch of rows, a handful of
statements per batch (never one per row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tidings.domain.contact_import import ContactRow, ImportReport, RejectedRow
from tidings.store.db import Tx

BATCH = 1000
_CHUNK = 500


@dataclass
class _Merged:
    """The rows of one phone within a batch, merged in file order."""

    first_line: int
    name: str = ""
    email: str | None = None
    groups: set[int] = field(default_factory=set)


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _lookup(tx: Tx, account_id: int, column: str, values: Sequence[str]) -> dict[str, int]:
    """value → id of the account's (first) contact with that phone or e-mail."""
    found: dict[str, int] = {}
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        for contact_id, value in tx.all(
            f"SELECT id, {column} FROM contacts WHERE account_id = ? "
            f"AND {column} IN ({_marks(chunk)}) ORDER BY id",
            (account_id, *chunk),
        ):
            found.setdefault(value, int(contact_id))
    return found


def import_batch(
    tx: Tx,
    account_id: int,
    rows: Sequence[ContactRow],
    groups_by_num: dict[int, int],
    group_ids: Sequence[int],
    now: int,
    report: ImportReport,
) -> None:
    merged: dict[str, _Merged] = {}
    for row in rows:
        if row.group_num is not None and row.group_num not in groups_by_num:
            report.reject(RejectedRow(row.line, "no group %(numbers)s", {"numbers": row.group_num}))
            continue
        entry = merged.setdefault(row.phone, _Merged(row.line))
        entry.name = row.name or entry.name
        entry.email = row.email or entry.email
        entry.groups.update(group_ids)
        if row.group_num is not None:
            entry.groups.add(groups_by_num[row.group_num])
    existing = _lookup(tx, account_id, "phone", list(merged))
    emails = [e.email for e in merged.values() if e.email]
    email_owner = _lookup(tx, account_id, "email", emails)
    claimed: dict[str, str] = {}  # e-mail → phone, within this batch
    for phone, entry in list(merged.items()):
        if entry.email is None:
            continue
        owner = email_owner.get(entry.email)
        taken = owner is not None and owner != existing.get(phone)
        if taken or claimed.setdefault(entry.email, phone) != phone:
            report.reject(
                RejectedRow(
                    entry.first_line,
                    "e-mail %(email)s belongs to another contact",
                    {"email": entry.email},
                )
            )
            del merged[phone]
    new = [p for p in merged if p not in existing]
    tx.insert_rows(
        "contacts",
        ("account_id", "phone", "email", "name", "created_at"),
        ((account_id, p, merged[p].email, merged[p].name, now) for p in new),
    )
    ids = {**existing, **_lookup(tx, account_id, "phone", new)}
    tx.execute_many(
        "UPDATE contacts SET name = CASE WHEN ? = '' THEN name ELSE ? END, "
        "email = COALESCE(?, email) WHERE id = ?",
        [(e.name, e.name, e.email, existing[p]) for p, e in merged.items() if p in existing],
    )
    tx.execute_many(
        "INSERT INTO group_members (group_id, contact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(g, ids[p]) for p, e in merged.items() for g in sorted(e.groups)],
    )
    report.added += len(new)
    report.updated += len(merged) - len(new)
