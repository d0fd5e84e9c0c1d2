"""The operator's actions on accounts from the command line — disable and enable, the
operator flag, test mode, sender names, IP blocks — and the audit log, through the services
the admin pages use: the same rules, the same audit entries (written as "cli")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tidings.cli.common import account_by_login, fail, opened
from tidings.cli.i18n import _, audit_action, on_off, refusal
from tidings.cli.options import DbOption
from tidings.domain.audit import CLI
from tidings.domain.services import Services
from tidings.errors import DomainError, NotFound

console = Console()
OnOption = Annotated[bool, typer.Option("--on/--off", help=_("Switch it on or off."))]


def _now() -> datetime:
    return datetime.now(UTC)


def _on_account(login: str, db: str | None, change: Callable[[Services, int], object]) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            change(services, account.id)
        except DomainError as exc:
            fail(refusal(exc))


def accounts_disable(login: str, db: DbOption = None) -> None:
    _on_account(login, db, lambda s, a: s.operator.set_disabled(a, True, _now(), CLI))
    console.print(escape(_("%(login)s disabled", login=login)))


def accounts_enable(login: str, db: DbOption = None) -> None:
    _on_account(login, db, lambda s, a: s.operator.set_disabled(a, False, _now(), CLI))
    console.print(escape(_("%(login)s enabled", login=login)))


def accounts_operator(login: str, on: OnOption = True, db: DbOption = None) -> None:
    _on_account(login, db, lambda s, a: s.operator.set_operator(a, on, _now(), CLI))
    console.print(escape(_("%(login)s: operator %(state)s", login=login, state=on_off(on))))


def accounts_test_mode(login: str, on: OnOption = True, db: DbOption = None) -> None:
    _on_account(login, db, lambda s, a: s.admin.set_test_mode(a, on, _now(), CLI))
    console.print(escape(_("%(login)s: test mode %(state)s", login=login, state=on_off(on))))


def senders_approve(
    login: str,
    sender: str,
    revoke: Annotated[bool, typer.Option("--revoke", help=_("Withdraw the approval."))] = False,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            services.operator.approve_sender(account.id, sender, _now(), CLI, approved=not revoke)
        except NotFound:
            fail(_("%(login)s has no sender '%(sender)s'", login=login, sender=sender))
    if revoke:
        said = _("%(sender)s pending for %(login)s", sender=sender.strip(), login=login)
    else:
        said = _("%(sender)s approved for %(login)s", sender=sender.strip(), login=login)
    console.print(escape(said))


def senders_reject(login: str, sender: str, db: DbOption = None) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            services.operator.reject_sender(account.id, sender, _now(), CLI)
        except NotFound:
            fail(_("%(login)s has no sender '%(sender)s'", login=login, sender=sender))
    console.print(
        escape(_("%(sender)s rejected for %(login)s", sender=sender.strip(), login=login))
    )


def blocks(db: DbOption = None) -> None:
    with opened(db) as services:
        found = services.operator.ip_blocks()
    table = Table(_("ip"), _("reason"), _("until (UTC)"))
    for block in found:
        until = datetime.fromtimestamp(block.until, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(block.ip, block.reason, until)
    console.print(table if found else _("no IP is blocked"))


def unblock(ip: str, db: DbOption = None) -> None:
    with opened(db) as services:
        try:
            lifted = services.operator.lift_block(ip, _now(), CLI)
        except DomainError as exc:
            fail(refusal(exc))
    console.print(escape(_("block of %(ip)s lifted", ip=lifted)))


def audit(
    login: Annotated[str | None, typer.Option(help=_("Only entries about this account."))] = None,
    offset: Annotated[int, typer.Option(help=_("Skip this many of the newest."), min=0)] = 0,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        account_id = None if login is None else account_by_login(services, login).id
        page = services.audit.page(account_id, offset)
    table = Table(_("when (UTC)"), _("who"), _("ip"), _("action"), _("concerns"), _("details"))
    for e in page.entries:
        when = datetime.fromtimestamp(e.at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            when, escape(e.actor), e.ip, audit_action(e.action), escape(e.target), escape(e.details)
        )
    console.print(table)
    if page.has_next:
        console.print(_("older entries: --offset %(offset)s", offset=page.offset + page.limit))


def register(app: typer.Typer, accounts_app: typer.Typer, senders_app: typer.Typer) -> None:
    accounts_app.command(
        "disable",
        help=_("Disable the account: no sign-in, no API, no SMPP bind; its cabinet sessions end."),
    )(accounts_disable)
    accounts_app.command("enable", help=_("Enable a disabled account again."))(accounts_enable)
    accounts_app.command(
        "operator",
        help=_("Give the account the operator flag (the admin pages), or take it away (--off)."),
    )(accounts_operator)
    accounts_app.command(
        "test-mode", help=_("Test mode on (virtual sending, nothing charged) or off (--off).")
    )(accounts_test_mode)
    senders_app.command(
        "approve", help=_("Approve a sender name the account asked for (senders.php add=1).")
    )(senders_approve)
    senders_app.command(
        "reject", help=_("Refuse a sender name the account asked for: the request is removed.")
    )(senders_reject)
    app.command("blocks", help=_("The client IPs blocked now (error 4) and until when (UTC)."))(
        blocks
    )
    app.command(
        "unblock",
        help=_("Lift an IP's block (after failed sign-ins or a streak of failed requests)."),
    )(unblock)
    app.command(
        "audit", help=_("The audit log, the newest first: sign-ins, money moves, operator actions.")
    )(audit)
