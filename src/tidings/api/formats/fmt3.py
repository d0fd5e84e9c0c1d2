"""fmt=3: JSON. Numbers stay numbers; money and dates are strings (jobs.md §3)."""

from __future__ import annotations

import json
from collections.abc import Sequence


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class Fmt3:
    media_type = "application/json"

    def error(self, code: int, description: str, reference: str | None = None) -> str:
        body: dict[str, object] = {"error": description, "error_code": code}
        if reference:
            body["id"] = int(reference) if reference.isdigit() else reference
        return _dumps(body)

    def ok(self) -> str:
        return _dumps({"result": "OK"})

    def add(self, job_id: int, cost: str | None) -> str:
        return _dumps({"id": job_id} if cost is None else {"id": job_id, "cost": cost})

    def record(self, record: Sequence[tuple[str, str | int]], root: str) -> str:
        return _dumps([dict(record)])

    def records(
        self,
        records: Sequence[Sequence[tuple[str, str | int]]],
        root: str,
        item: str,
        empty_text: str,
    ) -> str:
        return _dumps([dict(r) for r in records])

    def result(self, record: Sequence[tuple[str, str | int]], text: str) -> str:
        return _dumps(dict(record))
