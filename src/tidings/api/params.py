"""Request parameters of the /sys scripts: query, urlencoded and multipart bodies, charsets.

Values are kept as raw bytes until the charset is known (the `charset` parameter may come last),
then decoded together. The body wins over the query string on a clash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from python_multipart.multipart import MultipartParser, parse_options_header

from tidings.errors import InvalidParameter

DEFAULT_CHARSET = "windows-1251"
# python-multipart's own ceiling (RFC 2046 asks for 70 at most; clients stay far below both).
MAX_BOUNDARY = 256
_CHARSETS = {
    "windows-1251": "cp1251",
    "cp1251": "cp1251",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "koi8-r": "koi8-r",
}
# The response always names the charset by its canonical label.
_LABELS = {"cp1251": "windows-1251", "utf-8": "utf-8", "koi8-r": "koi8-r"}
RawPairs = list[tuple[str, bytes]]


@dataclass(frozen=True)
class Params:
    values: dict[str, str]
    # The Python codec for the response body, and the label for Content-Type.
    codec: str

    @property
    def charset_label(self) -> str:
        return _LABELS[self.codec]

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def text(self, name: str) -> str:
        return self.values.get(name, "")

    def flag(self, name: str) -> bool:
        return self.values.get(name, "").strip() == "1"


def answer_charset(raw: bytes | None) -> tuple[str, str]:
    """(codec, label) of the answer for a raw `charset` value; the default when it is absent
    or unknown (the error about it is then answered in the default)."""
    label = (raw or b"").decode("latin-1").strip().lower()
    codec = _CHARSETS.get(label, "cp1251")
    return codec, _LABELS[codec]


def query_pairs(query: bytes) -> RawPairs:
    return _urlencoded_pairs(query)


def body_pairs(content_type: str, body: bytes) -> RawPairs:
    # The size was checked as the body arrived (api/intake.py: `http.max_body_bytes`).
    if not body:
        return []
    mime, options = parse_options_header(content_type)
    if mime == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise InvalidParameter("multipart body without boundary")
        if len(boundary) > MAX_BOUNDARY:
            raise InvalidParameter(f"multipart boundary: at most {MAX_BOUNDARY} characters")
        return _multipart_pairs(boundary, body)
    if mime in (b"application/x-www-form-urlencoded", b""):
        return _urlencoded_pairs(body)
    return []


# `fmt` and `charset` parts of a multipart body the parser refused (a header too long, say):
# short ASCII values, so they can still be found to answer in the fmt and charset asked for.
_SETTING_PARTS = re.compile(
    rb'name="(fmt|charset)"\r\n(?:[^\r\n]{1,200}\r\n){0,8}\r\n([A-Za-z0-9 _-]{0,20})\r\n'
)


def settings_in_unreadable_body(body: bytes) -> RawPairs:
    """The `fmt`/`charset` parts of a multipart body that could not be parsed."""
    return [(m.group(1).decode(), m.group(2)) for m in _SETTING_PARTS.finditer(body)]


def decode(query: RawPairs, body: RawPairs) -> Params:
    """Merge (body wins) and decode by `charset`, or by auto-detection when it is absent."""
    merged: dict[str, bytes] = {}
    for name, value in [*query, *body]:
        merged[name] = value
    label = merged.get("charset", b"").decode("latin-1").strip().lower()
    if label:
        codec = _CHARSETS.get(label)
        if codec is None:
            raise InvalidParameter("charset must be windows-1251, utf-8 or koi8-r")
        return Params(_decode_all(merged, codec), codec)
    codec = _detect(merged.values())
    # [choice] jobs.md §1: undeclared UTF-8 is read as UTF-8; the answer keeps the default.
    return Params(_decode_all(merged, codec), "cp1251")


def _detect(values: Iterable[bytes]) -> str:
    """UTF-8 when every value is valid UTF-8 (cp1251 Cyrillic practically never is)."""
    try:
        for value in values:
            value.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8"


def _decode_all(raw: dict[str, bytes], codec: str) -> dict[str, str]:
    try:
        return {name: value.decode(codec) for name, value in raw.items()}
    except UnicodeDecodeError as exc:
        raise InvalidParameter(f"request text is not valid {_LABELS[codec]}") from exc


def refuse_nul(params: Params) -> None:
    """A NUL is text in no charset: PostgreSQL refuses it (a crash, error 3) and SQLite would
    store it. One rule for every parameter of every script, before anything is looked up."""
    for name, value in params.values.items():
        if "\x00" in name:
            raise InvalidParameter("a parameter name must not contain a NUL character")
        if "\x00" in value:
            raise InvalidParameter(f"{name}: must not contain a NUL character")


def _urlencoded_pairs(data: bytes) -> RawPairs:
    """Raw bytes per parameter; the charset is applied later, to all of them at once."""
    pairs: RawPairs = []
    for part in data.split(b"&"):
        if not part:
            continue
        name, _eq, value = part.partition(b"=")
        pairs.append((_unquote_plus(name).decode("latin-1"), _unquote_plus(value)))
    return pairs


# Escapes that a long `phones` value is made of: replaced at C speed first, so a million
# numbers never become a million pieces (urllib's unquote splits on every '%').
_COMMON_ESCAPES = tuple(
    (f"%{code:02X}".encode(), f"%{code:02x}".encode(), bytes([code]))
    for code in (0x2C, 0x3B, 0x0A, 0x0D, 0x2B, 0x20, 0x28, 0x29)
)


def _unquote_plus(raw: bytes) -> bytes:
    """Form decoding ('+' is a space, %XX a byte). Replacing one kind of escape never makes
    a new one (no '%' is produced), so the fast replacements and the final pass agree with a
    single left-to-right decoding."""
    value = raw.replace(b"+", b" ")
    if b"%" not in value:
        return value
    for upper, lower, byte in _COMMON_ESCAPES:
        value = value.replace(upper, byte).replace(lower, byte)
    return unquote_to_bytes(value) if b"%" in value else value


def _multipart_pairs(boundary: bytes, body: bytes) -> RawPairs:
    pairs: RawPairs = []
    state: dict[str, object] = {}
    header_name = bytearray()
    header_value = bytearray()
    data = bytearray()

    def on_part_begin() -> None:
        state.clear()
        data.clear()

    def on_header_field(buf: bytes, start: int, end: int) -> None:
        header_name.extend(buf[start:end])

    def on_header_value(buf: bytes, start: int, end: int) -> None:
        header_value.extend(buf[start:end])

    def on_header_end() -> None:
        if bytes(header_name).lower() == b"content-disposition":
            _disposition, opts = parse_options_header(bytes(header_value))
            state["name"] = opts.get(b"name", b"")
            state["file"] = b"filename" in opts
        header_name.clear()
        header_value.clear()

    def on_part_data(buf: bytes, start: int, end: int) -> None:
        data.extend(buf[start:end])

    def on_part_end() -> None:
        name = state.get("name")
        # Attached files (file0, file1 …) are not parameters; they are ignored here.
        if isinstance(name, bytes) and name and not state.get("file"):
            pairs.append((name.decode("latin-1"), bytes(data)))

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    try:
        # The parser refuses a boundary over 256 characters in its constructor.
        parser = MultipartParser(boundary, callbacks=callbacks)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except Exception as exc:  # the parser raises its own error types for malformed input
        raise InvalidParameter("malformed multipart body") from exc
    return pairs
