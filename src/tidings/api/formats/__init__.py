"""One renderer per `fmt`: 0 text, 1 bare values, 2 XML, 3 JSON."""

from __future__ import annotations

from typing import Protocol

from tidings.api.formats.fmt0 import Fmt0
from tidings.api.formats.fmt1 import Fmt1
from tidings.api.formats.fmt2 import Fmt2
from tidings.api.formats.fmt3 import Fmt3

Value = str | int
Record = list[tuple[str, Value]]


class Renderer(Protocol):
    media_type: str

    def error(self, code: int, description: str, reference: str | None = None) -> str: ...

    def ok(self) -> str: ...

    def add(self, job_id: int, cost: str | None) -> str: ...

    def record(self, record: Record, root: str) -> str: ...

    def records(self, records: list[Record], root: str, item: str, empty_text: str) -> str: ...

    def result(self, record: Record, text: str) -> str:
        """One result: `text` in fmt 0, the values in fmt 1, `<result>` / an object else."""


RENDERERS: dict[int, Renderer] = {0: Fmt0(), 1: Fmt1(), 2: Fmt2(), 3: Fmt3()}


def renderer_for(fmt: int) -> Renderer:
    return RENDERERS[fmt]
