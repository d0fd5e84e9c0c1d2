"""Contacts as CSV, in the format the import reads (domain.contact_import): the file an
account exports can be imported again, here or into another account.

Columns `phone,name,email,group`. A contact in several groups takes one row per group (the
import joins a contact to the group of each of its rows); a contact in none, one row with an
empty `group`. UTF-8 with a BOM, so spreadsheet programs show Cyrillic names as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping

from tidings.domain.contacts import ContactView

HEADER = ("phone", "name", "email", "group")
BOM = "\ufeff"


def csv_lines(contacts: Iterable[ContactView], group_nums: Mapping[int, int]) -> Iterator[str]:
    """The header, then the rows of each contact; `group_nums` maps group ids to numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_safe(str(c)) for c in cells])
        return buffer.getvalue()

    yield BOM + line(HEADER)
    for c in contacts:
        nums = sorted(group_nums[g] for g in c.group_ids if g in group_nums)
        for num in [str(n) for n in nums] or [""]:
            yield line((c.phone, c.name, c.email, num))


def _safe(cell: str) -> str:
    """[choice] A cell a spreadsheet would run as a formula (=, +, -, @ first) is quoted with
    a leading apostrophe. Phones are digits and never need it."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
