"""`tidings accounts …`: creating accounts, their passwords, API keys, allowed IPs,
callbacks and money, through the services the admin pages use (the same rules, the same
audit entries, written as "cli"). The operator's switches (disable, test mode, …) are in
account_actions.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tidings.cli.common import account_by_login, fail, opened
from tidings.cli.i18n import _, money, refusal, yes
from tidings.cli.options import DbOption
from tidings.domain.accounts import parse_cidr
from tidings.domain.audit import CLI
from tidings.errors import DomainError, NotFound, RecordError

accounts_app = typer.Typer(help=_("Manage accounts."), no_args_is_help=True)
console = Console()


def _now() -> datetime:
    return datetime.now(UTC)


@accounts_app.command(
    "create", help=_("Create an account (the rules of the admin page's form apply).")
)
def accounts_create(
    login: str,
    password: Annotated[
        str, typer.Option("--password", help=_("The account password (at least 8 characters)."))
    ],
    balance: Annotated[str, typer.Option(help=_("Opening balance."))] = "0",
    timezone: Annotated[str, typer.Option(help=_("IANA time zone."))] = "Europe/Moscow",
    test_mode: Annotated[bool, typer.Option("--test-mode", help=_("Virtual sending."))] = False,
    operator: Annotated[bool, typer.Option("--operator", help=_("Operator (admin)."))] = False,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        try:
            account = services.admin.create_account(
                login,
                password,
                balance,
                _now(),
                CLI,
                test_mode=test_mode,
                is_operator=operator,
                timezone=timezone,
            )
        except DomainError as exc:
            fail(refusal(exc))
    console.print(_("created account %(login)s (id %(id)s)", login=account.login, id=account.id))


@accounts_app.command(
    "password",
    help=_(
        "Set an account's password (without --password: a generated one, printed once); its "
        "cabinet sessions end."
    ),
)
def accounts_password(
    login: str,
    password: Annotated[
        str | None,
        typer.Option("--password", help=_("The new password (8+ characters) [a generated one]")),
    ] = None,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            done = services.operator.reset_password(account.id, password or "", _now(), CLI)
        except DomainError as exc:
            fail(refusal(exc))
    if done.generated:
        said = _(
            "%(login)s: password set to %(password)s, its cabinet sessions ended",
            login=login,
            password=done.password,
        )
    else:
        said = _("%(login)s: password set, its cabinet sessions ended", login=login)
    console.print(escape(said), highlight=False)


@accounts_app.command(
    "smpp-password",
    help=_("Set the password SMPP binds take (SMPP 3.4 carries at most 8 characters); printed."),
)
def accounts_smpp_password(
    login: str,
    password: Annotated[
        str | None,
        typer.Option("--password", help=_("1-8 printable ASCII characters [a random one]")),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help=_("No SMPP password: binds take the password"))
    ] = False,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            chosen = services.profile.set_smpp_password(account, "" if clear else password)
        except DomainError as exc:
            fail(refusal(exc))
    if chosen:
        said = _("%(login)s: SMPP password %(password)s", login=login, password=chosen)
    else:
        said = _("%(login)s: SMPP password removed", login=login)
    console.print(escape(said), highlight=False)


@accounts_app.command("list", help=_("List accounts with their balances."))
def accounts_list(db: DbOption = None) -> None:
    with opened(db) as services:
        table = Table(
            _("login"),
            "id",
            _("balance"),
            _("time zone"),
            _("test mode"),
            _("operator"),
            _("disabled"),
        )
        for line in services.admin.accounts():
            account = line.account
            table.add_row(
                account.login,
                str(account.id),
                money(line.balance_minor),
                account.timezone,
                yes() if account.test_mode else "",
                yes() if account.is_operator else "",
                f"[red]{yes()}[/]" if account.disabled else "",
            )
        console.print(table)


@accounts_app.command(
    "apikey", help=_("Create an API key for the account and print it (it is shown only once).")
)
def accounts_apikey(login: str, db: DbOption = None) -> None:
    with opened(db) as services:
        key = services.profile.issue_api_key(account_by_login(services, login), _now())
    print(key)


@accounts_app.command(
    "allow-ip",
    help=_("Add an IP or network to the account's allowlist (an empty list allows any IP)."),
)
def accounts_allow_ip(login: str, cidr: str, db: DbOption = None) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        network = _cidr(cidr)
        try:
            services.profile.allow_ip(account, network)
            added = True
        except RecordError:
            added = False
    if added:
        said = _("%(network)s allowed for %(login)s", network=network, login=login)
    else:
        said = _("%(network)s was already allowed for %(login)s", network=network, login=login)
    console.print(escape(said))


@accounts_app.command("deny-ip", help=_("Remove an IP or network from the account's allowlist."))
def accounts_deny_ip(login: str, cidr: str, db: DbOption = None) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        network = _cidr(cidr)
        try:
            services.profile.deny_ip(account, network)
            removed = True
        except NotFound:
            removed = False
    if removed:
        said = _("%(network)s removed for %(login)s", network=network, login=login)
    else:
        said = _("%(network)s was not on the list for %(login)s", network=network, login=login)
    console.print(escape(said))


def _cidr(value: str) -> str:
    try:
        return parse_cidr(value)
    except DomainError as exc:
        fail(refusal(exc))


@accounts_app.command(
    "callback",
    help=_(
        "POST every status change of the account's messages to URL; prints the signing secret "
        "(the cabinet's callback page checks the URL alike). With --inbound, the account's "
        "incoming SMS too (SMS Center's fl[11]); left as it is when neither option is given."
    ),
)
def accounts_callback(
    login: str,
    url: Annotated[str, typer.Argument(help=_("http(s) URL; empty to switch callbacks off"))],
    inbound: Annotated[
        bool | None,
        typer.Option("--inbound/--no-inbound", help=_("Forward incoming SMS to URL too.")),
    ] = None,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            secret = services.profile.set_callback(account, url)
        except DomainError as exc:
            fail(refusal(exc))
        if inbound is not None:
            services.profile.set_forward_inbound(account, inbound)
    if secret:
        print(secret)
    else:
        console.print(escape(_("callbacks switched off for %(login)s", login=login)))


MemoOption = Annotated[str, typer.Option(help=_("Ledger note [credit/debit from CLI]."))]


@accounts_app.command(
    "credit",
    help=_(
        "Add money to the account through the ledger (a negative amount debits it); the admin "
        "page's checks apply."
    ),
)
def accounts_credit(login: str, amount: str, memo: MemoOption = "", db: DbOption = None) -> None:
    text = amount.strip()
    if text.startswith("-"):
        _move_money(login, text[1:], "debit", memo, db)
    else:
        _move_money(login, text, "credit", memo, db)


@accounts_app.command(
    "debit",
    help=_("Take money from the account through the ledger; the admin page's checks apply."),
)
def accounts_debit(login: str, amount: str, memo: MemoOption = "", db: DbOption = None) -> None:
    _move_money(login, amount, "debit", memo, db)


def _move_money(login: str, amount: str, direction: str, memo: str, db: str | None) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            balance = services.admin.move_money(
                account.id, amount, direction, memo or f"{direction} from CLI", _now(), CLI
            )
        except DomainError as exc:
            fail(refusal(exc))
    console.print(
        escape(
            _(
                "%(login)s: balance %(amount)s %(currency)s",
                login=login,
                amount=money(balance),
                currency=account.currency,
            )
        )
    )
