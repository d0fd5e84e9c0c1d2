"""`tidings` command line: serve, accounts, senders, db."""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tidings.cli.operator import print_live_state
from tidings.cli.operator import register as register_operator_commands
from tidings.cli.options import ConfigOption, DbOption
from tidings.config import Settings, load_settings
from tidings.domain.accounts import (
    Account,
    api_key_hash,
    generate_api_key,
    hash_password,
    parse_cidr,
    validate_login,
)
from tidings.domain.money import format_money, to_minor
from tidings.errors import DomainError
from tidings.store.repository import Store

app = typer.Typer(
    help="Tidings: bulk SMS and e-mail centre speaking the SMS Center API.", no_args_is_help=True
)
accounts_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
senders_app = typer.Typer(help="Sender names of accounts (operator).", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(db_app, name="db")
app.add_typer(senders_app, name="senders")
console = Console()

DEMO_LOGIN = "demo"


def _settings(db: str | None, config: str | None = None, **extra: object) -> Settings:
    return load_settings(config, database_url=db, **extra)


@contextmanager
def _store(db: str | None) -> Iterator[Store]:
    from tidings.app import open_store

    store = open_store(_settings(db))
    try:
        yield store
    finally:
        store.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _account(store: Store, login: str) -> Account:
    account = store.account_by_login(login)
    if account is None:
        console.print(f"[red]no account {login!r}[/red]")
        raise typer.Exit(1)
    return account


@app.command()
def serve(
    db: DbOption = None,
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Listen address [127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port [8080]")] = None,
) -> None:
    """Run the HTTP API and the dispatcher in one process (the store is migrated first;
    an empty store gets a demo account)."""
    from tidings.app import (
        build_application,
        build_dispatcher,
        configure_logging,
        serve_with_dispatcher,
    )

    settings = _settings(db, config, host=host, port=port)
    configure_logging(settings.log_level)
    application = build_application(settings)
    _ensure_demo_account(application.store, settings)
    dispatcher = build_dispatcher(settings, application.store)
    try:
        asyncio.run(
            serve_with_dispatcher(application.http, dispatcher, settings.host, settings.port)
        )
    finally:
        application.close()


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

    from tidings.app import build_application, configure_logging
    from tidings.cli import workers as api_workers

    settings = _settings(db, config, host=host, port=port, workers=workers)
    configure_logging(settings.log_level)
    if settings.workers > 1:
        api_workers.run(settings, config)
        return
    application = build_application(settings)
    try:
        uvicorn.run(
            application.http,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    finally:
        application.close()


@app.command()
def dispatcher(
    db: DbOption = None,
    config: ConfigOption = None,
    worker_id: Annotated[str | None, typer.Option(help="Lease owner name [host name]")] = None,
) -> None:
    """Run only the dispatcher: scheduler, upstreams, receipts. SIGTERM drains and stops."""
    from tidings.app import build_dispatcher, configure_logging, open_store

    settings = _settings(db, config)
    configure_logging(settings.log_level)
    store = open_store(settings)
    worker = build_dispatcher(settings, store, worker_id=worker_id)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await worker.run(stop)

    try:
        asyncio.run(main())
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


def _ensure_demo_account(store: Store, settings: Settings) -> None:
    if store.count_accounts() > 0:
        return
    password = secrets.token_urlsafe(9)
    account = store.create_account(DEMO_LOGIN, hash_password(password), _now(), test_mode=True)
    store.add_ledger_entry(account.id, to_minor("1000"), "credit", "demo balance", _now())
    base = f"http://{settings.host}:{settings.port}"
    console.print(
        "\n[bold green]Demo account created (test mode: nothing leaves this machine)[/]\n"
        f"  login:    {DEMO_LOGIN}\n  password: {password}\n\n"
        "Create a mailing list, then list them:\n"
        f"  curl '{base}/sys/jobs.php?login={DEMO_LOGIN}&psw={password}&add=1&name=Hello"
        "&phones=79161234567,79161234568&mes=Hello+from+Tidings&fmt=3'\n"
        f"  curl '{base}/sys/jobs.php?login={DEMO_LOGIN}&psw={password}&get_all=1&fmt=3'\n",
        highlight=False,
        soft_wrap=True,
    )


@accounts_app.command("create")
def accounts_create(
    login: str,
    password: Annotated[str, typer.Option("--password", help="The account password.")],
    balance: Annotated[str, typer.Option(help="Opening balance.")] = "0",
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Europe/Moscow",
    test_mode: Annotated[bool, typer.Option("--test-mode", help="Virtual sending.")] = False,
    operator: Annotated[bool, typer.Option("--operator", help="Operator (admin).")] = False,
    db: DbOption = None,
) -> None:
    """Create an account."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
        validate_login(login)
        amount = to_minor(balance)
        with _store(db) as store:
            account = store.create_account(
                login,
                hash_password(password),
                _now(),
                timezone=timezone,
                test_mode=test_mode,
                is_operator=operator,
            )
            if amount:
                store.add_ledger_entry(account.id, amount, "credit", "opening balance", _now())
    except (DomainError, ZoneInfoNotFoundError, ValueError) as exc:
        console.print(f"[red]{getattr(exc, 'description', exc)}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"created account {login} (id {account.id})")


@accounts_app.command("list")
def accounts_list(db: DbOption = None) -> None:
    """List accounts with their balances."""
    with _store(db) as store:
        table = Table("login", "id", "balance", "time zone", "test mode", "operator")
        for account, balance in store.list_accounts():
            table.add_row(
                account.login,
                str(account.id),
                format_money(balance),
                account.timezone,
                "yes" if account.test_mode else "",
                "yes" if account.is_operator else "",
            )
        console.print(table)


@accounts_app.command("apikey")
def accounts_apikey(login: str, db: DbOption = None) -> None:
    """Create an API key for the account and print it (it is shown only once)."""
    with _store(db) as store:
        account = _account(store, login)
        key = generate_api_key()
        store.add_api_key(account.id, api_key_hash(key), key[:8], _now())
        print(key)


@accounts_app.command("allow-ip")
def accounts_allow_ip(login: str, cidr: str, db: DbOption = None) -> None:
    """Add an IP or network to the account's allowlist (an empty list allows any IP)."""
    with _store(db) as store:
        account = _account(store, login)
        network = _cidr(cidr)
        added = store.allow_ip(account.id, network)
        console.print(f"{network} {'allowed' if added else 'was already allowed'} for {login}")


@accounts_app.command("deny-ip")
def accounts_deny_ip(login: str, cidr: str, db: DbOption = None) -> None:
    """Remove an IP or network from the account's allowlist."""
    with _store(db) as store:
        account = _account(store, login)
        network = _cidr(cidr)
        removed = store.deny_ip(account.id, network)
        console.print(f"{network} {'removed' if removed else 'was not on the list'} for {login}")


def _cidr(value: str) -> str:
    try:
        return parse_cidr(value)
    except DomainError as exc:
        console.print(f"[red]{exc.description}[/red]")
        raise typer.Exit(1) from exc


@accounts_app.command("callback")
def accounts_callback(
    login: str,
    url: Annotated[str, typer.Argument(help="http(s) URL; empty to switch callbacks off")],
    db: DbOption = None,
) -> None:
    """POST every status change of the account's messages to URL; prints the signing secret."""
    if url and not url.startswith(("http://", "https://")):
        console.print("[red]the callback URL must start with http:// or https://[/red]")
        raise typer.Exit(1)
    secret = secrets.token_hex(32) if url else ""
    with _store(db) as store:
        account = _account(store, login)
        store.set_callback(account.id, url, secret)
    if url:
        print(secret)
    else:
        console.print(f"callbacks switched off for {login}")


@accounts_app.command("credit")
def accounts_credit(login: str, amount: str, db: DbOption = None) -> None:
    """Add money to the account (a negative amount debits it)."""
    with _store(db) as store:
        account = _account(store, login)
        try:
            minor = to_minor(amount)
        except DomainError as exc:
            console.print(f"[red]{exc.description}[/red]")
            raise typer.Exit(1) from exc
        balance = store.add_ledger_entry(account.id, minor, "credit", "credit from CLI", _now())
        console.print(f"{login}: balance {format_money(balance)} {account.currency}")


@senders_app.command("approve")
def senders_approve(
    login: str,
    sender: str,
    revoke: Annotated[bool, typer.Option("--revoke", help="Withdraw the approval.")] = False,
    db: DbOption = None,
) -> None:
    """Approve a sender name the account asked for (senders.php add=1)."""
    from tidings.store.contacts import ContactStore

    with _store(db) as store:
        account = _account(store, login)
        if not ContactStore(store.db).approve_sender(account.id, sender.strip(), not revoke):
            console.print(f"[red]{login} has no sender {sender!r}[/red]")
            raise typer.Exit(1)
    console.print(f"{sender.strip()} {'pending' if revoke else 'approved'} for {login}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply database migrations up to the newest schema."""
    from tidings.store import migrate

    migrate.upgrade(_settings(db).database_url)
    console.print("database is up to date")


register_operator_commands(app)


def main() -> None:
    app()
