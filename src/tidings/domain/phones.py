"""Recipient parsing and phone/e-mail normalisation.

Phones are stored as E.164 digits without the plus ("79161234567"). Lists can hold hundreds of
thousands of numbers, so plain Russian/Kazakh numbers take a regex-free fast path and only the rest
pays for a `phonenumbers` parse (~15k/s).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, ValidationResult
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number

_ITEM = re.compile(r"[^,;\r\n]+")
# Separators with the blanks around them, and runs of them (empty items vanish).
_JOINT = re.compile(r"\s*(?:[,;\r\n]\s*)+")
_UNTIDY = re.compile(r"\s|;|,,|^,|,$")
GROUP_CODE = re.compile(r"^[Gg](\d{1,9})$", re.ASCII)

# Punctuation people put in numbers: "+7 (916) 123-45-67", "8.916.123.45.67".
_PUNCTUATION = str.maketrans("", "", " \t\u00a0-.()")
_DIALABLE = re.compile(r"\+?[0-9]{1,20}")
_MIN_DIGITS, _MAX_DIGITS = 7, 15

# Zone 7 is shared by Russia and Kazakhstan, whose users dial 8 as the trunk prefix. National
# numbers starting 3/4/8/9 are Russian geographic, mobile and free-phone ranges; 7 is Kazakhstan.
_FAST_REGIONS = frozenset({"RU", "KZ"})
_FAST_NATIONAL_LEADS = frozenset("34789")


def split_recipients(raw: str) -> list[str]:
    """Split a `phones` value on `,`, `;` and line breaks; keeps order and duplicates."""
    return list(iter_recipients(raw))


def iter_recipients(raw: str) -> Iterator[str]:
    """The items of a `phones` value one at a time (a million never become one big list)."""
    for match in _ITEM.finditer(raw):
        item = match.group().strip()
        if item:
            yield item


def joined_as_given(raw: str) -> str:
    """The recipients as given, joined by `,` (what get/get_all show as `phones`)."""
    if not _UNTIDY.search(raw):
        return raw  # already "a,b,c": a million numbers are not copied piece by piece
    return _JOINT.sub(",", raw.strip()).strip(",")


def group_number(item: str) -> int | None:
    match = GROUP_CODE.match(item)
    return int(match.group(1)) if match else None


def _fast_path(number: str, region: str) -> str | None:
    # "+7..." is unambiguous whatever the account's country; bare 7/8 only for RU/KZ accounts.
    if number.startswith("+"):
        body = number[1:]
        if body[:1] != "7":
            return None
    elif region in _FAST_REGIONS and number[:1] in ("7", "8"):
        body = number
    else:
        return None
    if len(body) == 11 and body[1] in _FAST_NATIONAL_LEADS and body.isascii() and body.isdigit():
        return "7" + body[1:]
    return None


@lru_cache(maxsize=512)
def _national_prefix(region: str) -> str | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata.national_prefix if metadata is not None else None


def _parse_all(attempts: list[tuple[str, str | None]]) -> list[PhoneNumber]:
    parsed: list[PhoneNumber] = []
    for text, default in attempts:
        try:
            parsed.append(phonenumbers.parse(text, default))
        except phonenumbers.NumberParseException:
            continue
    return parsed


def _interpretations(number: str, region: str) -> list[list[PhoneNumber]]:
    """Readings of `number` in tiers: an earlier tier wins even if only possible."""
    if number.startswith("+"):
        return [_parse_all([(number, None)])]
    international, local = ("+" + number, None), (number, region)
    prefix = _national_prefix(region)
    # "8 430 ..." from a Russian user means Russia even if +84 (Vietnam) reads as valid: a
    # leading trunk prefix makes the local reading the one to beat.
    if prefix and number.startswith(prefix):
        return [_parse_all([local]), _parse_all([international])]
    # Otherwise the spec's rule: `+` is optional, the default country is the correction.
    return [_parse_all([international, local])]


def _is_possible(number: PhoneNumber) -> bool:
    # Strict "possible": a local-only length (dialable only inside an area) is not enough.
    return phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE


def _slow_path(number: str, region: str) -> str | None:
    # Within a tier a valid reading beats a merely possible one, so "9161234567" stays Russian
    # instead of becoming a possible Indian +91 6123 4567. Possible-only readings are still
    # accepted because test and freshly allocated ranges fail strict validation.
    for tier in _interpretations(number, region):
        for accept in (phonenumbers.is_valid_number, _is_possible):
            for candidate in tier:
                if accept(candidate):
                    return phonenumbers.format_number(candidate, PhoneNumberFormat.E164)[1:]
    return None


def normalize_phone(raw: str, default_region: str = "RU") -> str | None:
    """E.164 digits without `+` for `raw`, or None when it is not a usable phone number."""
    number = raw.translate(_PUNCTUATION)
    fast = _fast_path(number, default_region)
    if fast is not None:
        return fast
    # Digits only: phonenumbers would otherwise turn letters into keypad digits ("1-800-FLOWERS").
    if not _DIALABLE.fullmatch(number):
        return None
    digits = _slow_path(number, default_region)
    if digits is None or not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        return None
    return digits


def _country_code(phone_digits: str) -> int | None:
    # Country codes are prefix-free, so at most one of the 1-3 digit prefixes matches.
    for size in (1, 2, 3):
        code = int(phone_digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return code
    return None


@lru_cache(maxsize=1024)
def _sole_region(country_code: int) -> str | None:
    regions = phonenumbers.region_codes_for_country_code(country_code)
    return regions[0] if len(regions) == 1 else None


@lru_cache(maxsize=65536)
def _region_by_parse(phone_digits: str, country_code: int) -> str | None:
    # Shared codes (+1, +44, ...) need the full number; numbers outside every known range
    # are priced as the code's main country.
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + phone_digits))
    except phonenumbers.NumberParseException:
        region = None
    return region or phonenumbers.region_code_for_country_code(country_code)


def region_of(phone_digits: str) -> str | None:
    """ISO 3166 region of an E.164 digits string (for pricing); None when unknown/non-geographic."""
    if len(phone_digits) == 11 and phone_digits[0] == "7":
        return "KZ" if phone_digits[1] in "67" else "RU"
    if not (phone_digits.isascii() and phone_digits.isdigit()):
        return None
    code = _country_code(phone_digits)
    if code is None:
        return None
    region = _sole_region(code) or _region_by_parse(phone_digits, code)
    # "001" marks non-geographic codes (+800, +870, ...), which have no country.
    return None if region == phonenumbers.UNKNOWN_REGION or region == "001" else region


def timezone_of(phone_digits: str, default: str = "Europe/Moscow") -> str:
    """IANA zone of the number's area; `default` when unknown or when it is one of several."""
    try:
        number = phonenumbers.parse("+" + phone_digits)
    except phonenumbers.NumberParseException:
        return default
    zones = [zone for zone in time_zones_for_number(number) if zone != UNKNOWN_TIMEZONE]
    if not zones:
        return default
    # Mobile ranges map to every zone of the country (for +7 the list starts with Asia/Almaty);
    # the account's own zone is then the better guess when it is among them.
    if len(zones) > 1 and default in zones:
        return default
    return zones[0]


