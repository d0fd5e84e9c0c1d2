"""The gettext catalogues the cabinet (tidings.web) and the command line (tidings.cli) share.

Source strings are English; `web/locale/<lang>/LC_MESSAGES/messages.po` translates them —
one catalogue for both edges (it stays beside the cabinet's templates, where it began, so
that its history and the package data keep one path). Only the .po files are kept: each is
read once, when first needed, with Babel, and compiled in memory into a GNU translations
object — no .mo in git, no build step to forget, and a catalogue edited in place takes
effect at the next start. Re-extracting and updating: docs/architecture.md, "Where to add …
a cabinet or command-line string".

Babel and files make this no part of the domain (pyproject.toml's contracts keep it out);
how each edge chooses its language is its own (web/i18n.py: the account, the browser, the
settings; cli/i18n.py: the process's environment).
"""

from __future__ import annotations

import functools
import gettext
import io
from decimal import Decimal
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from tidings.domain.audit import AuditAction

LOCALE_DIR = Path(__file__).parent / "web" / "locale"
DOMAIN = "messages"
# The language the source strings are written in: it needs no catalogue.
SOURCE_LANGUAGE = "en"
MONEY_FORMAT = "#,##0.00"


def N_(message: str) -> str:
    """Mark a string for the catalogue where it is defined (at import time, e.g. a menu
    title); it is translated where it is shown, in the reader's language."""
    return message


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalogue (the source language: none, strings pass through)."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    # Fuzzy entries are left out, as msgfmt does: the English shows until someone checks it.
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def money(minor: int, language: str) -> str:
    """Minor units as the language writes an amount: `123450` → "1 234,50" in ru."""
    return format_decimal(Decimal(minor).scaleb(-2), format=MONEY_FORMAT, locale=language)


# What the audit log's actions are called where a person reads them (the admin pages,
# `tidings audit`); in English each is its code with spaces.
AUDIT_ACTIONS: dict[str, str] = {
    AuditAction.SIGN_IN: N_("sign in"),
    AuditAction.SIGN_IN_FAILED: N_("sign in failed"),
    AuditAction.CREDIT: N_("credit"),
    AuditAction.DEBIT: N_("debit"),
    AuditAction.ACCOUNT_CREATED: N_("account created"),
    AuditAction.TEST_MODE: N_("test mode"),
    AuditAction.OPERATOR_FLAG: N_("operator flag"),
    AuditAction.ACCOUNT_DISABLED: N_("account disabled"),
    AuditAction.ACCOUNT_ENABLED: N_("account enabled"),
    AuditAction.PASSWORD_RESET: N_("password reset"),
    AuditAction.ACCOUNT_TARIFF: N_("account tariff"),
    AuditAction.TARIFF_CREATED: N_("tariff created"),
    AuditAction.TARIFF_CHANGED: N_("tariff changed"),
    AuditAction.COUNTRY_PRICE: N_("country price"),
    AuditAction.COUNTRY_PRICE_REMOVED: N_("country price removed"),
    AuditAction.SENDER_APPROVED: N_("sender approved"),
    AuditAction.SENDER_PENDING: N_("sender pending"),
    AuditAction.SENDER_REJECTED: N_("sender rejected"),
    AuditAction.IP_UNBLOCKED: N_("ip unblocked"),
    AuditAction.NUMBER_ASSIGNED: N_("number assigned"),
    AuditAction.NUMBER_RELEASED: N_("number released"),
}
