"""The command line's language from the gettext variables, and the domain's sentences it
translates (cli/i18n.py)."""

from __future__ import annotations

import pytest

from tidings.cli.i18n import from_environment, routing_gap
from tidings.domain.admin import routing_gaps
from tidings.domain.routing import Routes


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "ru_RU"}, "ru"),
        ({"LANG": "ru"}, "ru"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": ""}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        # A language Tidings does not speak: English, not the next variable's.
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LC_ALL": "de_DE.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        # The first variable set wins: LANGUAGE, LC_ALL, LC_MESSAGES, LANG.
        ({"LC_ALL": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, "ru"),
        ({"LC_MESSAGES": "ru_RU.UTF-8", "LANG": "C"}, "ru"),
        ({"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANGUAGE": "en", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANGUAGE": "", "LANG": "ru_RU.UTF-8"}, "ru"),
        # LANGUAGE lists languages in order of preference.
        ({"LANGUAGE": "de:ru:en"}, "ru"),
        ({"LANGUAGE": "uk:en:ru"}, "en"),
        ({"LANGUAGE": "ru_RU@latin"}, "ru"),
    ],
)
def test_the_language_the_environment_asks_for(environ: dict[str, str], language: str) -> None:
    assert from_environment(environ) == language


class _Unrouted:
    def unrouted_waiting(self) -> dict[bool, int]:
        return {False: 3, True: 2}

    def live_accounts(self) -> int:
        return 1


def test_the_routing_gaps_the_domain_says_are_said_in_russian(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`tidings serve`'s warnings: the domain's very sentences (if it rewords them, they
    show in English and this fails)."""
    gaps = routing_gaps(Routes(), _Unrouted())
    assert len(gaps) == 2
    monkeypatch.setenv("LANGUAGE", "ru")
    sms, mail = (routing_gap(gap) for gap in gaps)
    assert sms.startswith("не настроен ни один канал [[smpp]]: SMS") and "ожидают: 3" in sms
    assert mail.startswith("не настроен ни один канал [[smtp]]: письма") and "ожидают: 2" in mail
    monkeypatch.setenv("LANGUAGE", "en")
    assert [routing_gap(gap) for gap in gaps] == gaps
