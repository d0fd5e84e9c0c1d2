"""An account's contacts and groups, as phones.php, the cabinet and `tidings import-contacts`
manage them. The rules for each value are domain/contacts.py; the store answers a record of
another account as "not found", so its existence is never revealed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import Account
from tidings.domain.contact_import import ContactRow, ImportReport, RejectedRow
from tidings.domain.contacts import (
    ContactChange,
    ContactKeys,
    ContactView,
    GroupType,
    GroupView,
    MoveMode,
    NewContact,
)
from tidings.errors import NotFound

# Told the rows read so far while an import runs.
ImportProgress = Callable[[int], None]


class ContactStore(Protocol):
    """Requests are all-or-nothing: one name that does not resolve changes nothing."""

    def add_contacts(
        self,
        account_id: int,
        contacts: Sequence[NewContact],
        group_ids: Sequence[int],
        now: datetime,
    ) -> list[int]: ...

    def change_contact(self, account_id: int, keys: ContactKeys, change: ContactChange) -> None: ...

    def delete_contacts(self, account_id: int, keys: ContactKeys) -> None: ...

    def list_contacts(
        self,
        account_id: int,
        group_ids: Sequence[int],
        after_id: int,
        limit: int,
        search: str | None,
    ) -> list[ContactView]: ...

    def contact(self, account_id: int, contact_id: int) -> ContactView | None: ...

    def count_contacts(self, account_id: int) -> int: ...

    def iter_contacts(
        self, account_id: int, group_ids: Sequence[int] = ...
    ) -> Iterator[ContactView]:
        """Every contact (of the groups, when given), read a batch at a time."""

    def import_contacts(
        self,
        account_id: int,
        rows: Iterable[ContactRow | RejectedRow],
        group_ids: Sequence[int],
        now: datetime,
        progress: ImportProgress | None = ...,
    ) -> ImportReport: ...

    def add_group(
        self, account_id: int, name: str, num: int | None, kind: GroupType, now: datetime
    ) -> int: ...

    def change_group(
        self, account_id: int, group_id: int, name: str | None, num: int | None
    ) -> None: ...

    def delete_groups(self, account_id: int, group_ids: Sequence[int]) -> None: ...

    def list_groups(self, account_id: int) -> list[GroupView]: ...

    def group(self, account_id: int, group_id: int) -> GroupView | None: ...

    def move(
        self, account_id: int, keys: ContactKeys, group_ids: Sequence[int], mode: MoveMode
    ) -> None: ...


class ContactService:
    def __init__(self, store: ContactStore) -> None:
        self._store = store

    # ---- contacts -------------------------------------------------------------------------

    def add_contacts(
        self,
        account: Account,
        contacts: Sequence[NewContact],
        group_ids: Sequence[int],
        now: datetime,
    ) -> list[int]:
        return self._store.add_contacts(account.id, contacts, group_ids, now)

    def change_contact(self, account: Account, keys: ContactKeys, change: ContactChange) -> None:
        self._store.change_contact(account.id, keys, change)

    def delete_contacts(self, account: Account, keys: ContactKeys) -> None:
        self._store.delete_contacts(account.id, keys)

    def list_contacts(
        self,
        account: Account,
        group_ids: Sequence[int],
        after_id: int,
        limit: int,
        search: str | None,
    ) -> list[ContactView]:
        """Contacts with an id above `after_id`, in id order, at most `limit`."""
        return self._store.list_contacts(account.id, group_ids, after_id, limit, search)

    def contact(self, account: Account, contact_id: int) -> ContactView:
        found = self._store.contact(account.id, contact_id)
        if found is None:
            raise NotFound("contact not found")
        return found

    def count_contacts(self, account: Account) -> int:
        return self._store.count_contacts(account.id)

    def iter_contacts(
        self, account: Account, group_ids: Sequence[int] = ()
    ) -> Iterator[ContactView]:
        return self._store.iter_contacts(account.id, group_ids)

    def import_contacts(
        self,
        account: Account,
        rows: Iterable[ContactRow | RejectedRow],
        group_ids: Sequence[int],
        now: datetime,
        progress: ImportProgress | None = None,
    ) -> ImportReport:
        """Parsed CSV rows (domain/contact_import.py), streamed in batches; a contact whose
        phone exists is updated. Every contact joins `group_ids` and the group its row names."""
        return self._store.import_contacts(account.id, rows, group_ids, now, progress)

    # ---- groups ---------------------------------------------------------------------------

    def add_group(
        self, account: Account, name: str, num: int | None, kind: GroupType, now: datetime
    ) -> int:
        return self._store.add_group(account.id, name, num, kind, now)

    def change_group(
        self, account: Account, group_id: int, name: str | None, num: int | None
    ) -> None:
        self._store.change_group(account.id, group_id, name, num)

    def delete_groups(self, account: Account, group_ids: Sequence[int]) -> None:
        """The groups and their memberships go; their contacts stay."""
        self._store.delete_groups(account.id, group_ids)

    def list_groups(self, account: Account) -> list[GroupView]:
        return self._store.list_groups(account.id)

    def group(self, account: Account, group_id: int) -> GroupView:
        found = self._store.group(account.id, group_id)
        if found is None:
            raise NotFound("group not found")
        return found

    def group_ids_by_num(self, account: Account, nums: Sequence[int]) -> list[int]:
        """The ids of the account's groups numbered `nums` (phones.php `num`), in order."""
        by_num = {g.num: g.id for g in self._store.list_groups(account.id)}
        missing = [n for n in nums if n not in by_num]
        if missing:
            raise NotFound("no group %(numbers)s", numbers=", ".join(map(str, missing)))
        return [by_num[n] for n in nums]

    def move(
        self, account: Account, keys: ContactKeys, group_ids: Sequence[int], mode: MoveMode
    ) -> None:
        self._store.move(account.id, keys, group_ids, mode)
