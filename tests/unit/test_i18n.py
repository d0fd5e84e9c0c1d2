"""The cabinet's languages: which one a visit gets, how it writes numbers, money and times,
the refusals it translates, and the one table of status names the API and the cabinet
share."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tidings.api.endpoints.status import STATUS_NAMES
from tidings.domain.audit import AuditAction
from tidings.domain.lifecycle import LINK_CLICKED, JobStatus, MessageStatus
from tidings.domain.status_names import job_status_names, message_status_names
from tidings.errors import InvalidParameter
from tidings.i18n import AUDIT_ACTIONS as ACTIONS
from tidings.web.i18n import choose, from_accept_language, language
from tidings.web.refusals import refusal_text


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en-US,en;q=0.9", "en"),
        ("en-GB", "en"),
        ("de-DE,fr;q=0.5", None),
        ("de,en;q=0.5,ru;q=0.7", "ru"),  # by quality, not by order
        ("ru;q=0,en", "en"),  # q=0: not wanted at all
        ("", None),
        ("*", None),
        ("ru;q=oops,en", "en"),
    ],
)
def test_accept_language_is_negotiated_among_ours(header: str, chosen: str | None) -> None:
    assert from_accept_language(header) == chosen


def test_the_accounts_choice_wins_then_the_browser_then_the_default() -> None:
    assert choose("en", "ru-RU", "ru") == "en"
    assert choose(None, "en-US", "ru") == "en"
    assert choose(None, "de", "ru") == "ru"
    assert choose("xx", "", "en") == "en"  # a value no longer offered is ignored


def test_money_numbers_and_times_in_each_language() -> None:
    ru, en = language("ru"), language("en")
    assert ru.money(123450) == "1\u00a0234,50"
    assert en.money(123450) == "1,234.50"
    assert ru.money(-5) == "-0,05" and en.money(0) == "0.00"
    assert ru.number(12345) == "12\u00a0345" and en.number(12345) == "12,345"
    moment = datetime(2026, 1, 15, 10, 0, 5, tzinfo=UTC)
    assert ru.time(moment, "Europe/Moscow") == "15.01.2026, 13:00:05"
    assert en.time(moment, "Europe/Moscow") == "1/15/2026, 13:00:05"
    assert ru.time(None, "UTC") == "—"
    assert en.timestamp(int(moment.timestamp()), "UTC") == "1/15/2026, 10:00:05"


def test_gettext_fills_placeholders_and_plurals_in_russian() -> None:
    ru = language("ru")
    assert ru.gettext("Mailing lists") == "Рассылки"
    assert ru.gettext("Mailing list %(id)s created.", id=7) == "Рассылка 7 создана."
    runs = [ru.ngettext("%(num)s run", "%(num)s runs", n) for n in (1, 3, 5, 21)]
    assert runs == ["1 запуск", "3 запуска", "5 запусков", "21 запуск"]
    # English is the source: strings pass through, placeholders filled all the same.
    assert language("en").ngettext("%(num)s run", "%(num)s runs", 1) == "1 run"


def test_the_live_counters_phrases_per_plural_category() -> None:
    ru = language("ru").plural_patterns("%(num)s SMS part", "%(num)s SMS parts")
    assert ru == {"one": "{n} часть SMS", "few": "{n} части SMS", "many": "{n} частей SMS"}
    en = language("en").plural_patterns("%(num)s SMS part", "%(num)s SMS parts")
    assert en == {"one": "{n} SMS part", "other": "{n} SMS parts"}


def test_a_language_the_cabinet_does_not_speak_is_refused() -> None:
    with pytest.raises(ValueError, match="does not speak"):
        language("de")


def test_the_api_status_names_are_smscs_byte_for_byte() -> None:
    """status.php and get.php answer these; they come from the shared table now."""
    assert STATUS_NAMES == {
        MessageStatus.NOT_FOUND: "Сообщение не найдено",
        MessageStatus.STOPPED: "Остановлено",
        MessageStatus.WAITING: "Ожидает отправки",
        MessageStatus.HANDED_OVER: "Передано оператору",
        MessageStatus.DELIVERED: "Доставлено",
        MessageStatus.READ: "Прочитано",
        MessageStatus.EXPIRED: "Просрочено",
        LINK_CLICKED: "Нажата ссылка",
        MessageStatus.UNDELIVERABLE: "Невозможно доставить",
        MessageStatus.BAD_NUMBER: "Неверный номер",
        MessageStatus.PROHIBITED: "Запрещено",
        MessageStatus.NO_MONEY: "Недостаточно средств",
        MessageStatus.UNAVAILABLE: "Недоступный номер",
    }


def test_the_cabinet_names_every_status_in_both_languages() -> None:
    for names in (message_status_names("ru"), message_status_names("en")):
        assert set(names) == set(STATUS_NAMES) and all(names.values())
    assert message_status_names("en")[MessageStatus.DELIVERED] == "delivered"
    for code in ("ru", "en"):
        assert set(job_status_names(code)) == set(JobStatus)
    assert job_status_names("ru")[JobStatus.FINISHED] == "Завершена"


def test_a_refusal_is_said_in_russian_and_unchanged_in_english() -> None:
    required = InvalidParameter("%(field)s: required", field="phones")
    assert required.description == "phones: required"  # the API's words
    assert refusal_text(language("ru"), required) == "Получатели: обязательное поле"
    assert refusal_text(language("en"), required) == "phones: required"
    short = InvalidParameter("password: at least %(n)s characters", n=8)
    assert refusal_text(language("ru"), short) == "Пароль: не меньше 8 символов"
    odd = InvalidParameter("something the cabinet never shows")
    assert refusal_text(language("ru"), odd) == "something the cabinet never shows"


def test_every_audit_action_has_a_name_and_english_is_its_code() -> None:
    for action in AuditAction:
        assert ACTIONS[action] == action.value.replace("_", " ")
