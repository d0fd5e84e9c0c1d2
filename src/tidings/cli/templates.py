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
from tidings.cli.i18n import _, refusal, yes
from tidings.cli.options import DbOption
from tidings.errors import DomainError

templates_app = typer.Typer(
    help=_("Message templates of accounts (tpl=<id>)."), no_args_is_help=True
)
console = Console()

NameOption = Annotated[str | None, typer.Option("--name", help=_("Name (1-100 characters)."))]
TextOption = Annotated[str | None, typer.Option("--text", help=_("The text (msg)."))]
FormatOption = Annotated[
    str | None, typer.Option("--format", help=_("sms, flash, bin, mail, or empty (any)."))
]
SenderOption = Annotated[str | None, typer.Option("--sender", help=_("Sender (optional)."))]
SignatureOption = Annotated[
    bool | None,
    typer.Option("--signature/--no-signature", help=_("Use as the account's auto-signature.")),
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


@templates_app.command("list", help=_("List the account's templates."))
def templates_list(login: str, db: DbOption = None) -> None:
    with opened(db) as services:
        found = services.templates.list(account_by_login(services, login))
    table = Table("tpl", _("name"), _("format"), _("sender"), _("signature"), _("text"))
    for t in found:
        table.add_row(
            str(t.id), t.name, t.format or _("any"), t.sender, yes() if t.signature else "", t.text
        )
    console.print(table)


@templates_app.command(
    "add", help=_("Add a template; prints its id (the `tpl` of jobs.php and send.php).")
)
def templates_add(
    login: str,
    name: NameOption = None,
    text: TextOption = None,
    fmt: FormatOption = None,
    sender: SenderOption = None,
    signature: SignatureOption = None,
    db: DbOption = None,
) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            added = services.templates.add(
                account, _fields(name, text, fmt, sender, signature), datetime.now(UTC)
            )
        except DomainError as exc:
            fail(refusal(exc))
    said = _(
        "template %(id)s (%(name)s) added for %(login)s", id=added.id, name=added.name, login=login
    )
    console.print(escape(said), highlight=False)


@templates_app.command("change", help=_("Change the fields given; the others stay."))
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
            fail(refusal(exc))
    console.print(escape(_("template %(id)s changed for %(login)s", id=template_id, login=login)))


@templates_app.command("delete", help=_("Delete a template."))
def templates_delete(login: str, template_id: int, db: DbOption = None) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            services.templates.delete(account, template_id)
        except DomainError as exc:
            fail(refusal(exc))
    console.print(escape(_("template %(id)s deleted for %(login)s", id=template_id, login=login)))


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")
