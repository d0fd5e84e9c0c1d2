"""`tidings smpp-server` and `tidings smtp-server`: the doors on their own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console

from tidings.cli.common import tidings_version
from tidings.cli.i18n import _
from tidings.cli.options import ConfigOption, DbOption
from tidings.config import load_settings

console = Console()


def register(app: typer.Typer) -> None:
    app.command(
        "smpp-server",
        help=_(
            "Run only the SMPP server clients bind to (receipts come from the dispatchers "
            "through the store). SIGTERM unbinds the clients and stops."
        ),
    )(smpp_server)
    app.command(
        "smtp-server",
        help=_(
            "Run only the SMTP door: mail to send@<smtp_server.domain> is sent as send.php "
            "would. SIGTERM stops it."
        ),
    )(smtp_server)


def smpp_server(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help=_("Listen address [smpp_server.host]"))] = None,
    port: Annotated[
        int | None, typer.Option(help=_("Listen port [smpp_server.port, 3700]"))
    ] = None,
) -> None:
    _run_door("smpp", "SMPP", db, config, host, port)


def smtp_server(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help=_("Listen address [smtp_server.host]"))] = None,
    port: Annotated[
        int | None, typer.Option(help=_("Listen port [smtp_server.port, 2525]"))
    ] = None,
) -> None:
    _run_door("smtp", "SMTP", db, config, host, port)


def _run_door(
    kind: str, name: str, db: str | None, config: str | None, host: str | None, port: int | None
) -> None:
    """One door (`kind`: its settings section is `<kind>_server`) with the command line's
    address over the settings', until SIGTERM."""
    from tidings.app import build_doors, configure_logging, opened_services, serve_doors

    settings = load_settings(config, database_url=db)
    section = f"{kind}_server"
    chosen = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    door_settings = getattr(settings, section).model_copy(update=chosen)
    settings = settings.model_copy(update={section: door_settings})
    configure_logging(settings.log_level, unmasked=settings.log_unmasked)
    with opened_services(settings) as services:
        doors = build_doors(settings, services, kinds=(kind,))
        asyncio.run(serve_doors(doors, _say_door_listening(name, kind)))


def _say_door_listening(name: str, scheme: str) -> Callable[[str], None]:
    def say(address: str) -> None:
        url = f"{scheme}://{address}"
        console.print(
            _(
                "Tidings %(version)s %(name)s server listening on %(url)s",
                version=tidings_version(),
                name=name,
                url=url,
            ),
            highlight=False,
        )

    return say
