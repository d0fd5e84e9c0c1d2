"""`tidings inbound`: the operator's inbound numbers (assign one to an account, release it,
list them) and the inbound messages no account owns, through the services the admin page
uses, so the same rules apply (and the same audit entries are written)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tidings.cli.common import account_by_login, fail, opened
from tidings.cli.i18n import _, refusal
from tidings.cli.options import DbOption
from tidings.domain.audit import CLI
from tidings.errors import DomainError

inbound_app = typer.Typer(
    help=_("Inbound SMS: numbers assigned to accounts, unassigned messages (operator)."),
    no_args_is_help=True,
)
console = Console()


def _utc(ts: int, pattern: str) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(pattern)


@inbound_app.command(
    "assign", help=_("Assign an inbound number to an account: every SMS to it is the account's.")
)
def inbound_assign(login: str, number: str, db: DbOption = None) -> None:
    with opened(db) as services:
        account_by_login(services, login)
        try:
            kept = services.operator.assign_number(number, login, datetime.now(UTC), CLI)
        except DomainError as exc:
            fail(refusal(exc))
    console.print(
        escape(_("inbound number %(number)s assigned to %(login)s", number=kept, login=login))
    )


@inbound_app.command("release", help=_("Take an inbound number back from its account."))
def inbound_release(number: str, db: DbOption = None) -> None:
    with opened(db) as services:
        try:
            released = services.operator.release_number(number, datetime.now(UTC), CLI)
        except DomainError as exc:
            fail(refusal(exc))
    console.print(escape(_("inbound number %(number)s released", number=released)))


@inbound_app.command(
    "numbers", help=_("The inbound numbers and the accounts they are assigned to.")
)
def inbound_numbers(
    login: Annotated[str | None, typer.Argument(help=_("Only this account's."))] = None,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        account = None if login is None else account_by_login(services, login)
        found = services.inbound.numbers(account)
    table = Table(_("number"), _("account"), _("assigned (UTC)"))
    for n in found:
        table.add_row(n.number, n.login, _utc(n.created_at, "%Y-%m-%d %H:%M"))
    console.print(table)


@inbound_app.command(
    "unassigned",
    help=_("The newest inbound messages no account owns (no assigned number, no reply)."),
)
def inbound_unassigned(
    limit: Annotated[
        int, typer.Option("--limit", help=_("How many, at most."), min=1, max=1000)
    ] = 50,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        found = services.inbound.unassigned(None, limit)
    table = Table("id", _("received (UTC)"), _("from"), _("to"), _("upstream"), _("text"))
    for m in found:
        received = _utc(m.received_at, "%Y-%m-%d %H:%M:%S")
        table.add_row(str(m.id), received, m.phone, m.to_phone, m.upstream, m.text)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(inbound_app, name="inbound")
