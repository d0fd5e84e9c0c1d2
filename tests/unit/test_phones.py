"""Recipient parsing and phone/e-mail normalisation."""

from __future__ import annotations

import time

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.domain.phones import (
    ParsedRecipients,
    _slow_path,
    group_number,
    normalize_email,
    normalize_phone,
    parse_recipients,
    region_of,
    split_recipients,
    timezone_of,
)

# --- splitting ----------------------------------------------------------------------------


def test_split_recipients_mixed_separators() -> None:
    raw = " 79161234567, 79161234568;79161234569\n79161234570\r\n 79161234571 \r79161234572"
    assert split_recipients(raw) == [f"7916123456{i}" for i in range(7, 10)] + [
        "79161234570",
        "79161234571",
        "79161234572",
    ]


def test_split_recipients_drops_empty_items_keeps_duplicates() -> None:
    assert split_recipients(",; a ,,\n\n a;") == ["a", "a"]
    assert split_recipients("") == []
    assert split_recipients(" \n ") == []


def test_split_recipients_keeps_spaces_inside_items() -> None:
    assert split_recipients("+7 (916) 123-45-67; 8 916 123 45 67") == [
        "+7 (916) 123-45-67",
        "8 916 123 45 67",
    ]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("G1", 1),
        ("g42", 42),
        ("G123456789", 123456789),
        ("G", None),
        ("G1234567890", None),  # at most 9 digits
        ("G-1", None),
        ("G1a", None),
        ("79161234567", None),
        ("G١", None),  # Arabic-Indic digit: not a group code
    ],
)
def test_group_number(item: str, expected: int | None) -> None:
    assert group_number(item) == expected


# --- phone normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "89161234567",
        "+7 (916) 123-45-67",
        "8 916 123 45 67",
        "79161234567",
        "+79161234567",
        "8-916-123-45-67",
        "8.916.123.45.67",
        "9161234567",  # national number without trunk prefix
    ],
)
def test_russian_mobile_forms(raw: str) -> None:
    assert normalize_phone(raw) == "79161234567"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+380501234567", "RU", "380501234567"),
        ("380501234567", "RU", "380501234567"),  # + is optional for international numbers
        ("+49 30 123456", "RU", "4930123456"),
        ("030 123456", "DE", "4930123456"),  # German national format with DE default
        ("87012345678", "KZ", "77012345678"),
        ("87012345678", "RU", "77012345678"),  # RU and KZ share zone 7
        ("+77012345678", "RU", "77012345678"),
        ("8 10 1 202 555 0123", "RU", "12025550123"),  # Russian international dialling prefix
        ("84951234567", "RU", "74951234567"),
        ("88001234567", "RU", "78001234567"),
        ("79999999999", "RU", "79999999999"),
        ("+86 139 1234 5678", "RU", "8613912345678"),
        # A leading trunk 8 means Russia even though +84 300000000 is a valid Vietnamese number.
        ("84300000000", "RU", "74300000000"),
        ("+84300000000", "RU", "84300000000"),
        # ...but when the Russian reading is impossible (too long), the international one wins.
        ("8613912345678", "RU", "8613912345678"),
        ("0049 30 123456", "DE", "4930123456"),  # German international dialling prefix
    ],
)
def test_normalize_phone(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    "raw",
    ["abc", "123", "", "+", "++79161234567", "1234567", "+1-800-FLOWERS", "７９１６１２３４５６７"],
)
def test_normalize_phone_rejects(raw: str) -> None:
    assert normalize_phone(raw) is None


def test_possible_but_unallocated_number_is_accepted() -> None:
    # +7 000... is no real range (phonenumbers: not valid), but has a possible length.
    number = phonenumbers.parse("+70001234567")
    assert not phonenumbers.is_valid_number(number)
    assert normalize_phone("70001234567") == "70001234567"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["7", "8", "+7"]),
    st.sampled_from("34789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["RU", "KZ"]),
)
def test_fast_path_agrees_with_phonenumbers(lead: str, first: str, rest: str, region: str) -> None:
    # The fast path must be a pure optimisation: the phonenumbers route gives the same digits,
    # and phonenumbers considers the number at least of a possible length.
    national = first + rest
    assert phonenumbers.is_possible_number(phonenumbers.parse("+7" + national))
    assert normalize_phone(lead + national, region) == "7" + national
    assert _slow_path(lead + national, region) == "7" + national


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_normalize_phone_output_is_e164_digits(raw: str) -> None:
    result = normalize_phone(raw)
    if result is not None:
        assert result.isascii()
        assert result.isdigit()
        assert 7 <= len(result) <= 15
        assert not result.startswith("0")


