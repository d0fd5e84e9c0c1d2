"""Small helpers that write SQL text: status lists spelt from the lifecycle's enums (so no
status number is written in a query)."""

from __future__ import annotations

from collections.abc import Iterable


def sql_in(values: Iterable[int]) -> str:
    """A literal `(a, b, …)` list for `IN`, smallest first: `sql_in(IN_PROGRESS)` is
    `(-1, 0)`. Literal, not bound, so each query's text (and plan) stays fixed."""
    return "(" + ", ".join(str(int(v)) for v in sorted(values)) + ")"
