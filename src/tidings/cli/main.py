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
from tidings.cli.common import account_by_login, fail, opened
from tidings.cli.common import tidings_version as _version
from tidings.cli.demo import ensure_demo_account
from tidings.cli.doors import register as register_door_commands
from tidings.cli.inbound import register as register_inbound_commands
from tidings.cli.operator import print_live_state
from tidings.cli.operator import register as register_operator_commands
from tidings.cli.options import ConfigOption, DbOption
from tidings.cli.templates import register as register_template_commands
from tidings.config import Settings, SettingsError, load_settings
from tidings.domain.accounts import parse_cidr
from tidings.domain.audit import CLI
from tidings.domain.money import format_money
from tidings.domain.services import Services
from tidings.errors import DomainError, NotFound, RecordError, StartupError

app = typer.Typer(
    help="Tidings: bulk SMS and e-mail centre speaking the SMS Center API.", no_args_is_help=True
)
accounts_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
senders_app = typer.Typer(help="Sender names of accounts (operator).", no_args_is_help=True)
config_app = typer.Typer(help="The settings file.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(senders_app, name="senders")
console = Console()


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"tidings {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Tidings: bulk SMS and e-mail centre speaking the SMS Center API."""


@config_app.command("init")
def config_init(
    path: Annotated[str, typer.Argument(help="Where to write it")] = "tidings.toml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file")] = False,
) -> None:
    """Write a commented settings file: every setting with its default, commented out."""
    from pathlib import Path

    from tidings.cli.config_sample import SAMPLE

    target = Path(path)
    if target.exists() and not force:
        fail(f"{path} exists; --force overwrites it")
    try:
        target.write_text(SAMPLE, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror or error}")
    console.print(f"wrote {path}; `tidings serve` reads ./tidings.toml by itself", highlight=False)


def _settings(db: str | None, config: str | None = None, **extra: object) -> Settings:
    return load_settings(config, database_url=db, **extra)


def _now() -> datetime:
    return datetime.now(UTC)


@app.command()
def serve(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address [127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port [8080]")] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            help="2: the dispatcher in a process of its own, on the second core; "
            "1: all in this process [settings: serve_processes, 2]",
            min=1,
            max=2,
        ),
    ] = None,
) -> None:
    """Run the HTTP API and the dispatcher (the store is migrated first; an empty store gets
    a demo account)."""
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


