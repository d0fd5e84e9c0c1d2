"""The command line's language: Russian or English, from the process's environment.

The standard gettext variables choose it — LANGUAGE, LC_ALL, LC_MESSAGES, LANG, the first
one set wins (LANGUAGE may list several, `de:ru`) — so `LANG=ru_RU.UTF-8 tidings …` speaks
Russian. `C`, `POSIX`, unset, or a language Tidings does not speak: English. Not the
settings' `[web] default_language`: the language has to be known before the command line
is parsed (the help texts, the option errors), while the settings file is named by
`--config`, which is parsed after; and that setting is the cabinet's visitors' default, not
the shell's — a cron job, a systemd unit or a script (LANG unset or C) reads English, as
it reads every other tool's.

What is read by a person is translated (messages, errors, tables, help); what a program
reads is not: JSON, CSV columns, keys, log lines, secrets and keys printed alone. The
texts are in the cabinet's catalogue (tidings/i18n.py, one messages.po): mark them with
`_()` where they are shown, `N_()` where they are defined at import time; placeholders are
`%(name)s`, always filled (a literal % is written %%), as in the cabinet.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from tidings.domain.money import format_money
from tidings.domain.profile import LANGUAGES
from tidings.domain.status_names import JOB_STATUS_NAMES
from tidings.errors import DomainError
from tidings.i18n import AUDIT_ACTIONS, N_, SOURCE_LANGUAGE, translations
from tidings.i18n import money as _money

# The variables GNU gettext (and Python's gettext.find) read, in the order they win.
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
# Locales that mean "no translation".
UNTRANSLATED = ("C", "POSIX")

__all__ = ["N_", "_", "code", "from_environment", "gettext", "money", "ngettext"]


def from_environment(environ: Mapping[str, str]) -> str:
    """The language the environment asks for: "ru", "en" (also for C, POSIX or nothing)."""
    for name in ENVIRONMENT:
        value = environ.get(name, "")
        if not value:
            continue
        for item in value.split(":"):
            # ru_RU.UTF-8@euro → ru; C.UTF-8 → C.
            tag = item.split(".", 1)[0].split("@", 1)[0].strip()
            if tag in UNTRANSLATED:
                return SOURCE_LANGUAGE
            language = tag.replace("-", "_").split("_", 1)[0].lower()
            if language in LANGUAGES:
                return language
        # The first variable set decides, as in gettext: none of its languages is ours.
        return SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def code() -> str:
    """This process's language, as the environment asks now."""
    return from_environment(os.environ)


def gettext(message: str, **variables: Any) -> str:
    """The translation, `%(name)s` placeholders filled (always: a literal % is %%)."""
    return translations(code()).gettext(message) % variables


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """The form for `n`; `%(num)s` is `n`."""
    return translations(code()).ngettext(singular, plural, n) % {"num": n, **variables}


_ = gettext


def money(minor: int) -> str:
    """An amount as Russian writes it ("1 234,50"); in English as the command line always
    printed it ("1234.50", what the API answers too), so that nothing reading the English
    output changes."""
    language = code()
    return format_money(minor) if language == SOURCE_LANGUAGE else _money(minor, language)


def yes() -> str:
    return _("yes")


def on_off(on: bool) -> str:
    return _("on") if on else _("off")


def audit_action(action: str) -> str:
    """An audit entry's action: its code in English (what `grep` and scripts look for), its
    name in another language (the admin pages' names)."""
    if code() == SOURCE_LANGUAGE or action not in AUDIT_ACTIONS:
        return action
    return _(AUDIT_ACTIONS[action])


def job_status(status: int) -> str:
    """A mailing list's state by name (domain/status_names.py: the cabinet's names too)."""
    name = JOB_STATUS_NAMES.get(status)
    return name.in_language(code()) if name else str(status)


# The domain's routing gaps (domain/admin.py, routing_gaps), one sentence per kind of message.
_GAP = re.compile(
    r"no (?P<section>\S+) upstream is configured: live accounts' (?P<kind>SMS|e-mail) wait, "
    r"uncharged \((?P<count>\d+) waiting\); test-mode accounts use the virtual upstream"
)
GAPS = {
    "SMS": N_(
        "no %(section)s upstream is configured: live accounts' SMS wait, uncharged "
        "(%(count)s waiting); test-mode accounts use the virtual upstream"
    ),
    "e-mail": N_(
        "no %(section)s upstream is configured: live accounts' e-mail wait, uncharged "
        "(%(count)s waiting); test-mode accounts use the virtual upstream"
    ),
}


def routing_gap(gap: str) -> str:
    """A line of what live accounts cannot send, in this language (as the domain says it
    when it is not a line we know)."""
    match = _GAP.fullmatch(gap)
    if match is None:
        return gap
    return _(GAPS[match["kind"]], section=match["section"], count=match["count"])


def refusal(error: DomainError) -> str:
    """What the domain refused, in this language when it is a refusal the cabinet knows
    (web/refusals.py: the domain speaks English, in the API's words)."""
    from tidings.web.i18n import language
    from tidings.web.refusals import refusal_text

    return refusal_text(language(code()), error)
