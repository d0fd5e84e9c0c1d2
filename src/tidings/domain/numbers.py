"""Numbers as request parameters carry them: ASCII decimal text."""

from __future__ import annotations

from tidings.errors import InvalidParameter

# The largest integer a number parameter may name (a 64-bit row id); more is never a record.
MAX_NUMBER = 2**63 - 1


def parse_uint(text: str, limit: int = MAX_NUMBER) -> int | None:
    """An ASCII decimal 0…limit, else None. `str.isdigit` alone lets in `²` and `٣` (which
    int() rejects or reads) and 5000-digit numbers (int() refuses over 4300 digits)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(limit)):
        return None
    number = int(text)
    return number if number <= limit else None


def optional_uint(value: str | None, name: str) -> int | None:
    """A number parameter that may be left out (None), else `name: a number` (error 1)."""
    text = (value or "").strip()
    if not text:
        return None
    number = parse_uint(text)
    if number is None:
        raise InvalidParameter("%(field)s: a number", field=name)
    return number