@app.command()
def api(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address [127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port [8080]")] = None,
    workers: Annotated[
        int | None, typer.Option(help="API processes on the port [settings: workers, 1]")
    ] = None,
) -> None:
    """Run only the HTTP API (dispatchers run as separate processes)."""
    import uvicorn

    from tidings.api.server import server_config
    from tidings.app import base_url, build_application, configure_logging, listening_socket
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
        uvicorn.Server(server).run(sockets=[listener])
    finally:
        application.close()


def _warn_routing_gaps(services: Services) -> None:
    """Say at start what live accounts cannot send (no [[smpp]] configured is the usual
    case: a forgotten --config)."""
    for gap in services.upstreams.gaps():
        console.print(f"[yellow]warning:[/] {escape(gap)}", highlight=False, soft_wrap=True)


def _say_listening(url: str) -> None:
    console.print(
        f"Tidings {_version()} listening on {url}\n"
        f"  API:     {url}/sys/jobs.php, {url}/sys/send.php, … (SMS Center protocol)\n"
        f"  cabinet: {url}/",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def dispatcher(
    db: DbOption = None,
    config: ConfigOption = None,
    worker_id: Annotated[str | None, typer.Option(help="Lease owner name [host name]")] = None,
) -> None:
    """Run only the dispatcher: scheduler, upstreams, receipts. SIGTERM drains and stops."""
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


@app.command()
def upstreams(db: DbOption = None, config: ConfigOption = None) -> None:
    """List the configured upstreams and their live state (as the dispatchers report it)."""
    settings = _settings(db, config)
    table = Table("name", "kind", "address", "window", "binds", "routes")
    table.add_row(
        "virtual",
        "virtual (test mode)",
        "-",
        str(settings.virtual.window),
        "-",
        "test-mode accounts; everything while no upstream is configured",
    )
    for u in settings.smpp:
        table.add_row(
            u.name,
            "smpp",
            f"{u.host}:{u.port}",
            str(u.window),
            str(u.binds),
            ", ".join(u.prefixes) or "any number",
        )
    for m in settings.smtp:
        table.add_row(m.name, "smtp", f"{m.host}:{m.port}", str(m.pool_size), "-", "e-mail")
    console.print(table)
    print_live_state(settings)


@accounts_app.command("create")
def accounts_create(
    login: str,
    password: Annotated[
        str, typer.Option("--password", help="The account password (at least 8 characters).")
    ],
    balance: Annotated[str, typer.Option(help="Opening balance.")] = "0",
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Europe/Moscow",
    test_mode: Annotated[bool, typer.Option("--test-mode", help="Virtual sending.")] = False,
    operator: Annotated[bool, typer.Option("--operator", help="Operator (admin).")] = False,
    db: DbOption = None,
) -> None:
    """Create an account (the rules of the admin page's form apply)."""
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
            fail(exc.description)
    console.print(f"created account {account.login} (id {account.id})")


@accounts_app.command("password")
def accounts_password(
    login: str,
    password: Annotated[
        str | None,
        typer.Option("--password", help="The new password (8+ characters) [a generated one]"),
    ] = None,
    db: DbOption = None,
) -> None:
    """Set an account's password (without --password: a generated one, printed once); its
    cabinet sessions end."""
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            done = services.operator.reset_password(account.id, password or "", _now(), CLI)
        except DomainError as exc:
            fail(exc.description)
    shown = f" to {escape(done.password)}" if done.generated else ""
    console.print(f"{login}: password set{shown}, its cabinet sessions ended", highlight=False)


@accounts_app.command("smpp-password")
def accounts_smpp_password(
    login: str,
    password: Annotated[
        str | None,
        typer.Option("--password", help="1-8 printable ASCII characters [a random one]"),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="No SMPP password: binds take the password")
    ] = False,
    db: DbOption = None,
) -> None:
    """Set the password SMPP binds take (SMPP 3.4 carries at most 8 characters); printed."""
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            chosen = services.profile.set_smpp_password(account, "" if clear else password)
        except DomainError as exc:
            fail(exc.description)
    console.print(f"{login}: SMPP password {escape(chosen) if chosen else 'removed'}")


@accounts_app.command("list")
def accounts_list(db: DbOption = None) -> None:
    """List accounts with their balances."""
    with opened(db) as services:
        table = Table("login", "id", "balance", "time zone", "test mode", "operator", "disabled")
        for line in services.admin.accounts():
            account = line.account
            table.add_row(
                account.login,
                str(account.id),
                format_money(line.balance_minor),
                account.timezone,
                "yes" if account.test_mode else "",
                "yes" if account.is_operator else "",
                "[red]yes[/]" if account.disabled else "",
            )
        console.print(table)


@accounts_app.command("apikey")
def accounts_apikey(login: str, db: DbOption = None) -> None:
    """Create an API key for the account and print it (it is shown only once)."""
    with opened(db) as services:
        key = services.profile.issue_api_key(account_by_login(services, login), _now())
    print(key)


@accounts_app.command("allow-ip")
def accounts_allow_ip(login: str, cidr: str, db: DbOption = None) -> None:
    """Add an IP or network to the account's allowlist (an empty list allows any IP)."""
    with opened(db) as services:
        account = account_by_login(services, login)
        network = _cidr(cidr)
        try:
            services.profile.allow_ip(account, network)
            added = True
        except RecordError:
            added = False
    console.print(f"{network} {'allowed' if added else 'was already allowed'} for {login}")


@accounts_app.command("deny-ip")
def accounts_deny_ip(login: str, cidr: str, db: DbOption = None) -> None:
    """Remove an IP or network from the account's allowlist."""
    with opened(db) as services:
        account = account_by_login(services, login)
        network = _cidr(cidr)
        try:
            services.profile.deny_ip(account, network)
            removed = True
        except NotFound:
            removed = False
    console.print(f"{network} {'removed' if removed else 'was not on the list'} for {login}")


def _cidr(value: str) -> str:
    try:
        return parse_cidr(value)
    except DomainError as exc:
        fail(exc.description)


@accounts_app.command("callback")
def accounts_callback(
    login: str,
    url: Annotated[str, typer.Argument(help="http(s) URL; empty to switch callbacks off")],
    inbound: Annotated[
        bool | None,
        typer.Option("--inbound/--no-inbound", help="Forward incoming SMS to URL too."),
    ] = None,
    db: DbOption = None,
) -> None:
    """POST every status change of the account's messages to URL; prints the signing secret
    (the cabinet's callback page checks the URL alike). With --inbound, the account's
    incoming SMS too (SMS Center's fl[11]); left as it is when neither option is given."""
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            secret = services.profile.set_callback(account, url)
        except DomainError as exc:
            fail(exc.description)
        if inbound is not None:
            services.profile.set_forward_inbound(account, inbound)
    if secret:
        print(secret)
    else:
        console.print(f"callbacks switched off for {login}")


MemoOption = Annotated[str, typer.Option(help="Ledger note [credit/debit from CLI].")]


@accounts_app.command("credit")
def accounts_credit(login: str, amount: str, memo: MemoOption = "", db: DbOption = None) -> None:
    """Add money to the account through the ledger (a negative amount debits it); the admin
    page's checks apply."""
    text = amount.strip()
    if text.startswith("-"):
        _move_money(login, text[1:], "debit", memo, db)
    else:
        _move_money(login, text, "credit", memo, db)


@accounts_app.command("debit")
def accounts_debit(login: str, amount: str, memo: MemoOption = "", db: DbOption = None) -> None:
    """Take money from the account through the ledger; the admin page's checks apply."""
    _move_money(login, amount, "debit", memo, db)


def _move_money(login: str, amount: str, direction: str, memo: str, db: str | None) -> None:
    with opened(db) as services:
        account = account_by_login(services, login)
        try:
            balance = services.admin.move_money(
                account.id, amount, direction, memo or f"{direction} from CLI", _now(), CLI
            )
        except DomainError as exc:
            fail(exc.description)
    console.print(f"{login}: balance {format_money(balance)} {account.currency}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply database migrations up to the newest schema."""
    from tidings.app import upgrade_database

    upgrade_database(_settings(db).database_url, here=True)
    console.print("database is up to date")


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
