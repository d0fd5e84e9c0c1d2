"""The all-or-nothing checks a contacts request makes before it writes anything: every group
and contact it names exists (and is resolved to ids), and no phone, e-mail or group number
it sets is taken. Each raises the domain error the API answers with; scoped by account_id,
so another account's record is "not found" like a missing one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from tidings.domain.contacts import ContactKeys
from tidings.errors import NotFound, OperationFailed
from tidings.store.db import Tx

T = TypeVar("T")
# SQLite allows 32766 bound values per statement; stay far below for long lists.
_CHUNK = 500


def chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """`values` in slices short enough for one statement's IN list."""
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def require_groups(tx: Tx, account_id: int, group_ids: Sequence[int]) -> None:
    found = 0
    for chunk in chunks(group_ids):
        row = tx.one(
            "SELECT COUNT(*) FROM contact_groups WHERE account_id = ? "
            f"AND id IN ({placeholders(chunk)})",
            (account_id, *chunk),
        )
        found += int(row[0]) if row else 0
    if found != len(set(group_ids)):
        raise NotFound("group not found")


def resolve_contacts(tx: Tx, account_id: int, keys: ContactKeys) -> list[int]:
    """The ids of the named contacts; NotFound if any name matches none of the account's."""
    column, values = "email", list[Any](keys.emails)
    if keys.ids:
        column, values = "id", list(keys.ids)
    elif keys.phones:
        column, values = "phone", list(keys.phones)
    ids: dict[int, None] = {}
    seen: set[Any] = set()
    for chunk in chunks(values):
        for contact_id, value in tx.all(
            f"SELECT id, {column} FROM contacts WHERE account_id = ? "
            f"AND {column} IN ({placeholders(chunk)}) ORDER BY id",
            (account_id, *chunk),
        ):
            ids.setdefault(int(contact_id))
            seen.add(value)
    if len(seen) != len(set(values)):
        raise NotFound("contact not found")
    return list(ids)


def refuse_taken(
    tx: Tx, account_id: int, column: str, values: Sequence[str], own: Sequence[int]
) -> None:
    """[choice] A phone or e-mail belongs to one contact of the account at most."""
    exclude = f" AND id NOT IN ({placeholders(own)})" if own else ""
    for chunk in chunks(values):
        row = tx.one(
            f"SELECT {column} FROM contacts WHERE account_id = ? "
            f"AND {column} IN ({placeholders(chunk)}){exclude} LIMIT 1",
            (account_id, *chunk, *own),
        )
        if row is not None:
            raise OperationFailed("contact already exists: %(contact)s", contact=row[0])


def refuse_taken_num(tx: Tx, account_id: int, num: int, own: int | None) -> None:
    row = tx.one(
        "SELECT id FROM contact_groups WHERE account_id = ? AND num = ?", (account_id, num)
    )
    if row is not None and int(row[0]) != own:
        raise OperationFailed("group number is taken")
