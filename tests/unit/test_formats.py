"""Response renderers and request parameter decoding (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.api.formats import renderer_for
from tidings.api.formats.text import one_line
from tidings.api.params import body_pairs, decode, query_pairs
from tidings.api.responses import encode_body
from tidings.errors import InvalidParameter


def test_one_line_escapes_line_breaks_and_backslashes_only() -> None:
    assert one_line("a\nb\r\nc\rd") == "a\\nb\\nc\\nd"
    assert one_line("C:\\path") == "C:\\\\path"
    assert one_line("a|b;c") == "a|b;c"
    assert one_line(42) == "42"


def test_xml_drops_characters_xml_cannot_carry_and_escapes_markup() -> None:
    xml = renderer_for(2).record([("name", "a\x01<b>&")], "job")
    assert xml == "<job><name>a&lt;b&gt;&amp;</name></job>"


def test_json_keeps_numbers_as_numbers_and_text_as_text() -> None:
    assert renderer_for(3).record([("id", 5), ("cost", "1.00")], "job") == (
        '[{"id": 5, "cost": "1.00"}]'
    )


def test_unencodable_characters_survive_per_format() -> None:
    assert encode_body('{"name": "a😀"}', "cp1251", "application/json") == (
        b'{"name": "a\\ud83d\\ude00"}'
    )
    assert encode_body("<n>😀</n>", "cp1251", "text/xml") == b"<n>&#128512;</n>"
    assert encode_body("a😀", "cp1251", "text/plain") == b"a?"


def test_body_wins_over_query_and_the_charset_may_come_last() -> None:
    params = decode(
        query_pairs(b"name=%C0&charset=windows-1251"),
        body_pairs("application/x-www-form-urlencoded", b"name=%E0%E1&x=1"),
    )
    assert params.values == {"name": "аб", "charset": "windows-1251", "x": "1"}
    assert params.codec == "cp1251"


def test_plus_is_a_space_in_urlencoded_values() -> None:
    assert decode(query_pairs(b"mes=a+b%2Bc"), []).values["mes"] == "a b+c"


def test_undeclared_utf8_is_read_as_utf8_but_answered_in_cp1251() -> None:
    params = decode(query_pairs("name=Привет".encode()), [])
    assert params.values["name"] == "Привет"
    assert params.codec == "cp1251"


def test_unknown_charset_is_a_parameter_error() -> None:
    with pytest.raises(InvalidParameter, match="charset"):
        decode(query_pairs(b"charset=latin-9"), [])


def test_multipart_fields_are_parameters_and_files_are_not() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="mes"\r\n\r\nhi\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file0"; filename="a.txt"\r\n\r\nX\r\n'
        b"--b--\r\n"
    )
    assert body_pairs("multipart/form-data; boundary=b", body) == [("mes", b"hi")]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_form_decoding_agrees_with_the_standard_library(text: str) -> None:
    from urllib.parse import parse_qsl, urlencode

    encoded = urlencode({"mes": text, "x": "a,b;c", "charset": "utf-8"}).encode()
    ours = decode(body_pairs("application/x-www-form-urlencoded", encoded), []).values
    assert ours == dict(parse_qsl(encoded.decode(), keep_blank_values=True))


def test_percent_escapes_of_escapes_are_decoded_once() -> None:
    assert decode(query_pairs(b"a=%252C&b=%2c%3B%2B+"), []).values == {"a": "%2C", "b": ",;+ "}
