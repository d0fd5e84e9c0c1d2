"""CSV files the cabinet streams: UTF-8 with a BOM (spreadsheet programs then read it as
UTF-8, Cyrillic included), written a few hundred rows at a time, never whole in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from tidings.domain.contact_export import BOM

_FLUSH_ROWS = 500


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    yield BOM
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % _FLUSH_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
