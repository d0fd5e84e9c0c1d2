"""Small helpers that write SQL text: placeholders, chunks of long id lists, and status
lists spelt from the lifecycle's enums (so no status number is written in a query)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tidings.store.db import Row, Tx


def sql_in(values: Iterable[int]) -> str:
    """A literal `(a, b, …)` list for `IN`, smallest first: `sql_in(IN_PROGRESS)` is
    `(-1, 0)`. Literal, not bound, so each query's text (and plan) stays fixed."""
    return "(" + ", ".join(str(int(v)) for v in sorted(values)) + ")"


def marks(items: Sequence[Any]) -> str:
    """`?, ?, …`, one placeholder per item."""
    return ", ".join("?" * len(items))


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def update_by_chunks(
    tx: Tx, sql: str, before: Sequence[Any], ids: Sequence[int], after: Sequence[Any]
) -> list[Row]:
    """An UPDATE … RETURNING over `ids`, 500 at a time (`{ids}` in `sql` marks their place,
    between the parameters `before` and `after`); the rows of every chunk."""
    rows: list[Row] = []
    for chunk in chunks(ids, 500):
        rows += tx.all(sql.replace("{ids}", marks(chunk)), (*before, *chunk, *after))
    return rows
