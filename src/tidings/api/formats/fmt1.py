"""fmt=1: bare values separated by commas (errors `0,-N`); records joined by `;`."""

from __future__ import annotations

from collections.abc import Sequence

from tidings.api.formats.text import join_record


class Fmt1:
    media_type = "text/plain"

    def error(self, code: int, description: str, reference: str | None = None) -> str:
        return f"{reference or 0},-{code}"

    def ok(self) -> str:
        return "OK"

    def add(self, job_id: int, cost: str | None) -> str:
        return f"{job_id}" if cost is None else f"{job_id},{cost}"

    def record(self, record: Sequence[tuple[str, str | int]], root: str) -> str:
        return join_record(record, ";")

    def records(
        self,
        records: Sequence[Sequence[tuple[str, str | int]]],
        root: str,
        item: str,
        empty_text: str,
    ) -> str:
        if not records:
            return empty_text
        return "\n".join(join_record(r, ";") for r in records)

    def result(self, record: Sequence[tuple[str, str | int]], text: str) -> str:
        return join_record(record, ",")
