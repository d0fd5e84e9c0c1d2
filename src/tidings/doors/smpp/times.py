"""SMPP 3.4 time fields (§7.1.1): absolute `YYMMDDhhmmsstnnp` and relative `YYMMDDhhmmss000R`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_TIME = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d)(\d{2})([+\-R])$")


class BadTime(ValueError):
    """A time field that is neither form."""


def parse_smpp_time(value: str, now: datetime) -> datetime | None:
    """The moment a time field names (aware UTC); None when the field is empty."""
    text = value.strip()
    if not text:
        return None
    match = _TIME.match(text)
    if match is None:
        raise BadTime(text)
    yy, mo, dd, hh, mi, ss, _tenths, quarters, sign = match.groups()
    if sign == "R":
        # Relative: years and months as 365 and 30 days (the spec leaves them loose).
        days = int(yy) * 365 + int(mo) * 30 + int(dd)
        return now + timedelta(days=days, hours=int(hh), minutes=int(mi), seconds=int(ss))
    try:
        local = datetime(2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss))
    except ValueError as exc:
        raise BadTime(text) from exc
    offset = timedelta(minutes=15 * int(quarters))
    utc = local - offset if sign == "+" else local + offset
    return utc.replace(tzinfo=UTC)


def format_receipt_date(ts: int) -> str:
    """`YYMMDDhhmm` in UTC, as receipt texts give their dates."""
    return datetime.fromtimestamp(ts, UTC).strftime("%y%m%d%H%M")