# --- region and time zone -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("79161234567", "RU"),
        ("74232123456", "RU"),
        ("77012345678", "KZ"),
        ("4930123456", "DE"),
        ("380501234567", "UA"),
        ("375291234567", "BY"),
        ("12025550123", "US"),
        ("14165550123", "CA"),  # +1 is shared: the area code decides
        ("80012345678", None),  # +800 is non-geographic
        ("999", None),
        ("", None),
    ],
)
def test_region_of(digits: str, expected: str | None) -> None:
    assert region_of(digits) == expected


def test_region_of_uses_phonenumbers_data_for_shared_codes() -> None:
    # Surprising but real: phonenumbers puts +44 7911 in Guernsey, not the UK.
    assert region_of("447911123456") == "GG"
    assert region_of("442071234567") == "GB"


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("79161234567", "Europe/Moscow"),  # mobile: all of zone 7's zones, default wins
        ("74952223344", "Europe/Moscow"),
        ("74232223344", "Asia/Vladivostok"),  # Vladivostok landline (423 2)
        ("73432223344", "Asia/Yekaterinburg"),
        ("4930123456", "Europe/Berlin"),
        ("380501234567", "Europe/Kyiv"),
    ],
)
def test_timezone_of(digits: str, expected: str) -> None:
    assert timezone_of(digits) == expected


def test_timezone_of_ambiguous_number_prefers_given_default() -> None:
    # A Kazakh mobile maps to every zone of +7; the account's zone is the better guess.
    assert timezone_of("77012345678", default="Asia/Almaty") == "Asia/Almaty"
    assert timezone_of("79161234567", default="Asia/Novosibirsk") == "Asia/Novosibirsk"


def test_timezone_of_unknown_falls_back_to_default() -> None:
    assert timezone_of("999") == "Europe/Moscow"
    assert timezone_of("", default="UTC") == "UTC"
    assert timezone_of("80012345678", default="UTC") == "UTC"


def test_timezone_of_single_zone_ignores_default() -> None:
    assert timezone_of("4930123456", default="Asia/Tokyo") == "Europe/Berlin"


# --- e-mail -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("user@example.com", "user@example.com"),
        ("  John.Doe@Example.COM ", "John.Doe@example.com"),  # local part keeps its case
        ("a+tag@mail.example.ru", "a+tag@mail.example.ru"),
        ("", None),
        ("user", None),
        ("@example.com", None),
        ("user@", None),
        ("user@localhost", None),
        ("user@@example.com", None),
        ("a@b@example.com", None),
        ("user@example..com", None),
        ("user@.example.com", None),
        ("user@example.com.", None),
        ("us er@example.com", None),
        ("a@" + "b" * 250 + ".ru", None),  # longer than 254
    ],
)
def test_normalize_email(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


# --- whole `phones` values ----------------------------------------------------------------


def test_parse_recipients_phones() -> None:
    raw = "89161234567, G12;g3\n+7 916 123-45-67\r\nabc;;G12; 79161234568 ; 123"
    assert parse_recipients(raw, mail=False) == ParsedRecipients(
        recipients=["79161234567", "79161234568"],
        groups=[12, 3],
        rejected=["abc", "123"],
    )


def test_parse_recipients_dedups_after_normalisation_keeping_first_order() -> None:
    raw = "79161234568,+7 916 123 45 67,89161234568,79161234567,380501234567"
    assert parse_recipients(raw, mail=False).recipients == [
        "79161234568",
        "79161234567",
        "380501234567",
    ]


def test_parse_recipients_default_region() -> None:
    assert parse_recipients("87012345678", mail=False, default_region="KZ").recipients == [
        "77012345678"
    ]
    assert parse_recipients("030 123456", mail=False, default_region="DE").recipients == [
        "4930123456"
    ]


def test_parse_recipients_mail() -> None:
    raw = "A@Example.COM, a@example.com;bad@;G7\nA@example.com;79161234567"
    assert parse_recipients(raw, mail=True) == ParsedRecipients(
        recipients=["A@example.com", "a@example.com"],
        groups=[7],
        rejected=["bad@", "79161234567"],
    )


def test_parse_recipients_empty() -> None:
    assert parse_recipients("", mail=False) == ParsedRecipients([], [], [])


def test_parse_100k_russian_numbers_quickly() -> None:
    raw = "\n".join(f"8 (916) {i:07d}" for i in range(100_000))
    started = time.perf_counter()
    parsed = parse_recipients(raw, mail=False)
    elapsed = time.perf_counter() - started
    assert len(parsed.recipients) == 100_000
    assert parsed.recipients[12345] == "79160012345"
    assert elapsed < 1.5, f"100k numbers took {elapsed:.2f} s"


@given(st.text(alphabet=st.sampled_from(list("79 ,;\r\n+-()aG5")), max_size=60))
def test_joined_as_given_is_the_split_items_joined(raw: str) -> None:
    from tidings.domain.phones import joined_as_given

    assert joined_as_given(raw) == ",".join(split_recipients(raw))
