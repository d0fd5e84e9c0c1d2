"""The cabinet's languages: gettext catalogues, choosing a visit's language, and showing
numbers, money and times the way that language writes them.

Source strings are English; `locale/<lang>/LC_MESSAGES/messages.po` translates them, read
by tidings/i18n.py (the catalogue the command line shares) once, at start (when the
cabinet's templates are built, so a broken catalogue stops the start rather than a visit).
Re-extracting and updating: docs/architecture.md, "Where to add … a cabinet or
command-line string".

The API (/sys/*.php) never passes through here: its formats are byte-exact and English/
Russian as smsc.ru's are (domain/status_names.py for the status names both use).
"""

from __future__ import annotations

import functools
import gettext
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, negotiate_locale
from babel.dates import format_skeleton, get_datetime_format
from babel.numbers import format_decimal

from tidings.domain.profile import LANGUAGES
from tidings.i18n import DOMAIN, LOCALE_DIR, N_, SOURCE_LANGUAGE, po_path, translations
from tidings.i18n import money as _money

__all__ = ["DOMAIN", "LOCALE_DIR", "N_", "SOURCE_LANGUAGE", "po_path", "translations"]

# How each language is offered on the Language page: in itself.
LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}
# Counts that reach every plural category of Russian and English (1 one, 2 few/other,
# 5 many/other, 0 many/other).
PLURAL_SAMPLES = (1, 2, 5, 0)


@dataclass(frozen=True)
class Language:
    """One language of the cabinet: its texts and its way of writing numbers and times."""

    code: str

    @property
    def translations(self) -> gettext.NullTranslations:
        return translations(self.code)

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    def gettext(self, message: str, **variables: Any) -> str:
        """The translation, with `%(name)s` placeholders filled — always, as Jinja's
        newstyle gettext does (a literal % is written %%), so Python and templates read
        the catalogue alike."""
        return self.translations.gettext(message) % variables

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        """The form for `n`; `%(num)s` is `n` (Jinja's newstyle ngettext convention)."""
        text = self.translations.ngettext(singular, plural, n)
        return text % {"num": n, **variables}

    def plural_patterns(self, singular: str, plural: str) -> dict[str, str]:
        """A plural phrase for a script: its form per CLDR plural category ("one", "few",
        "many", "other"), `%(num)s` written as `{n}`, for Intl.PluralRules to pick from."""
        patterns: dict[str, str] = {}
        for sample in PLURAL_SAMPLES:
            form = self.translations.ngettext(singular, plural, sample)
            category = str(self.locale.plural_form(sample))
            patterns.setdefault(category, form.replace("%(num)s", "{n}"))
        return patterns

    def counter_phrases(self) -> dict[str, str]:
        """The live SMS counter's phrases (cabinet.js: data-chars, data-parts on the
        counter), as JSON for the message boxes of the create-list and send forms."""
        chars = self.plural_patterns("%(num)s character", "%(num)s characters")
        parts = self.plural_patterns("%(num)s SMS part", "%(num)s SMS parts")
        return {
            "chars": json.dumps(chars, ensure_ascii=False),
            "parts": json.dumps(parts, ensure_ascii=False),
        }

    def number(self, value: int | Decimal) -> str:
        return format_decimal(value, locale=self.code)

    def money(self, minor: int) -> str:
        """Minor units as the language writes an amount: `123450` → "1 234,50" in ru."""
        return _money(minor, self.code)

    def time(self, value: datetime | None, zone: str) -> str:
        """A moment in the account's zone ("—" for none)."""
        if value is None:
            return "—"
        # The locale's numeric date with a four-digit year and a 24-hour time with seconds
        # ("15.01.2026, 13:00:05" / "1/15/2026, 13:00:05"): short enough for a table, and
        # no two-digit year or AM/PM to misread.
        tz = ZoneInfo(zone)
        date = format_skeleton("yMd", value, tzinfo=tz, locale=self.code)
        clock = format_skeleton("Hms", value, tzinfo=tz, locale=self.code)
        return str(get_datetime_format("short", locale=self.code)).format(clock, date)

    def timestamp(self, value: int | None, zone: str) -> str:
        """A stored time (unix seconds) in the account's zone."""
        return self.time(None if value is None else datetime.fromtimestamp(value, UTC), zone)


@functools.cache
def language(code: str) -> Language:
    if code not in LANGUAGES:
        raise ValueError(f"the cabinet does not speak {code!r}")
    return Language(code)


def from_accept_language(header: str) -> str | None:
    """The first of our languages the browser's Accept-Language asks for (by q), if any."""
    asked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            # Order: quality first, then the order the browser gave them in.
            asked.append((-quality, position, tag.strip()))
    preferred = [tag for _q, _p, tag in sorted(asked)]
    return negotiate_locale(preferred, LANGUAGES, sep="-")


def choose(account_language: str | None, accept_language: str, default: str) -> str:
    """A visit's language: the account's choice, else the browser's, else the setting."""
    if account_language is not None and account_language in LANGUAGES:
        return account_language
    return from_accept_language(accept_language) or default