def normalize_email(raw: str) -> str | None:
    """Light syntax check; the domain is lower-cased, the local part is case-sensitive."""
    address = raw.strip()
    if not address or len(address) > 254 or any(ch.isspace() for ch in address):
        return None
    local, _, domain = address.partition("@")
    labels = domain.split(".")
    if not local or "@" in domain or len(labels) < 2 or not all(labels):
        return None
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True)
class ParsedRecipients:
    recipients: list[str]
    groups: list[int]
    rejected: list[str]


def parse_recipients(raw: str, *, mail: bool, default_region: str = "RU") -> ParsedRecipients:
    """Split and normalise a `phones` value; first occurrence wins, bad items kept as given."""
    normalize: Callable[[str], str | None] = (
        normalize_email if mail else partial(normalize_phone, default_region=default_region)
    )
    # A set beside the list, not an ordered dict: at a million recipients a dict's entries
    # table (and its resize) costs ≈ 20 MB more at the peak.
    recipients: list[str] = []
    seen: set[str] = set()
    groups: dict[int, None] = {}
    rejected: list[str] = []
    for item in iter_recipients(raw):
        group = group_number(item) if item[0] in "Gg" else None
        if group is not None:
            groups.setdefault(group)
            continue
        value = normalize(item)
        if value is None:
            rejected.append(item)
        elif value not in seen:
            seen.add(value)
            recipients.append(value)
    return ParsedRecipients(recipients, list(groups), rejected)
