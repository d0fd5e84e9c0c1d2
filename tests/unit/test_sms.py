"""SMS text rules: segmentation must match what the SMSC bills, checked against smsutil."""

from __future__ import annotations

import pytest
import smsutil
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.domain.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    Encoding,
    Segmentation,
    binary_segment_count,
    detect_encoding,
    gsm7_encode,
    segment_count,
    septet_length,
    split_comment,
    split_parts,
    transliterate,
    ucs2_encode,
)
from tidings.errors import InvalidParameter

CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"

# --- alphabet and encoding ---------------------------------------------------------------


def test_alphabet_sizes_and_extension_table() -> None:
    # 128 code points minus the escape code itself.
    assert len(GSM7_BASIC) == 127
    assert set("^{}\\[~]|€\f") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", Encoding.GSM7),
        ("Ç", Encoding.GSM7),
        ("ç", Encoding.UCS2),  # only the capital C-cedilla is in GSM 03.38
        ("price 5€ {x}", Encoding.GSM7),
        ("Привет", Encoding.UCS2),
        ("ok 😀", Encoding.UCS2),
        ("\x1b", Encoding.UCS2),  # the escape code is not a character of the alphabet
        ("", Encoding.GSM7),
    ],
)
def test_detect_encoding(text: str, expected: Encoding) -> None:
    assert detect_encoding(text) is expected


def test_septet_length_counts_extension_chars_twice() -> None:
    assert septet_length("a€{") == 5
    assert septet_length("") == 0


# --- segmentation boundaries -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, Segmentation(Encoding.GSM7, 1, 160)),
        ("a" * 161, Segmentation(Encoding.GSM7, 2, 161)),
        ("a" * 306, Segmentation(Encoding.GSM7, 2, 306)),
        ("a" * 307, Segmentation(Encoding.GSM7, 3, 307)),
        ("я" * 70, Segmentation(Encoding.UCS2, 1, 70)),
        ("я" * 71, Segmentation(Encoding.UCS2, 2, 71)),
        ("я" * 134, Segmentation(Encoding.UCS2, 2, 134)),
        ("я" * 135, Segmentation(Encoding.UCS2, 3, 135)),
        ("€" * 80, Segmentation(Encoding.GSM7, 1, 160)),
        ("€" * 80 + "a", Segmentation(Encoding.GSM7, 2, 161)),
        ("", Segmentation(Encoding.GSM7, 1, 0)),
    ],
)
def test_segment_count_boundaries(text: str, expected: Segmentation) -> None:
    assert segment_count(text) == expected


def test_empty_text_is_one_part() -> None:
    assert split_parts("") == [""]


def test_single_part_text_is_returned_whole() -> None:
    assert split_parts("a" * 160) == ["a" * 160]


def test_escape_pair_is_not_split() -> None:
    # 152 septets + "€" would be 154 > 153: the whole pair moves to the second part.
    text = "a" * 152 + "€" + "b" * 10
    assert split_parts(text) == ["a" * 152, "€" + "b" * 10]


def test_escape_pairs_make_more_parts_than_length_suggests() -> None:
    # 81 characters but 161 septets; 76 pairs fill a part (152), the 77th would not fit.
    text = "{}" * 40 + "x"
    assert [len(p) for p in split_parts(text)] == [76, 5]
    assert segment_count(text) == Segmentation(Encoding.GSM7, 2, 161)


def test_surrogate_pair_is_not_split() -> None:
    text = "я" * 66 + "😀" + "b" * 5  # 66 + 2 + 5 = 73 UTF-16 units
    assert split_parts(text) == ["я" * 66, "😀bbbbb"]
    assert segment_count(text) == Segmentation(Encoding.UCS2, 2, 73)


def test_surrogate_pair_counts_two_units_in_single_part() -> None:
    assert segment_count("я" * 68 + "😀") == Segmentation(Encoding.UCS2, 1, 70)
    assert segment_count("я" * 69 + "😀").parts == 2


# --- property tests against the smsutil oracle -------------------------------------------

# smsutil counts "\x1b" as a GSM character; we (correctly) do not, so keep it out.
_MIXED = sorted(GSM7_BASIC | GSM7_EXTENSION) + list(CYRILLIC) + list("😀🚀中文ß")
_GSM_ONLY = sorted(GSM7_BASIC | GSM7_EXTENSION)
_texts = st.one_of(
    st.text(alphabet=_GSM_ONLY, min_size=1, max_size=500),
    st.text(alphabet=_MIXED, min_size=1, max_size=300),
    # Mostly GSM with few extension chars hits the 153/154 escape boundary often.
    st.text(alphabet=st.sampled_from("ab€{"), min_size=150, max_size=330),
    st.text(alphabet=st.sampled_from("яю😀"), min_size=60, max_size=210),
)


