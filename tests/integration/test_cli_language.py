"""The command line in the language the environment asks for: real `tidings` processes with
LANG=ru_RU.UTF-8, LANG=en_US.UTF-8, LANG=C and no locale variable at all, reading what a
person reads — results, refusals, tables with status names, help — and what a program
reads staying as it was (an API key alone on its line)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import fresh_database_url
from tests.integration.engine_support import create_list
from tidings.app import default_tariff
from tidings.cli.i18n import ENVIRONMENT
from tidings.config import Settings
from tidings.store.db import open_database
from tidings.store.repository import Store

TIDINGS = Path(sys.executable).with_name("tidings")
LATER = datetime(2099, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Said:
    code: int
    out: str


def environment(**locale: str) -> dict[str, str]:
    """This process's environment without any locale variable, then `locale`'s."""
    env = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT}
    # UTF-8 output whatever the locale (LANG=C included), wide enough for a table's line.
    return {**env, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200", **locale}


def tidings(env: dict[str, str], *args: str) -> Said:
    done = subprocess.run(
        [str(TIDINGS), *args], capture_output=True, env=env, timeout=60, check=False
    )
    return Said(done.returncode, (done.stdout + done.stderr).decode("utf-8"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return fresh_database_url("sqlite", tmp_path)


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    s = Store(open_database(db), default_tariff(Settings()))
    yield s
    s.close()


def test_russian_from_lang(db: str, store: Store) -> None:
    ru = environment(LANG="ru_RU.UTF-8")
    created = tidings(ru, "accounts", "create", "shop", "--password", "password-1", "--db", db)
    assert (created.code, created.out.strip()) == (0, "создан аккаунт shop (id 1)")
    credited = tidings(ru, "accounts", "credit", "shop", "1234.5", "--db", db)
    # Money as Russian writes it: a (non-breaking) space between thousands, a decimal comma.
    assert re.fullmatch(r"shop: баланс 1\s234,50 RUB", credited.out.strip()), credited.out
    unknown = tidings(ru, "accounts", "credit", "nobody", "1", "--db", db)
    assert (unknown.code, unknown.out.strip()) == (1, "Аккаунта «nobody» нет")
    # A refusal of the domain (its own words are English), as the cabinet words it.
    short = tidings(ru, "accounts", "create", "x", "--password", "short", "--db", db)
    assert (short.code, short.out.strip()) == (1, "Пароль: не меньше 8 символов")

    account = store.account_by_login("shop")
    assert account is not None
    create_list(store, account, "79161230004,79161230005", LATER, first_run=LATER)
    listing = tidings(ru, "accounts", "list", "--db", db).out
    assert all(word in listing for word in ("логин", "баланс", "часовой пояс")), listing
    jobs = tidings(ru, "jobs", "shop", "--db", db).out
    # The list's state by the one table of status names (domain/status_names.py).
    assert "получатели" in jobs and "Ожидает" in jobs, jobs

    helped = tidings(ru, "accounts", "create", "--help").out
    assert "Создать аккаунт" in helped and "Пароль аккаунта" in helped, helped
    assert "Параметры" in helped and "[обязательно]" in helped, helped
    # Typer's --help option, and the demo of what stays English: its "Usage:" line.
    assert "Показать эту справку и выйти." in helped and "Usage: tidings" in helped, helped
    wrong = tidings(ru, "nope")
    assert wrong.code == 2 and "Нет такой команды: 'nope'" in wrong.out, wrong.out

    # What a program reads is not translated: the key alone, as in English.
    key = tidings(ru, "accounts", "apikey", "shop", "--db", db).out
    assert re.fullmatch(r"\S{20,}", key.strip()), key
    # The audit log's actions by the admin pages' names (English prints their codes).
    audit = tidings(ru, "audit", "--db", db).out
    assert "создан аккаунт" in audit and "account_created" not in audit, audit
    assert "account_created" in tidings(environment(LANG="C"), "audit", "--db", db).out


def test_english_from_lang(db: str, store: Store) -> None:
    en = environment(LANG="en_US.UTF-8")
    created = tidings(en, "accounts", "create", "shop", "--password", "password-1", "--db", db)
    assert (created.code, created.out.strip()) == (0, "created account shop (id 1)")
    credited = tidings(en, "accounts", "credit", "shop", "1234.5", "--db", db)
    # English money is what the command line always printed (and the API answers).
    assert credited.out.strip() == "shop: balance 1234.50 RUB"
    unknown = tidings(en, "accounts", "credit", "nobody", "1", "--db", db)
    assert (unknown.code, unknown.out.strip()) == (1, "no account 'nobody'")
    short = tidings(en, "accounts", "create", "x", "--password", "short", "--db", db)
    assert (short.code, short.out.strip()) == (1, "password: at least 8 characters")

    account = store.account_by_login("shop")
    assert account is not None
    create_list(store, account, "79161230004,79161230005", LATER, first_run=LATER)
    jobs = tidings(en, "jobs", "shop", "--db", db).out
    assert "recipients" in jobs and "waiting" in jobs and "Ожидает" not in jobs, jobs

    helped = tidings(en, "accounts", "create", "--help").out
    assert "Create an account" in helped and "Options" in helped, helped
    assert not re.search("[А-яЁё]", helped), helped


@pytest.mark.parametrize(
    "locale",
    [{}, {"LANG": "C"}, {"LANG": "C.UTF-8"}, {"LC_ALL": "POSIX", "LANG": "ru_RU.UTF-8"}],
    ids=["unset", "C", "C.UTF-8", "LC_ALL=POSIX"],
)
def test_no_locale_or_c_is_english(db: str, locale: dict[str, str]) -> None:
    env = environment(**locale)
    created = tidings(env, "accounts", "create", "shop", "--password", "password-1", "--db", db)
    assert created.out.strip() == "created account shop (id 1)"
    unknown = tidings(env, "accounts", "credit", "nobody", "1", "--db", db)
    assert (unknown.code, unknown.out.strip()) == (1, "no account 'nobody'")
    helped = tidings(env, "--help").out
    assert "Manage accounts." in helped and not re.search("[А-яЁё]", helped), helped


def test_the_first_variable_set_wins(db: str) -> None:
    """LANGUAGE over LC_ALL over LC_MESSAGES over LANG, as gettext reads them."""
    for locale, word in (
        ({"LANGUAGE": "ru", "LANG": "en_US.UTF-8"}, "Управление аккаунтами."),
        ({"LC_MESSAGES": "ru_RU.UTF-8", "LANG": "en_US.UTF-8"}, "Управление аккаунтами."),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "ru_RU.UTF-8"}, "Manage accounts."),
    ):
        assert word in tidings(environment(**locale), "--help").out, locale
