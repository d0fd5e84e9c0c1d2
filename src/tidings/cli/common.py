"""What the account commands share: the service bag over `--db`, an account by login, and
a failure said in one red line (exit code 1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from tidings.cli.i18n import _
from tidings.config import load_settings
from tidings.domain.accounts import Account
from tidings.domain.services import Services
from tidings.errors import NotFound

console = Console()


@contextmanager
def opened(db: str | None) -> Iterator[Services]:
    """The domain services the cabinet and the API use, over the store `--db` names: the
    command line is held to the same rules."""
    from tidings.app import opened_services

    with opened_services(load_settings(None, database_url=db)) as services:
        yield services


def fail(message: str) -> NoReturn:
    console.print(f"[red]{escape(message)}[/red]", highlight=False)
    raise typer.Exit(1)


def account_by_login(services: Services, login: str) -> Account:
    try:
        return services.admin.account_by_login(login)
    except NotFound:
        fail(_("no account '%(login)s'", login=login))


def tidings_version() -> str:
    """The installed version of Tidings."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tidings")
    except PackageNotFoundError:
        return _("(not installed)")
