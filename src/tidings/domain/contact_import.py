"""Reading a contacts CSV (the CLI's `import-contacts` and the cabinet's import page).

Pure: takes a binary stream, yields one item per data row, never holds the file in memory.

* Columns: `phone` (required), `name`, `email`, `group` (a group number, the `<n>` of `G<n>`).
  A first row naming `phone` (or `телефон`) is a header and sets the order; otherwise the
  columns are positional in that order.
* Delimiter: `,` or `;`, whichever the first line holds more of.
* Encoding: UTF-8 (with or without a BOM) when the first 64 KiB decode as UTF-8, otherwise
  windows-1251.
* A row with a bad phone, a bad e-mail, a bad group number or a name too long is rejected with
  its line number and the reason; the rest of the file goes on.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from tidings.domain import phones as phone_rules
from tidings.domain.contacts import MAX_CONTACT_NAME, MAX_GROUP_NUM

SNIFF_BYTES = 64 * 1024
FIELDS = ("phone", "name", "email", "group")
_HEADER_NAMES = {
    "phone": "phone",
    "телефон": "phone",
    "tel": "phone",
    "name": "name",
    "имя": "name",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "group": "group",
    "группа": "group",
}
# Rejected rows kept in a report (the count goes on beyond it).
MAX_REPORTED = 1000


@dataclass(frozen=True)
class ContactRow:
    line: int
    phone: str
    name: str
    email: str | None
    group_num: int | None


@dataclass(frozen=True)
class RejectedRow:
    """A row left out, and why: a constant English template and its values, as a domain
    error says it (errors.DomainError), so the cabinet can say it in its visitor's language."""

    line: int
    template: str
    values: Mapping[str, object] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.template % self.values if self.values else self.template


@dataclass
class ImportReport:
    """What an import did. [choice] A phone the account already has is updated: a name or
    e-mail given in the file replaces the stored one (empty cells leave it), and the contact
    joins the groups; it is never duplicated."""

    added: int = 0
    updated: int = 0
    rejected_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def reject(self, row: RejectedRow) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append(row)

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.rejected_count


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "windows-1251"
    return "utf-8"


def detect_delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def read_contacts(stream: IO[bytes], region: str = "RU") -> Iterator[ContactRow | RejectedRow]:
    """One ContactRow or RejectedRow per data row of the CSV, in file order."""
    sample = stream.read(SNIFF_BYTES)
    text = io.TextIOWrapper(
        io.BufferedReader(_Prefixed(sample, stream)), encoding=detect_encoding(sample), newline=""
    )
    first = sample.decode("utf-8", "replace").splitlines()[0] if sample.strip() else ""
    reader = csv.reader(text, delimiter=detect_delimiter(first))
    order: tuple[str, ...] | None = None
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if order is None:
            order = _header(cells)
            if order is not None:
                continue
            order = FIELDS
        yield parse_row(reader.line_num, dict(zip(order, cells, strict=False)), region)


class _Prefixed(io.RawIOBase):
    """The bytes already read for sniffing, then the rest of the stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n], self._head = self._head[:n], self._head[n:]
            return n
        chunk = self._rest.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)


def _header(cells: list[str]) -> tuple[str, ...] | None:
    names = [c.strip().lstrip("\ufeff").casefold() for c in cells]
    if not any(_HEADER_NAMES.get(n) == "phone" for n in names):
        return None
    return tuple(_HEADER_NAMES.get(n, f"unused{i}") for i, n in enumerate(names))


def parse_row(line: int, cells: dict[str, str], region: str) -> ContactRow | RejectedRow:
    raw_phone = (cells.get("phone") or "").strip()
    if not raw_phone:
        return RejectedRow(line, "no phone")
    phone = phone_rules.normalize_phone(raw_phone, region)
    if phone is None:
        return RejectedRow(line, "not a phone number: %(item)s", {"item": raw_phone[:40]})
    name = (cells.get("name") or "").strip()
    if len(name) > MAX_CONTACT_NAME:
        return RejectedRow(line, "name longer than %(n)s characters", {"n": MAX_CONTACT_NAME})
    raw_email = (cells.get("email") or "").strip()
    email = phone_rules.normalize_email(raw_email) if raw_email else None
    if raw_email and email is None:
        return RejectedRow(line, "not an e-mail address: %(item)s", {"item": raw_email[:60]})
    raw_group = (cells.get("group") or "").strip().lstrip("Gg")
    group: int | None = None
    if raw_group:
        if not (raw_group.isascii() and raw_group.isdigit()) or not (
            1 <= int(raw_group) <= MAX_GROUP_NUM
        ):
            return RejectedRow(line, "not a group number: %(item)s", {"item": raw_group[:20]})
        group = int(raw_group)
    return ContactRow(line, phone, name, email, group)
