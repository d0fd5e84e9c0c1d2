"""Encoding a rendered body in the request's charset, so that any text survives."""

from __future__ import annotations

from starlette.responses import Response


def _json_escape(text: str, codec: str) -> bytes:
    """Characters the charset lacks become JSON \\u escapes (still valid JSON)."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode(codec)
        except UnicodeEncodeError:
            for unit in range(0, len(char.encode("utf-16-be")), 2):
                code = int.from_bytes(char.encode("utf-16-be")[unit : unit + 2], "big")
                out += f"\\u{code:04x}".encode("ascii")
    return bytes(out)


def encode_body(text: str, codec: str, media_type: str) -> bytes:
    try:
        return text.encode(codec)
    except UnicodeEncodeError:
        if media_type == "application/json":
            return _json_escape(text, codec)
        if media_type == "text/xml":
            return text.encode(codec, errors="xmlcharrefreplace")
        return text.encode(codec, errors="replace")


def api_response(text: str, codec: str, charset_label: str, media_type: str) -> Response:
    """Always HTTP 200: API errors are told in the body (smsc-api.md §1.2)."""
    return Response(
        encode_body(text, codec, media_type),
        status_code=200,
        media_type=f"{media_type}; charset={charset_label}",
    )
