"""fmt=2: XML, compact, no declaration (`<result><id>5</id></result>`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

# Characters XML 1.0 cannot carry at all; they are dropped rather than producing broken XML.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str | int) -> str:
    return escape(_NOT_XML.sub("", str(value)))


def _element(name: str, value: str | int) -> str:
    return f"<{name}>{_text(value)}</{name}>"


class Fmt2:
    media_type = "text/xml"

    def error(self, code: int, description: str, reference: str | None = None) -> str:
        tail = _element("id", reference) if reference else ""
        return (
            f"<result>{_element('error', description)}{_element('error_code', code)}{tail}</result>"
        )

    def ok(self) -> str:
        return "<result>OK</result>"

    def add(self, job_id: int, cost: str | None) -> str:
        cost_part = "" if cost is None else _element("cost", cost)
        return f"<result>{_element('id', job_id)}{cost_part}</result>"

    def record(self, record: Sequence[tuple[str, str | int]], root: str) -> str:
        return f"<{root}>{''.join(_element(n, v) for n, v in record)}</{root}>"

    def records(
        self,
        records: Sequence[Sequence[tuple[str, str | int]]],
        root: str,
        item: str,
        empty_text: str,
    ) -> str:
        return f"<{root}>{''.join(self.record(r, item) for r in records)}</{root}>"

    def result(self, record: Sequence[tuple[str, str | int]], text: str) -> str:
        return self.record(record, "result")
