"""`tidings templates`: an account's message templates from the command line, through the
template service the API (templates.php) and the cabinet use, so the same rules apply."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tidings.cli.common import account_by_login, fail, opened
from tidings.cli.options import DbOption
from tidings.errors import DomainError

templates_app = typer.Typer(help="Message templates of accounts (tpl=<id>).", no_args_is_help=True)
console = Console()

NameOption = Annotated[str | None, typer.Option("--name", help="Name (1-100 characters).")]
TextOption = Annotated[str | None, typer.Option("--text", help="The text (msg).")]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="sms, flash, bin, mail, or empty (any).")
]
SenderOption = Annotated[str | None, typer.Option("--sender", help="Sender (optional).")]
SignatureOption = Annotated[
    bool | None,
    typer.Option("--signature/--no-signature", help="Use as the account's auto-signature."),
]


def _fields(
    name: str | None,
    text: str | None,
    fmt: str | None,
    sender: str | None,
    signature: bool | None,
) -> dict[str, str]:
    """The options as templates.php parameters (an option not given is a field not given)."""
    given = {"name": name, "msg": text, "format": fmt, "sender": sender}
    fields = {k: v for k, v in given.items() if v is not None}
    if signature is not None:
        fields["fl[1]"] = "1" if signature else "0"
    return fields


@templates_app.command("list")
def templates_list(login: str, db: DbOption = None) -> None:
    """List the account's templates."""
    with opened(db) as services:
        found = services.templates.list(account_by_login(services, login))
    table = Table("tpl", "name", "format", "sender", "signature", "text")
    for t in found:
        table.add_row(
            str(t.id), t.name, t.format or "any", t.sender, "yes" if t.signature else "", t.text
        )
    console.print(table)


@templates_app.command("add")
def templates_add(
    login: str,
    name: NameOption = None,
    text: TextOption = None,
    fmt: FormatOption = None,
    sender: SenderOption = None,
    signature: SignatureOption = None,
    db: DbOption = None,
) -> None:
    """Add a template; prints its id (the `tpl` of jobs.php and send.php)."""
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            added = services.templates.add(
                account, _fields(name, text, fmt, sender, signature), datetime.now(UTC)
            )
        except DomainError as exc:
            fail(exc.description)
    console.print(f"template {added.id} ({escape(added.name)}) added for {login}", highlight=False)


@templates_app.command("change")
def templates_change(
    login: str,
    template_id: int,
    name: NameOption = None,
    text: TextOption = None,
    fmt: FormatOption = None,
    sender: SenderOption = None,
    signature: SignatureOption = None,
    db: DbOption = None,
) -> None:
    """Change the fields given; the others stay."""
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            services.templates.change(
                account,
                template_id,
                _fields(name, text, fmt, sender, signature),
                datetime.now(UTC),
            )
        except DomainError as exc:
            fail(exc.description)
    console.print(f"template {template_id} changed for {login}")


@templates_app.command("delete")
def templates_delete(login: str, template_id: int, db: DbOption = None) -> None:
    """Delete a template."""
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            services.templates.delete(account, template_id)
        except DomainError as exc:
            fail(exc.description)
    console.print(f"template {template_id} deleted for {login}")


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")