@settings(max_examples=400, deadline=None)
@given(_texts)
def test_segmentation_matches_smsutil(text: str) -> None:
    oracle = smsutil.split(text)
    ours = segment_count(text)
    expected_encoding = Encoding.GSM7 if oracle.encoding == "gsm0338" else Encoding.UCS2
    assert ours.encoding is expected_encoding
    assert ours.parts == len(oracle.parts)
    assert split_parts(text) == [part.content for part in oracle.parts]
    unit_bytes = 1 if ours.encoding is Encoding.GSM7 else 2
    assert ours.units * unit_bytes == oracle.total_bytes


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_parts_rejoin_and_respect_limits(text: str) -> None:
    parts = split_parts(text)
    assert "".join(parts) == text
    assert len(parts) == segment_count(text).parts
    if detect_encoding(text) is Encoding.GSM7:
        sizes = [septet_length(p) for p in parts]
        single, multi = 160, 153
    else:
        sizes = [len(p.encode("utf-16-be")) // 2 for p in parts]
        single, multi = 70, 67
    if len(parts) > 1:
        assert all(0 < size <= multi for size in sizes)
        assert sum(sizes) > single
    else:
        assert sizes[0] <= single


# --- binary -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "parts"), [(0, 1), (1, 1), (140, 1), (141, 2), (268, 2), (269, 3)]
)
def test_binary_segment_count(size: int, parts: int) -> None:
    assert binary_segment_count(b"\x00" * size) == Segmentation(Encoding.BINARY, parts, size)


# --- comments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mes", "expected"),
    [
        ("hello\n~~~\ncomment", ("hello", "comment")),
        ("hello\r\n~~~\r\ncomment\r\nmore", ("hello", "comment\r\nmore")),
        ("hello\n  ~~~ \t\ncomment", ("hello", "comment")),
        ("hello\n~~~", ("hello", "")),
        ("~~~\nonly a comment", ("", "only a comment")),
        ("hello\n\n~~~\nc", ("hello\n", "c")),  # only the line break before ~~~ goes
        ("a\n~~~\nc1\n~~~\nc2", ("a", "c1\n~~~\nc2")),  # the first separator wins
        ("hello", ("hello", "")),
        ("a ~~~ b\nc", ("a ~~~ b\nc", "")),  # not alone on its line
        ("hello\n~~~~\nc", ("hello\n~~~~\nc", "")),  # four tildes is text
        ("", ("", "")),
    ],
)
def test_split_comment(mes: str, expected: tuple[str, str]) -> None:
    assert split_comment(mes) == expected


# --- transliteration ----------------------------------------------------------------------


def test_translit_mode_0_keeps_text() -> None:
    assert transliterate("Привет, мир!", 0) == "Привет, мир!"


def test_translit_full_lower_alphabet() -> None:
    expected = "a b v g d e yo zh z i j k l m n o p r s t u f h c ch sh sch \" y ' e yu ya"
    assert transliterate(" ".join("абвгдеёжзийклмнопрстуфхцчшщъыьэюя"), 1) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Привет, мир!", "Privet, mir!"),
        ("Жук", "Zhuk"),
        ("ЖУК", "ZHUK"),
        ("Ж", "Zh"),
        ("Щука и ёж", "Schuka i yozh"),
        ("Съешь", "S\"esh'"),
        ("Order 42: Заказ №7", "Order 42: Zakaz №7"),
    ],
)
def test_translit_mode_1(text: str, expected: str) -> None:
    assert transliterate(text, 1) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("транс", "mpaHc"),
        ("ТРАНС", "TPAHC"),
        ("шоколад", "wokolag"),
        ("Жук", "Zhyk"),  # ж has no look-alike: falls back to translit
        ("ЖУК", "ZHYK"),
        ("зачем", "3a4eM"),
        ("Юля", "Yulya"),
    ],
)
def test_translit_mode_2(text: str, expected: str) -> None:
    assert transliterate(text, 2) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=CYRILLIC + " ,.!?-0123456789", max_size=200), st.sampled_from([1, 2]))
def test_translit_output_is_gsm7(text: str, mode: int) -> None:
    # The point of translit: Russian text is billed at GSM rates (160/153).
    assert detect_encoding(transliterate(text, mode)) is Encoding.GSM7


@pytest.mark.parametrize("mode", [-1, 3, 10])
def test_translit_rejects_unknown_mode(mode: int) -> None:
    with pytest.raises(InvalidParameter, match="translit must be 0, 1 or 2"):
        transliterate("текст", mode)


# --- raw encodings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@", b"\x00"),
        ("€", b"\x1b\x65"),
        ("{", b"\x1b\x28"),
        ("Hello", b"Hello"),
        ("£$¥", b"\x01\x02\x03"),
        ("Ç\n", b"\x09\x0a"),
        ("¡¿à", b"\x40\x60\x7f"),
        ("a|b", b"a\x1b\x40b"),
        ("", b""),
    ],
)
def test_gsm7_encode(text: str, expected: bytes) -> None:
    assert gsm7_encode(text) == expected


@pytest.mark.parametrize("text", ["ç", "Жук", "\x1b", "😀"])
def test_gsm7_encode_rejects_non_gsm(text: str) -> None:
    with pytest.raises(ValueError, match=r"GSM 03\.38"):
        gsm7_encode(text)


@given(st.text(alphabet=_GSM_ONLY, max_size=200))
def test_gsm7_encode_length_is_septet_length(text: str) -> None:
    encoded = gsm7_encode(text)
    assert len(encoded) == septet_length(text)
    assert all(byte < 0x80 for byte in encoded)


def test_ucs2_encode() -> None:
    assert ucs2_encode("Жa") == b"\x04\x16\x00a"
    assert ucs2_encode("😀") == b"\xd8\x3d\xde\x00"
