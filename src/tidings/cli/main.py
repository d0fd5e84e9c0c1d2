"""`tidings` command line: serve, accounts, senders, templates, inbound, db."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tidings.cli.account_actions import register as register_account_actions
from tidings.cli.accounts import accounts_app
from tidings.cli.common import fail
from tidings.cli.common import tidings_version as _version
from tidings.cli.demo import ensure_demo_account
from tidings.cli.doors import register as register_door_commands
from tidings.cli.frame import translate_the_frame
from tidings.cli.i18n import _, routing_gap
from tidings.cli.inbound import register as register_inbound_commands
from tidings.cli.operator import print_live_state
from tidings.cli.operator import register as register_operator_commands
from tidings.cli.options import ConfigOption, DbOption
from tidings.cli.templates import register as register_template_commands
from tidings.config import Settings, SettingsError, load_settings
from tidings.domain.services import Services
from tidings.errors import StartupError

translate_the_frame()
ABOUT = _("Tidings: bulk SMS and e-mail centre speaking the SMS Center API.")
app = typer.Typer(help=ABOUT, no_args_is_help=True)
db_app = typer.Typer(help=_("Database schema."), no_args_is_help=True)
senders_app = typer.Typer(help=_("Sender names of accounts (operator)."), no_args_is_help=True)
config_app = typer.Typer(help=_("The settings file."), no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(senders_app, name="senders")
console = Console()


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"tidings {_version()}")
        raise typer.Exit()


@app.callback(help=ABOUT)
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help=_("Print the version and exit."),
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    pass


@config_app.command(
    "init",
    help=_("Write a commented settings file: every setting with its default, commented out."),
)
def config_init(
    path: Annotated[str, typer.Argument(help=_("Where to write it"))] = "tidings.toml",
    force: Annotated[bool, typer.Option("--force", help=_("Overwrite an existing file"))] = False,
) -> None:
    from pathlib import Path

    from tidings.cli.config_sample import SAMPLE

    target = Path(path)
    if target.exists() and not force:
        fail(_("%(path)s exists; --force overwrites it", path=path))
    try:
        target.write_text(SAMPLE, encoding="utf-8")
    except OSError as error:
        fail(_("cannot write %(path)s: %(error)s", path=path, error=error.strerror or error))
    console.print(
        _("wrote %(path)s; `tidings serve` reads ./tidings.toml by itself", path=path),
        highlight=False,
    )


def _settings(db: str | None, config: str | None = None, **extra: object) -> Settings:
    return load_settings(config, database_url=db, **extra)


def _now() -> datetime:
    return datetime.now(UTC)


HostOption = Annotated[str | None, typer.Option(help=_("Listen address [127.0.0.1]"))]
PortOption = Annotated[int | None, typer.Option(help=_("Listen port [8080]"))]


@app.command(
    help=_(
        "Run the HTTP API and the dispatcher (the store is migrated first; an empty store "
        "gets a demo account)."
    )
)
def serve(
    db: DbOption = None,
    config: ConfigOption = None,
    host: HostOption = None,
    port: PortOption = None,
    processes: Annotated[
        int | None,
        typer.Option(
            help=_(
                "2: the dispatcher in a process of its own, on the second core; "
                "1: all in this process [settings: serve_processes, 2]"
            ),
            min=1,
            max=2,
        ),
    ] = None,
) -> None:
    settings = _settings(db, config, host=host, port=port)
    split = (processes or settings.serve_processes) == 2 and settings.store_is_shared
    if split:
        # The dispatcher's counters reach this process's /metrics through files; the mode
        # is fixed when prometheus-client is first imported, so before the application is.
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="tidings-"))
    from tidings.app import build_application, configure_logging
    from tidings.cli import serve_split

    configure_logging(settings.log_level, unmasked=settings.log_unmasked)
    application = build_application(settings)
    ensure_demo_account(application.services.admin, settings)
    _warn_routing_gaps(application.services)
    try:
        if split:
            code = serve_split.serve_split(application, settings, config, _say_listening)
        else:
            serve_split.serve_inline(application, settings, _say_listening)
            code = 0
    finally:
        application.close()
    if code:
        raise typer.Exit(code)


@app.command(help=_("Run only the HTTP API (dispatchers run as separate processes)."))
def api(
    db: DbOption = None,
    config: ConfigOption = None,
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[
        int | None, typer.Option(help=_("API processes on the port [settings: workers, 1]"))
    ] = None,
) -> None:
    import uvicorn

    from tidings.api.server import server_config
    from tidings.app import (
        base_url,
        build_application,
        configure_logging,
        listening_socket,
        settle_heap,
    )
    from tidings.cli import workers as api_workers

    settings = _settings(db, config, host=host, port=port, workers=workers)
    configure_logging(settings.log_level, unmasked=settings.log_unmasked)
    if settings.workers > 1:
        api_workers.run(settings, config)
        return
    application = build_application(settings)
    try:
        listener = listening_socket(settings.host, settings.port)
        _say_listening(base_url(settings.host, listener.getsockname()[1]))
        server = server_config(application.http, settings, settings.host, settings.port)
        settle_heap()
        uvicorn.Server(server).run(sockets=[listener])
    finally:
        application.close()


def _warn_routing_gaps(services: Services) -> None:
    """Say at start what live accounts cannot send (no [[smpp]] configured is the usual
    case: a forgotten --config)."""
    warning = _("warning:")
    for gap in services.upstreams.gaps():
        console.print(
            f"[yellow]{escape(warning)}[/] {escape(routing_gap(gap))}",
            highlight=False,
            soft_wrap=True,
        )


def _say_listening(url: str) -> None:
    console.print(
        escape(
            _(
                "Tidings %(version)s listening on %(url)s\n"
                "  API:     %(url)s/sys/jobs.php, %(url)s/sys/send.php, … (SMS Center protocol)\n"
                "  cabinet: %(url)s/",
                version=_version(),
                url=url,
            )
        ),
        highlight=False,
        soft_wrap=True,
    )


@app.command(
    help=_("Run only the dispatcher: scheduler, upstreams, receipts. SIGTERM drains and stops.")
)
def dispatcher(
    db: DbOption = None,
    config: ConfigOption = None,
    worker_id: Annotated[str | None, typer.Option(help=_("Lease owner name [host name]"))] = None,
) -> None:
    from tidings.app import build_dispatcher, configure_logging, open_store, run_event_loop
    from tidings.cli.child_of_serve import die_with_parent

    # Started by `serve --processes 2`: never outlive it, and the store is migrated already
    # (a second migration run would only race the server's first requests for SQLite's lock).
    from_serve = die_with_parent()
    settings = _settings(db, config)
    configure_logging(settings.log_level, unmasked=settings.log_unmasked)
    store = open_store(settings, upgrade=not from_serve)
    worker = build_dispatcher(settings, store, worker_id=worker_id)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await worker.run(stop)

    try:
        run_event_loop(main())
    finally:
        store.close()


@app.command(
    help=_("List the configured upstreams and their live state (as the dispatchers report it).")
)
def upstreams(db: DbOption = None, config: ConfigOption = None) -> None:
    settings = _settings(db, config)
    table = Table(_("name"), _("kind"), _("address"), _("window"), _("binds"), _("routes"))
    table.add_row(
        "virtual",
        _("virtual (test mode)"),
        "-",
        str(settings.virtual.window),
        "-",
        _("test-mode accounts; everything while no upstream is configured"),
    )
    for u in settings.smpp:
        table.add_row(
            u.name,
            "smpp",
            f"{u.host}:{u.port}",
            str(u.window),
            str(u.binds),
            ", ".join(u.prefixes) or _("any number"),
        )
    for m in settings.smtp:
        table.add_row(m.name, "smtp", f"{m.host}:{m.port}", str(m.pool_size), "-", _("e-mail"))
    console.print(table)
    print_live_state(settings)


@db_app.command("upgrade", help=_("Apply database migrations up to the newest schema."))
def db_upgrade(db: DbOption = None) -> None:
    from tidings.app import upgrade_database

    upgrade_database(_settings(db).database_url, here=True)
    console.print(_("database is up to date"))


register_operator_commands(app)
register_account_actions(app, accounts_app, senders_app)
register_door_commands(app)
register_template_commands(app)
register_inbound_commands(app)


def main() -> None:
    """The `tidings` command. Settings that cannot be used and a store that cannot be opened
    are the operator's to fix: one or two lines saying what and where, exit code 2 — not a
    traceback."""
    try:
        app()
    except (SettingsError, StartupError) as error:
        typer.echo(f"tidings: {error}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # `python -m tidings.cli.main`: how `serve` starts its dispatcher
    main()
