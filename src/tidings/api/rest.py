"""`/rest/send/`: send.php with its parameters in a JSON object (smsc-api.md §1.1; a Go
client uses only this). The JSON becomes the same parameters a form body would carry, so the
request then takes the path of every /sys script, and it is always answered as fmt=3."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from tidings.api.params import RawPairs, body_pairs
from tidings.errors import InvalidParameter

# Appended after the query and the body, so they win over a `fmt` or `charset` the client
# gave: JSON is UTF-8 (RFC 8259), and the answer of /rest/ is JSON.
REST_SETTINGS: RawPairs = [("fmt", b"3"), ("charset", b"utf-8")]


@dataclass(frozen=True)
class Variant:
    """How one family of paths reads its body and which settings it imposes."""

    read_body: Callable[[str, bytes], RawPairs]
    settings: RawPairs


SYS = Variant(body_pairs, [])


def json_pairs(_content_type: str, body: bytes) -> RawPairs:
    """The parameters of a JSON object body, whatever Content-Type the client named (Go's
    http.Post callers name it loosely). Strings stay, numbers are written in decimal, `true`
    and `false` are the flags 1 and 0, a list is joined by `,` (`phones`), null is absent."""
    if not body.strip():
        return []
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidParameter("the body is not valid JSON") from exc
    if not isinstance(document, dict):
        raise InvalidParameter("the body must be a JSON object")
    pairs: RawPairs = []
    for name, value in document.items():
        text = _text(name, value)
        if text is not None:
            pairs.append((name, text.encode("utf-8")))
    return pairs


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join(_scalar(name, item) for item in value)
    return _scalar(name, value)


def _scalar(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise InvalidParameter(f"{name}: a string, a number, true/false or a list of them")


REST = Variant(json_pairs, REST_SETTINGS)
