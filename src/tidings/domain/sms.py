"""SMS text rules: encoding detection, segmentation, comments, transliteration, raw encodings.

Pure functions only. Segment counts are what customers are billed for, so they are computed by
actually splitting the text the way the SMSC does, not by dividing lengths.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from tidings.errors import InvalidParameter

# GSM 03.38 default alphabet in code-point order; "\x1b" (0x1B) is the escape to the extension
# table, not a character a user can type, so it is kept out of GSM7_BASIC.
_GSM7_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_ESC = 0x1B
_GSM7_CODE: dict[str, int] = {ch: code for code, ch in enumerate(_GSM7_TABLE) if code != _ESC}
_GSM7_EXT_CODE: dict[str, int] = {
    "\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F,
    "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65,
}  # fmt: skip

GSM7_BASIC: frozenset[str] = frozenset(_GSM7_CODE)
GSM7_EXTENSION: frozenset[str] = frozenset(_GSM7_EXT_CODE)
_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

# Limits per SMS: one part carries 140 octets; a concatenated part loses 6 octets to the UDH.
_GSM7_SINGLE, _GSM7_MULTI = 160, 153
_UCS2_SINGLE, _UCS2_MULTI = 70, 67
_BINARY_SINGLE, _BINARY_MULTI = 140, 134


class Encoding(enum.Enum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"
    BINARY = "binary"


@dataclass(frozen=True)
class Segmentation:
    """How a message is billed: units are septets (GSM7), UTF-16 code units (UCS2) or octets."""

    encoding: Encoding
    parts: int
    units: int


def detect_encoding(text: str) -> Encoding:
    return Encoding.GSM7 if _GSM7_ALL.issuperset(text) else Encoding.UCS2


def _septets(ch: str) -> int:
    # An extension character travels as ESC + code: two septets that must stay together.
    return 2 if ch in GSM7_EXTENSION else 1


def _utf16_units(ch: str) -> int:
    # Astral characters become a surrogate pair: two code units that must stay together.
    return 2 if ord(ch) > 0xFFFF else 1


def septet_length(text: str) -> int:
    """Septets of a GSM-7 text. No production path calls it (splitting weighs characters one
    by one): it stays as the measure tests check split_parts and gsm7_encode against."""
    return sum(_septets(ch) for ch in text)


def _split(
    text: str, weight: Callable[[str], int], single: int, multi: int
) -> tuple[list[str], int]:
    """Greedy split that only cuts between characters, so escape and surrogate pairs survive."""
    total = sum(weight(ch) for ch in text)
    if total <= single:
        return [text], total
    parts: list[str] = []
    start = used = 0
    for i, ch in enumerate(text):
        w = weight(ch)
        if used + w > multi:
            parts.append(text[start:i])
            start, used = i, 0
        used += w
    parts.append(text[start:])
    return parts, total


def _split_text(text: str) -> tuple[Encoding, list[str], int]:
    encoding = detect_encoding(text)
    if encoding is Encoding.GSM7:
        parts, units = _split(text, _septets, _GSM7_SINGLE, _GSM7_MULTI)
    else:
        parts, units = _split(text, _utf16_units, _UCS2_SINGLE, _UCS2_MULTI)
    return encoding, parts, units


def segment_count(text: str) -> Segmentation:
    # Empty text still goes out (and is billed) as one GSM-7 SMS.
    encoding, parts, units = _split_text(text)
    return Segmentation(encoding, len(parts), units)


def split_parts(text: str) -> list[str]:
    return _split_text(text)[1]


def binary_segment_count(payload: bytes) -> Segmentation:
    size = len(payload)
    parts = 1 if size <= _BINARY_SINGLE else -(-size // _BINARY_MULTI)
    return Segmentation(Encoding.BINARY, parts, size)


# The separator line: "~~~" alone on its line, blanks around it allowed, \n or \r\n line ends.
_COMMENT_LINE = re.compile(r"(?:\r\n|\n|^)[ \t]*~~~[ \t]*(?:\r\n|\n|\Z)")


def split_comment(mes: str) -> tuple[str, str]:
    """Split `mes` into (text to send, stored-only comment) at the first `~~~` line."""
    match = _COMMENT_LINE.search(mes)
    if match is None:
        return mes, ""
    return mes[: match.start()], mes[match.end() :]


_RU_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
_LATIN_FOR_RU = (
    "a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "j", "k", "l", "m", "n", "o", "p",
    "r", "s", "t", "u", "f", "h", "c", "ch", "sh", "sch", '"', "y", "'", "e", "yu", "ya",
)  # fmt: skip
_TRANSLIT: dict[str, str] = {
    **dict(zip(_RU_LOWER, _LATIN_FOR_RU, strict=True)),
    **dict(zip(_RU_LOWER.upper(), (lat.capitalize() for lat in _LATIN_FOR_RU), strict=True)),
}

# "mpaHc": Latin letters and digits that look like the Cyrillic ones. Letters missing here
# (ж, л, ф, ц, ы, э, ю, я, Д, ...) have no convincing look-alike and fall back to translit.
_LOOKALIKE: dict[str, str] = {
    **dict(zip("АБВГЕЁЗИЙКМНОПРСТУХЧШЩЪЬ", "A6BrEE3UUKMHOnPCTYX4WWbb", strict=True)),
    **dict(zip("абвгдеёзийкмнопрстухчшщъь", "a6Brgee3uukMHonpcmyx4wwbb", strict=True)),
}
_MPAHC: dict[str, str] = {**_TRANSLIT, **_LOOKALIKE}

_WORD = re.compile(r"[^\W\d_]+")


def _render_word(word: str, table: dict[str, str]) -> str:
    # In an all-caps word "ЖУК" the multi-letter renderings must shout too: "ZHUK", not "ZhUK".
    shout = len(word) > 1 and word.isupper()
    out: list[str] = []
    for ch in word:
        latin = table.get(ch, ch)
        out.append(latin.upper() if shout and len(latin) > 1 else latin)
    return "".join(out)


def transliterate(text: str, mode: int) -> str:
    """Apply the `translit` parameter: 0 keep, 1 Cyrillic → Latin, 2 Cyrillic → look-alikes."""
    if mode == 0:
        return text
    if mode == 1:
        table = _TRANSLIT
    elif mode == 2:
        table = _MPAHC
    else:
        raise InvalidParameter("translit must be 0, 1 or 2")
    return _WORD.sub(lambda m: _render_word(m.group(0), table), text)


def gsm7_encode(text: str) -> bytes:
    """Unpacked GSM-7 (one septet per octet), as SMPP sends with data_coding 0."""
    out = bytearray()
    for ch in text:
        code = _GSM7_CODE.get(ch)
        if code is not None:
            out.append(code)
        elif ch in _GSM7_EXT_CODE:
            out += bytes((_ESC, _GSM7_EXT_CODE[ch]))
        else:
            raise ValueError(f"character {ch!r} is not in the GSM 03.38 alphabet")
    return bytes(out)


def ucs2_encode(text: str) -> bytes:
    # UTF-16-BE rather than strict UCS-2, so emoji survive as surrogate pairs (what handsets read).
    return text.encode("utf-16-be")


_GSM7_CHAR: dict[int, str] = {code: ch for ch, code in _GSM7_CODE.items()}
_GSM7_EXT_CHAR: dict[int, str] = {code: ch for ch, code in _GSM7_EXT_CODE.items()}


def gsm7_decode(octets: bytes) -> str:
    """Unpacked GSM-7 (one septet per octet) → text; the reverse of `gsm7_encode`. A septet
    outside the tables (or an escape with nothing known after it) reads as "?": an inbound
    message is kept, never refused, for one odd character."""
    out: list[str] = []
    escaped = False
    for octet in octets:
        code = octet & 0x7F
        if escaped:
            out.append(_GSM7_EXT_CHAR.get(code, "?"))
            escaped = False
        elif code == _ESC:
            escaped = True
        else:
            out.append(_GSM7_CHAR.get(code, "?"))
    return "".join(out)
