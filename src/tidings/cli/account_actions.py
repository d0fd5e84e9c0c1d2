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
from tidings.cli.options import DbOption
from tidings.domain.audit import CLI
from tidings.domain.services import Services
from tidings.errors import DomainError, NotFound

console = Console()
OnOption = Annotated[bool, typer.Option("--on/--off", help="Switch it on or off.")]


def _now() -> datetime:
    return datetime.now(UTC)


def _on_account(login: str, db: str | None, change: Callable[[Services, int], object]) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            change(services, account.id)
        except DomainError as exc:
            fail(exc.description)


def accounts_disable(login: str, db: DbOption = None) -> None:
    """Disable the account: no sign-in, no API, no SMPP bind; its cabinet sessions end."""
    _on_account(login, db, lambda s, a: s.operator.set_disabled(a, True, _now(), CLI))
    console.print(f"{login} disabled")


def accounts_enable(login: str, db: DbOption = None) -> None:
    """Enable a disabled account again."""
    _on_account(login, db, lambda s, a: s.operator.set_disabled(a, False, _now(), CLI))
    console.print(f"{login} enabled")


def accounts_operator(login: str, on: OnOption = True, db: DbOption = None) -> None:
    """Give the account the operator flag (the admin pages), or take it away (--off)."""
    _on_account(login, db, lambda s, a: s.operator.set_operator(a, on, _now(), CLI))
    console.print(f"{login}: operator {'on' if on else 'off'}")


def accounts_test_mode(login: str, on: OnOption = True, db: DbOption = None) -> None:
    """Test mode on (virtual sending, nothing charged) or off (--off)."""
    _on_account(login, db, lambda s, a: s.admin.set_test_mode(a, on, _now(), CLI))
    console.print(f"{login}: test mode {'on' if on else 'off'}")


def senders_approve(
    login: str,
    sender: str,
    revoke: Annotated[bool, typer.Option("--revoke", help="Withdraw the approval.")] = False,
    db: DbOption = None,
) -> None:
    """Approve a sender name the account asked for (senders.php add=1)."""
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            services.operator.approve_sender(account.id, sender, _now(), CLI, approved=not revoke)
        except NotFound:
            fail(f"{login} has no sender {sender!r}")
    console.print(f"{sender.strip()} {'pending' if revoke else 'approved'} for {login}")


def senders_reject(login: str, sender: str, db: DbOption = None) -> None:
    """Refuse a sender name the account asked for: the request is removed."""
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            services.operator.reject_sender(account.id, sender, _now(), CLI)
        except NotFound:
            fail(f"{login} has no sender {sender!r}")
    console.print(f"{sender.strip()} rejected for {login}")


def blocks(db: DbOption = None) -> None:
    """The client IPs blocked now (error 4) and until when (UTC)."""
    with opened(db) as services:
        found = services.operator.ip_blocks()
    table = Table("ip", "reason", "until (UTC)")
    for block in found:
        until = datetime.fromtimestamp(block.until, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(block.ip, block.reason, until)
    console.print(table if found else "no IP is blocked")


def unblock(ip: str, db: DbOption = None) -> None:
    """Lift an IP's block (after failed sign-ins or a streak of failed requests)."""
    with opened(db) as services:
        try:
            lifted = services.operator.lift_block(ip, _now(), CLI)
        except DomainError as exc:
            fail(exc.description)
    console.print(f"block of {lifted} lifted")


def audit(
    login: Annotated[str | None, typer.Option(help="Only entries about this account.")] = None,
    offset: Annotated[int, typer.Option(help="Skip this many of the newest.", min=0)] = 0,
    db: DbOption = None,
) -> None:
    """The audit log, the newest first: sign-ins, money moves, operator actions."""
    with opened(db) as services:
        account_id = None if login is None else account_by_login(services, login).id
        page = services.audit.page(account_id, offset)
    table = Table("when (UTC)", "who", "ip", "action", "concerns", "details")
    for e in page.entries:
        when = datetime.fromtimestamp(e.at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(when, escape(e.actor), e.ip, e.action, escape(e.target), escape(e.details))
    console.print(table)
    if page.has_next:
        console.print(f"older entries: --offset {page.offset + page.limit}")


def register(app: typer.Typer, accounts_app: typer.Typer, senders_app: typer.Typer) -> None:
    accounts_app.command("disable")(accounts_disable)
    accounts_app.command("enable")(accounts_enable)
    accounts_app.command("operator")(accounts_operator)
    accounts_app.command("test-mode")(accounts_test_mode)
    senders_app.command("approve")(senders_approve)
    senders_app.command("reject")(senders_reject)
    app.command("blocks")(blocks)
    app.command("unblock")(unblock)
    app.command("audit")(audit)
